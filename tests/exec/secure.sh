#!/bin/bash
# The hand-over cannot be forged into a privileged program: a set-user-ID
# (and a set-group-ID) copy of exec_reporter_linked, started on a proxied
# connection by exec_tester running as the unprivileged user nobody, runs
# with AT_SECURE and must ignore the hand-over (the real peer on 0 and 1)
# and still not show the variable. The same copy started by a root tester
# (no AT_SECURE) is the control: it gets the claimed address.
# spid, sport are set through pp_start_preloaded.
# shellcheck disable=SC2154
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/exec/common_exec.sh
. "$(cd "$(dirname "$0")" && pwd)/common_exec.sh"
require_tool setpriv

if [ "$(id -u)" != 0 ]; then
  [ "${CI:-}" = true ] && pp_fatal "the setuid test must run as root (CI=true)"
  echo "SKIP: the setuid test must run as root"
  exit 77
fi

chmod 755 "$PP_TMP"
mkdir -m 755 "$PP_TMP/priv"
SUID="$PP_TMP/priv/reporter_suid"
SGID="$PP_TMP/priv/reporter_sgid"
cp "$PP_EXEC/exec_reporter_linked" "$SUID"
cp "$PP_EXEC/exec_reporter_linked" "$SGID"
chown root:root "$SUID" "$SGID"
chmod 4755 "$SUID"
chmod 2755 "$SGID"
want="$CLAIM_ADDR:$CLAIM_PORT"

# run NAME REPORTER AS-NOBODY: one tester (execve), one claiming client.
# As nobody, the tester is started through setpriv (under the library too,
# which does nothing there).
run() {
  local name=$1 reporter=$2 as_nobody=$3
  local -a command=("$EXEC_TESTER")
  [ "$as_nobody" = yes ] &&
    command=(setpriv --reuid=65534 --regid=65534 --clear-groups "$EXEC_TESTER")
  pp_start_preloaded "${command[0]}" 30 spid sport "$PP_TMP/$name.out" -- \
    "${command[@]:1}" --via execve --reporter "$reporter"
  ex_claiming_client "$name" "$sport"
  pp_wait_exit "$spid" 20 >/dev/null || echo "# $name: tester did not exit"
  ex_report "$PP_TMP/$name.out.err"
}

r=$(run control "$SUID" no)
pp_expect_eq "control (root starts the setuid copy, no AT_SECURE): secure=0" \
  "$(ex_field "$r" secure)" 0
pp_expect_eq "control: the claimed address on 0" "$(ex_field "$r" fd0)" "$want"
pp_expect_eq "control: the variable is not visible" "$(ex_field "$r" env)" clean

for kind in suid sgid; do
  reporter=$SUID
  [ "$kind" = sgid ] && reporter=$SGID
  r=$(run "$kind" "$reporter" yes)
  pp_expect_eq "$kind copy started by nobody: AT_SECURE is set" \
    "$(ex_field "$r" secure)" 1
  pp_expect_match "$kind copy: the hand-over is ignored, the real peer on 0" \
    "$(ex_field "$r" fd0)" '^127\.0\.0\.1:[0-9]+$'
  pp_expect_match "$kind copy: the real peer on 1" \
    "$(ex_field "$r" fd1)" '^127\.0\.0\.1:[0-9]+$'
  pp_expect_eq "$kind copy: the variable is removed there too" \
    "$(ex_field "$r" env)" clean
  [ "$PP_FAIL" -eq 0 ] || pp_dump "$PP_TMP/$kind.out.err" "$PP_TMP/$kind.cerr"
done

pp_finish
