#!/bin/bash
# A set-user-ID server ignores the environment, LIBPROXYPROTO_CONFIG
# included: only the system configuration file counts. The server is a
# setuid-root copy of tests/trust/pp_server_linked (linked against the
# library: ld.so ignores LD_PRELOAD paths in secure mode), started by the
# unprivileged user nobody, so that the kernel sets AT_SECURE; the test
# checks that it did, in /proc/PID/auxv. The same copy started by root
# (no AT_SECURE) with the same environment is the control.
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/lib/trust.sh
. "$PP_LIB_DIR/trust.sh"
require_env PP_BUILDDIR PP_SRCDIR PP_SYSTEM_CONFIG
require_tool setpriv od pgrep

if [ "$(id -u)" != 0 ]; then
  [ "${CI:-}" = true ] && pp_fatal "the setuid test must run as root (CI=true)"
  echo "SKIP: the setuid test must run as root"
  exit 77
fi
# The secure run reads the system file. Absent, or as shipped (every key
# commented out), it changes nothing; an edited one would decide the outcome.
if [ -e "$PP_SYSTEM_CONFIG" ] &&
  ! cmp -s "$PP_SYSTEM_CONFIG" "$PP_SRCDIR/etc/libproxyproto.conf"; then
  echo "SKIP: $PP_SYSTEM_CONFIG on this machine differs from the shipped file"
  exit 77
fi

chmod 755 "$PP_TMP"
mkdir -m 755 "$PP_TMP/suid"
SERVER="$PP_TMP/suid/pp_server"
cp "$PP_BUILDDIR/tests/trust/pp_server_linked" "$SERVER"
chown root:root "$SERVER"
chmod 4755 "$SERVER"
evil="$PP_TMP/suid/evil.conf"
printf 'allow = 10.0.0.0/8\ndebug = 1\n' >"$evil"
chmod 644 "$evil"
ENVS=(LIBPROXYPROTO_CONFIG="$evil" LIBPROXYPROTO_ALLOW=10.0.0.0/8
  LIBPROXYPROTO_DEBUG=1)

# The auxiliary vector is pairs of the program's words (unsigned long): 4
# bytes each for a 32-bit program (i386, armhf), 8 for a 64-bit one. The
# ELF class (byte 4 of the file: 1 = 32-bit, 2 = 64-bit) says which.
case $(od -An -j4 -N1 -t u1 "$SERVER" | tr -d ' ') in
  1) AUXV_WORD=4 ;;
  2) AUXV_WORD=8 ;;
  *) pp_fatal "$SERVER: not an ELF file" ;;
esac

# at_secure PID: the AT_SECURE (23) entry of the process's auxiliary vector.
at_secure() {
  od -An -v -t "u$AUXV_WORD" -w$((2 * AUXV_WORD)) "/proc/$1/auxv" |
    awk '$1 == 23 { print $2 }'
}

# run_server NAME AS-NOBODY: starts the copy, one connection from 127.0.0.1
# with a header; prints the outcome. Leaves AT_SECURE in SECURE_FLAG.
run_server() {
  local name=$1 as_nobody=$2 out="$PP_TMP/$1" spid sport
  local -a prefix=()
  [ "$as_nobody" = yes ] && prefix=(setpriv --reuid=65534 --regid=65534 --clear-groups)
  pp_bg spid timeout 30 env "${TR_CLEAN[@]}" "${ENVS[@]}" "${prefix[@]}" \
    "$SERVER" --count 1 >"$out" 2>"$out.err"
  pp_wait_for_line "$out" '^port [0-9]+$' "$PP_DEADLINE" "$spid" ||
    pp_fatal "$name: server did not start: $(cat "$out.err")"
  sport=$(sed -n 's/^port //p' "$out")
  # timeout -> env -> (setpriv ->) the server: find the server's pid.
  local server_pid
  server_pid=$(pp_pgrep -P "$spid" -n 2>/dev/null || true)
  SECURE_FLAG='?'
  for _ in 1 2 3; do
    [ -n "$server_pid" ] || break
    [ "$(readlink "/proc/$server_pid/exe" 2>/dev/null)" = "$SERVER" ] && break
    server_pid=$(pp_pgrep -P "$server_pid" -n 2>/dev/null || true)
  done
  [ -n "$server_pid" ] && SECURE_FLAG=$(at_secure "$server_pid")
  tr_send "$name" "$sport"
  pp_wait_exit "$spid" || true
}

run_server control no
pp_expect_eq "control (root, no AT_SECURE): AT_SECURE is 0" "$SECURE_FLAG" 0
pp_expect_eq "control: LIBPROXYPROTO_ALLOW=10.0.0.0/8 honoured, header passes through" \
  "$(tr_outcome "$PP_TMP/control")" passed
pp_expect_match "control: debug output on stderr" "$(cat "$PP_TMP/control.err")" \
  'passed through: peer not in allow'

run_server setuid yes
pp_expect_eq "setuid run by nobody: AT_SECURE is 1" "$SECURE_FLAG" 1
pp_expect_eq "setuid: environment and LIBPROXYPROTO_CONFIG ignored, header honoured" \
  "$(tr_outcome "$PP_TMP/setuid")" proxied
pp_expect_eq "setuid: LIBPROXYPROTO_DEBUG ignored, nothing on stderr" \
  "$(cat "$PP_TMP/setuid.err")" ""

pp_finish
