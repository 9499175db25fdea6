#!/bin/bash
# The shell tests' helpers (sourced, not run): one library for every
# script under tests/. Source this file; it sources the helpers for
# preloading (preload.sh), HAProxy (haproxy.sh) and servers' reports
# (report.sh) next to it. Two more are sourced by the scripts that need
# them: servers.sh (load_server, load_client, fd_bookkeeping) and trust.sh
# (one connection with a header claiming 8.8.8.8, classified).
#
# Here:
#   require_tool NAME...      exit 77 (skip) if a tool is missing; 99 under CI=true
#   require_openbsd_nc        the same for nc being netcat-openbsd
#   require_env VAR...        exit 99 if the harness did not export VAR
#   pp_fatal MESSAGE          hard error: exit 99
#   pp_ok / pp_not_ok DESC    record one check result
#   pp_check DESC CMD...      run CMD, record ok if it succeeds
#   pp_expect_eq DESC GOT WANT
#   pp_expect_match DESC GOT EXTENDED-REGEX
#   pp_finish                 print the summary and exit 0 or 1
#   pp_bg VAR CMD...          start CMD in the background, record its pid in VAR
#   pp_stop PID               kill and reap one background process
#   pp_wait_exit PID [SECS]   wait (bounded) for a background process to exit
#   pp_wait_for_line FILE REGEX [SECS [PID]]  wait (bounded) for a line in FILE
#   pp_free_port              print a free loopback port
#   pp_wait_for_port PORT [PID [SECS]]  wait (bounded) until a TCP port listens
#   pp_run_client[_cport|_hex] NAME PAYLOAD CMD...  one bounded client run
#   pp_hex / pp_unhex / pp_words
#   pp_have_ipv6 / pp_require_ipv6
#   pp_dump FILE...           show files as diagnostics
# preload.sh:  pp_preload_value, pp_start_preloaded, pp_start_server,
#              pp_bg_preloaded
# haproxy.sh:  pp_require_haproxy, pp_haproxy_config, pp_haproxy_start
# report.sh:   pp_conn_line, pp_field, kv, kv_rest, ms_below, ms_between
#
# Every background process is killed and reaped in the EXIT trap, and the
# temporary directory $PP_TMP is removed there.
#
# LD_PRELOAD is never set for the test script itself: only on the command
# line of the process under test.
#
# Variables set here are used by the scripts that source this file.
# shellcheck disable=SC2034

set -eu

PP_PASS=0
PP_FAIL=0
PP_PIDS=()
PP_TMP=
PP_DEADLINE=${PP_DEADLINE:-10}

pp_fatal() {
  echo "ERROR: $*" >&2
  echo "Bail out! $*"
  exit 99
}

require_env() {
  local v
  for v in "$@"; do
    if [ -z "${!v:-}" ]; then
      pp_fatal "$v is not set; run this test through 'make check'"
    fi
  done
}

require_tool() {
  local t missing=
  for t in "$@"; do
    if ! command -v "$t" >/dev/null 2>&1; then
      missing="$missing $t"
    fi
  done
  [ -z "$missing" ] && return 0
  if [ "${CI:-}" = true ]; then
    echo "########################################################" >&2
    echo "## ERROR: required tool(s) missing:$missing" >&2
    echo "## CI=true: a missing tool is a hard error, not a skip." >&2
    echo "########################################################" >&2
    echo "Bail out! missing tool(s):$missing (CI=true)"
    exit 99
  fi
  echo "SKIP: required tool(s) missing:$missing"
  exit 77
}

# require_openbsd_nc: nc must be netcat-openbsd (-N, -s, -p, -z, -d as used
# here); another netcat counts as a missing tool.
require_openbsd_nc() {
  require_tool nc
  if nc -h 2>&1 | grep -q 'OpenBSD netcat'; then
    return 0
  fi
  if [ "${CI:-}" = true ]; then
    echo "## ERROR: nc is not netcat-openbsd (CI=true: not skipping)" >&2
    echo "Bail out! nc is not netcat-openbsd (CI=true)"
    exit 99
  fi
  echo "SKIP: nc is not netcat-openbsd"
  exit 77
}

pp_cleanup() {
  local rc=$? pid
  set +e
  trap - ERR
  for pid in "${PP_PIDS[@]}"; do
    [ -n "$pid" ] || continue
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  PP_PIDS=()
  if [ -n "$PP_TMP" ] && [ -d "$PP_TMP" ]; then
    rm -rf "$PP_TMP"
  fi
  exit "$rc"
}

pp_on_error() {
  local rc=$? line=$1
  echo "ERROR: unexpected failure (status $rc) at line $line of $0" >&2
  echo "Bail out! unexpected failure at line $line"
  exit 99
}

trap pp_cleanup EXIT
trap 'pp_on_error $LINENO' ERR
set -E

# The library's own settings come from each test's command lines only.
unset LIBPROXYPROTO_DEBUG LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER \
  LIBPROXYPROTO_VERSION LIBPROXYPROTO_TIMEOUT LIBPROXYPROTO_ADDR \
  LIBPROXYPROTO_PORT LIBPROXYPROTO_ALLOW LIBPROXYPROTO_PORTS \
  LIBPROXYPROTO_PROGRAMS LIBPROXYPROTO_UDP LIBPROXYPROTO_UDP_REPLY_ENTRIES \
  LIBPROXYPROTO_UDP_REPLY_SECONDS LIBPROXYPROTO_KEEP_HEADER LIBPROXYPROTO_GETSOCKNAME \
  LIBPROXYPROTO_TLVS LIBPROXYPROTO_COMMAND LIBPROXYPROTO_DESTINATION_ADDR \
  LIBPROXYPROTO_DESTINATION_PORT LIBPROXYPROTO_HANDOVER

PP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pptest.XXXXXX") || pp_fatal "mktemp -d failed"

pp_ok() {
  PP_PASS=$((PP_PASS + 1))
  echo "ok - $*"
}

pp_not_ok() {
  PP_FAIL=$((PP_FAIL + 1))
  echo "not ok - $*"
}

# pp_check DESC CMD...: ok when CMD exits 0.
pp_check() {
  local desc=$1
  shift
  if "$@"; then pp_ok "$desc"; else pp_not_ok "$desc"; fi
}

# pp_expect_eq DESC GOT WANT
pp_expect_eq() {
  if [ "$2" = "$3" ]; then
    pp_ok "$1"
  else
    pp_not_ok "$1"
    echo "#   expected: $3"
    echo "#   got:      $2"
  fi
}

# pp_expect_match DESC GOT EXTENDED-REGEX
pp_expect_match() {
  if printf '%s\n' "$2" | grep -Eq -- "$3"; then
    pp_ok "$1"
  else
    pp_not_ok "$1"
    echo "#   expected to match: $3"
    echo "#   got:               $2"
  fi
}

pp_finish() {
  echo "$PP_PASS passed, $PP_FAIL failed"
  if [ "$PP_FAIL" -ne 0 ] || [ "$PP_PASS" -eq 0 ]; then
    exit 1
  fi
  exit 0
}

# pp_bg VAR CMD...: start CMD in the background; its pid goes into VAR and into
# the list the EXIT trap kills. Redirections are the caller's business: wrap
# the command (e.g. in a function or sh -c) if it needs them.
pp_bg() {
  local __var=$1
  shift
  "$@" &
  local __pid=$!
  PP_PIDS+=("$__pid")
  printf -v "$__var" '%s' "$__pid"
}

pp_forget() {
  local i
  for i in "${!PP_PIDS[@]}"; do
    if [ "${PP_PIDS[$i]}" = "$1" ]; then
      unset 'PP_PIDS[i]'
    fi
  done
  PP_PIDS=("${PP_PIDS[@]}")
}

# pp_stop PID: kill and reap one background process.
pp_stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  pp_forget "$1"
}

# pp_wait_exit PID [SECS]: wait up to SECS (default $PP_DEADLINE) for PID to
# exit on its own. Returns 0 if it did (and reaps it), 1 on timeout (the
# process is then killed).
pp_wait_exit() {
  local pid=$1 secs=${2:-$PP_DEADLINE} end
  end=$((SECONDS + secs))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$end" ]; then
      echo "# process $pid did not exit within ${secs}s; killing it"
      pp_stop "$pid"
      return 1
    fi
    sleep 0.05
  done
  wait "$pid" 2>/dev/null || true
  pp_forget "$pid"
  return 0
}

# pp_wait_for_line FILE EXTENDED-REGEX [SECS [PID]]: wait until FILE has a
# matching line. Returns 1 on timeout, or as soon as PID (if given) has
# exited without the line appearing.
pp_wait_for_line() {
  local file=$1 re=$2 secs=${3:-$PP_DEADLINE} pid=${4:-} end
  end=$((SECONDS + secs))
  until [ -f "$file" ] && grep -Eq -- "$re" "$file"; do
    if [ "$SECONDS" -ge "$end" ]; then
      echo "# timed out after ${secs}s waiting for /$re/ in $file"
      return 1
    fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      grep -Eq -- "$re" "$file" 2>/dev/null && return 0
      echo "# process $pid exited before /$re/ appeared in $file"
      return 1
    fi
    sleep 0.05
  done
  return 0
}

# pp_pgrep ARGS...: pgrep, which is a tool, not under test: it runs without
# the sanitizer runtime that sanitizer builds preload into every test
# process (procps hangs under ASan, in textdomain() before main), and
# bounded.
pp_pgrep() {
  timeout 10 env -u LD_PRELOAD pgrep "$@"
}

# PP_UNPRELOADED CMD...: CMD without LD_PRELOAD, for a client that is not
# under test: the sanitizer stage preloads its runtime into every program
# of the tests, and some (procps's pgrep, curl with many at once) hang in
# it on a lock and never reach their own timeouts.
PP_UNPRELOADED=(env -u LD_PRELOAD)

# pp_children PID: the pids of PID's children, a line each.
pp_children() {
  pp_pgrep -P "$1" 2>/dev/null
}

# pp_listens PORT PID: whether process PID, or one of its children (PID may
# be the `timeout` wrapper), has a TCP socket listening on PORT. Read from
# /proc, never by connecting: pp_free_port's port may meanwhile belong to
# another test's server, which a probe connection would reach instead.
pp_listens() {
  local port=$1 pid=$2 p inodes hex
  inodes=$(for p in "$pid" $(pp_children "$pid"); do
    ls -l "/proc/$p/fd" 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\].*/\1/p'
  done | tr '\n' ' ')
  [ -n "$inodes" ] || return 1
  hex=$(printf ':%04X' "$port")
  cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
    awk -v h="$hex" -v ino=" $inodes" '$2 ~ h"$" && $4 == "0A" && index(ino, " " $10 " ") { f = 1 }
      END { exit !f }'
}

# pp_free_port: a loopback port that was free a moment ago.
pp_free_port() {
  local line
  line=$("$PP_HELPERS/pp_server" --free-port) || pp_fatal "pp_server --free-port failed"
  case $line in
    "port "[0-9]*) echo "${line#port }" ;;
    *) pp_fatal "pp_server --free-port printed '$line'" ;;
  esac
}

# pp_wait_for_port PORT [PID [SECS]]: wait (bounded, default 20 s) until a
# TCP socket listens on PORT (IPv4 or IPv6). Returns 1 on timeout, or as
# soon as PID (if given) has exited.
pp_wait_for_port() {
  local hex end pid=${2:-} secs=${3:-20}
  hex=$(printf ':%04X' "$1")
  end=$((SECONDS + secs))
  until cat /proc/net/tcp /proc/net/tcp6 2>/dev/null |
    awk -v h="$hex" '$2 ~ h"$" && $4 == "0A" { f = 1 } END { exit !f }'; do
    if [ "$SECONDS" -ge "$end" ]; then
      return 1
    fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      return 1
    fi
    sleep 0.05
  done
}

# pp_words: stdin's words on one line, separated by single spaces.
pp_words() {
  tr -s ' \t\n' '   ' | sed 's/^ //; s/ $//'
}

# pp_hex: hex dump of stdin, lower case, no separators, no newline.
pp_hex() {
  od -An -v -tx1 | tr -d ' \n'
}

# pp_run_client NAME PAYLOAD CMD...: run CMD (bounded by timeout) with PAYLOAD
# on stdin; stdout goes to $PP_TMP/NAME.cout, stderr to $PP_TMP/NAME.cerr.
# The exit status is left in PP_RC (124 means it timed out).
PP_RC=0
pp_run_client() {
  local name=$1 payload=$2
  shift 2
  PP_RC=0
  printf '%s' "$payload" |
    timeout "$PP_DEADLINE" "$@" >"$PP_TMP/$name.cout" 2>"$PP_TMP/$name.cerr" ||
    PP_RC=$?
}

# pp_run_client_cport NAME PAYLOAD CMD...: as pp_run_client, with every
# argument CPORT replaced by a free port for the client to bind (nc -p). If the
# client could not bind it (another process took it meanwhile), it is run
# again with another port, up to 5 times. The port used is left in PP_CPORT.
PP_CPORT=
pp_run_client_cport() {
  local name=$1 payload=$2 try a
  shift 2
  local -a cmd
  for try in 1 2 3 4 5; do
    PP_CPORT=$(pp_free_port)
    cmd=()
    for a in "$@"; do
      [ "$a" = CPORT ] && a=$PP_CPORT
      cmd+=("$a")
    done
    pp_run_client "$name" "$payload" "${cmd[@]}"
    if [ "$PP_RC" -ne 0 ] && [ "$try" -lt 5 ] &&
      grep -q 'Address already in use' "$PP_TMP/$name.cerr"; then
      echo "# $name: source port $PP_CPORT was taken meanwhile; trying another"
      continue
    fi
    return 0
  done
}

# pp_run_client_hex NAME HEX CMD...: as pp_run_client, with the bytes given
# in hex on stdin (they may contain NUL bytes).
pp_run_client_hex() {
  local name=$1 hex=$2
  shift 2
  PP_RC=0
  pp_unhex "$hex" |
    timeout "$PP_DEADLINE" "$@" >"$PP_TMP/$name.cout" 2>"$PP_TMP/$name.cerr" ||
    PP_RC=$?
}

# pp_unhex HEX: write the bytes HEX stands for to stdout.
pp_unhex() {
  local fmt
  fmt=$(printf '%s' "$1" | sed 's/\(..\)/\\x\1/g')
  # shellcheck disable=SC2059
  printf "$fmt"
}

# pp_have_ipv6: true when ::1 can be bound.
pp_have_ipv6() {
  "$PP_HELPERS/pp_server" --family 6 --free-port >/dev/null 2>&1
}

# pp_require_ipv6: return 0 if ::1 works; otherwise 1 (skip those cases), or a
# hard error under CI=true.
pp_require_ipv6() {
  if pp_have_ipv6; then
    return 0
  fi
  if [ "${CI:-}" = true ]; then
    pp_fatal "the IPv6 loopback ::1 is not usable (CI=true: not skipping)"
  fi
  echo "# SKIP: IPv6 loopback ::1 not usable; skipping the IPv6 cases"
  return 1
}

# pp_dump FILE...: show files as diagnostics (after a failed check).
pp_dump() {
  local f
  for f in "$@"; do
    [ -f "$f" ] || continue
    echo "# --- ${f#"$PP_TMP"/}"
    sed 's/^/#   /' "$f"
  done
}

# The helpers of one concern each, next to this file.
PP_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib/preload.sh
. "$PP_LIB_DIR/preload.sh"
# shellcheck source=tests/lib/haproxy.sh
. "$PP_LIB_DIR/haproxy.sh"
# shellcheck source=tests/lib/report.sh
. "$PP_LIB_DIR/report.sh"
