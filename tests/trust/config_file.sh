#!/bin/bash
# The configuration file (LIBPROXYPROTO_CONFIG): its keys, the environment
# overriding it key by key, and unusable files failing closed, reported
# once: on stderr under debug, to syslog (/dev/log) otherwise.
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/lib/trust.sh
. "$PP_LIB_DIR/trust.sh"

conf() {  # conf NAME LINES...: a configuration file; prints its path
  local f="$PP_TMP/$1.conf"
  shift
  printf '%s\n' "$@" >"$f"
  echo "$f"
}

# Keys read from the file.
f=$(conf deny "# trusted proxies" "allow = 10.0.0.0/8   # not us")
tr_case "file allow=10.0.0.0/8" passed 127.0.0.1 LIBPROXYPROTO_CONFIG="$f"
tr_case "file allow=10.0.0.0/8, LIBPROXYPROTO_ALLOW=127.0.0.1 overrides it" \
  proxied 127.0.0.1 LIBPROXYPROTO_CONFIG="$f" LIBPROXYPROTO_ALLOW=127.0.0.1
f=$(conf trust "allow = 127.0.0.1")
tr_case "file allow=127.0.0.1" proxied 127.0.0.1 LIBPROXYPROTO_CONFIG="$f"
tr_case "file allow=127.0.0.1, LIBPROXYPROTO_ALLOW=10.0.0.0/8 overrides it" \
  passed 127.0.0.1 LIBPROXYPROTO_CONFIG="$f" LIBPROXYPROTO_ALLOW=10.0.0.0/8
f=$(conf mustuse "allow = 127.0.0.1" "must_use_protocol_header = 1" "debug = 1")
tr_case "file must_use_protocol_header and debug, untrusted peer" dropped \
  127.0.0.2 LIBPROXYPROTO_CONFIG="$f"
tr_case "file must_use_protocol_header, LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER=0" \
  passed 127.0.0.2 LIBPROXYPROTO_CONFIG="$f" LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER=0
f=$(conf v2only "version = 2")
tr_case "file version=2 (a v1 header is data)" passed 127.0.0.1 LIBPROXYPROTO_CONFIG="$f"
tr_case "file version=2, LIBPROXYPROTO_VERSION=1" proxied 127.0.0.1 \
  LIBPROXYPROTO_CONFIG="$f" LIBPROXYPROTO_VERSION=1
printf 'allow = 127.0.0.1\r\n\r\n# crlf\r\n' >"$PP_TMP/crlf.conf"
tr_case "CR LF file, allowed peer" proxied 127.0.0.1 LIBPROXYPROTO_CONFIG="$PP_TMP/crlf.conf"
tr_case "CR LF file, other peer" passed 127.0.0.2 LIBPROXYPROTO_CONFIG="$PP_TMP/crlf.conf"
port=$(pp_free_port)
f=$(conf ports "ports = $port")
tr_case "file ports=$port, listener on it" proxied 127.0.0.1 \
  LIBPROXYPROTO_CONFIG="$f" -- --port "$port"
f=$(conf otherports "ports = 1")
tr_case "file ports=1, listener elsewhere" passed 127.0.0.1 LIBPROXYPROTO_CONFIG="$f"

# Unusable files fail closed and are reported once, with the reason.
# bad_file DESC REGEX ENV...: two connections from a peer every default
# would trust; both must pass through, and REGEX appear once on stderr.
bad_file() {
  local desc=$1 re=$2 spid sport out
  shift 2
  TR_N=$((TR_N + 1))
  out="$PP_TMP/case$TR_N"
  pp_start_server spid sport "$out" "${TR_CLEAN[@]}" LIBPROXYPROTO_DEBUG=1 "$@" \
    -- --count 2
  tr_send "case$TR_N-a" "$sport"
  tr_send "case$TR_N-b" "$sport"
  pp_wait_exit "$spid" || true
  pp_expect_eq "$desc: first connection passes through" "$(tr_outcome "$out" 1)" passed
  pp_expect_eq "$desc: second connection passes through" "$(tr_outcome "$out" 2)" passed
  pp_expect_eq "$desc: reported exactly once" "$(grep -Ec -- "$re" "$out.err")" 1
}
f=$(conf unknown "debug = 1" "alow = 127.0.0.1")
bad_file "unknown key" "$f, line 2: unknown key; no proxy is trusted" LIBPROXYPROTO_CONFIG="$f"
f=$(conf malformed "allow 127.0.0.1")
bad_file "line without =" "$f, line 1: not a .key = value. line" LIBPROXYPROTO_CONFIG="$f"
bad_file "missing file named by LIBPROXYPROTO_CONFIG" \
  "$PP_TMP/none.conf is missing" LIBPROXYPROTO_CONFIG="$PP_TMP/none.conf"
mkdir "$PP_TMP/dir.conf"
bad_file "a directory" "dir.conf is (not a regular file|unreadable)" \
  LIBPROXYPROTO_CONFIG="$PP_TMP/dir.conf"
{ echo "allow = 127.0.0.1"; head -c 70000 /dev/zero | tr '\0' '#'; echo; } >"$PP_TMP/big.conf"
bad_file "a file over 64 KiB" "big.conf is larger than 65536 bytes" \
  LIBPROXYPROTO_CONFIG="$PP_TMP/big.conf"
f=$(conf badallow "allow = 127.0.0.1/8")
bad_file "allow with host bits in the file" 'allow="127.0.0.1/8" is not a list' \
  LIBPROXYPROTO_CONFIG="$f"
# A FIFO must not block the first accept().
mkfifo "$PP_TMP/fifo.conf"
bad_file "a FIFO" "fifo.conf is not a regular file" LIBPROXYPROTO_CONFIG="$PP_TMP/fifo.conf"
f=$(conf badtimeout "timeout = soon")
TR_N=$((TR_N + 1))
pp_start_server spid sport "$PP_TMP/case$TR_N" "${TR_CLEAN[@]}" LIBPROXYPROTO_DEBUG=1 \
  LIBPROXYPROTO_CONFIG="$f" -- --count 1
tr_send "case$TR_N" "$sport"
pp_wait_exit "$spid" || true
pp_expect_eq "timeout=soon: the default is used" "$(tr_outcome "$PP_TMP/case$TR_N")" proxied
pp_expect_eq "timeout=soon: reported once" \
  "$(grep -c 'timeout="soon" is not a number from 0 to 600000; using 3000' "$PP_TMP/case$TR_N.err")" 1

# Without debug, the report goes to syslog and nothing to stderr. The test
# runs the server in a mount namespace whose /dev is a fresh tmpfs holding
# /dev/null and /dev/log, a link to a datagram socket that socat reads.
syslog_case() {
  local spid sport out sock rpid
  if ! unshare -m true 2>/dev/null || ! command -v socat >/dev/null; then
    if [ "${CI:-}" = true ]; then
      pp_fatal "unshare -m (root) and socat are needed for the syslog case (CI=true)"
    fi
    echo "# SKIP: unshare -m or socat unavailable: syslog case skipped"
    return 0
  fi
  out="$PP_TMP/syslog"
  sock="$PP_TMP/log.sock"
  f=$(conf syslog "allow = not-an-address")
  pp_bg rpid timeout 30 socat -u "UNIX-RECV:$sock" "OPEN:$out.log,creat,append"
  for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
  # shellcheck disable=SC2016
  pp_bg spid timeout 30 unshare -m sh -c '
      mount -t tmpfs none /dev && mknod -m 666 /dev/null c 1 3 &&
      ln -s "$1" /dev/log && shift && exec "$@"' sh "$sock" \
    env "${TR_CLEAN[@]}" LIBPROXYPROTO_CONFIG="$f" LD_PRELOAD="$(pp_preload_value "$LIBPROXYPROTO_SO")" \
    "$PP_HELPERS/pp_server" --count 2 >"$out" 2>"$out.err"
  pp_wait_for_line "$out" '^port [0-9]+$' "$PP_DEADLINE" "$spid" ||
    pp_fatal "pp_server did not start in the namespace: $(cat "$out.err")"
  sport=$(sed -n 's/^port //p' "$out")
  tr_send syslog-a "$sport"
  tr_send syslog-b "$sport"
  pp_wait_exit "$spid" || true
  pp_wait_for_line "$out.log" 'allow="not-an-address"' 5 || true
  sleep 0.2
  pp_stop "$rpid"
  pp_expect_eq "syslog: connections pass through" \
    "$(tr_outcome "$out" 1) $(tr_outcome "$out" 2)" "passed passed"
  pp_expect_eq "syslog: one message" "$(grep -c . "$out.log" 2>/dev/null || true)" 1
  pp_expect_match "syslog: message format" "$(cat "$out.log" 2>/dev/null)" \
    '^<28>libproxyproto\[[0-9]+\]: pp_server: allow="not-an-address" is not a list of addresses and prefixes; no proxy is trusted$'
  pp_expect_eq "syslog: nothing on stderr" "$(cat "$out.err")" ""
}
syslog_case

pp_finish
