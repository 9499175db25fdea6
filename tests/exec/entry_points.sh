#!/bin/bash
# A proxied connection survives exec: exec_tester accepts it under the
# library, puts it on 0 and 1 and starts exec_reporter through each of the
# eleven exec entry points, once with its own environment and once with a
# fresh one (LD_PRELOAD and PATH only: no setting reaches the reporter).
# The reporter must see the claimed address on 0 and 1 and must not see the
# hand-over variable; a reporter it starts in turn, which inherits no
# connection, must get neither a record nor the variable. Then the
# negative cases: a connection left close-on-exec hands nothing over; a
# stale hand-over naming 0 and 1 with an earlier socket's identity attaches
# nothing to the new socket there, while the same value with the new
# socket's identity does (the identity is what decides). And a program in
# between that clears the environment (env -i) passes the record on.
# spid, sport are set through pp_start_preloaded.
# shellcheck disable=SC2154
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/exec/common_exec.sh
. "$(cd "$(dirname "$0")" && pwd)/common_exec.sh"

want="$CLAIM_ADDR:$CLAIM_PORT"
export PATH="$PP_EXEC:$PATH"  # execvp, execlp, execvpe, posix_spawnp

# run_tester NAME TESTER-ARGS...: one exec_tester, one claiming client;
# leaves the reporter's lines in $PP_TMP/NAME.out.err.
run_tester() {
  local name=$1
  shift
  pp_start_preloaded "$EXEC_TESTER" 30 spid sport "$PP_TMP/$name.out" -- \
    --reporter "$EXEC_REPORTER" "$@"
  ex_claiming_client "$name" "$sport"
  pp_wait_exit "$spid" 20 >/dev/null || echo "# $name: tester did not exit"
}

for via in execve execv execvp execvpe execl execlp execle fexecve execveat \
  posix_spawn posix_spawnp; do
  for env in own fresh; do
    name=$via-$env
    extra=()
    [ "$env" = fresh ] && extra=(--fresh-env)
    run_tester "$name" --via "$via" "${extra[@]}" -- --chain
    r=$(ex_report "$PP_TMP/$name.out.err")
    r2=$(ex_report "$PP_TMP/$name.out.err" 2)
    pp_expect_eq "$via ($env environment): getpeername(0) in the new program" \
      "$(ex_field "$r" fd0)" "$want"
    pp_expect_eq "$via ($env environment): getpeername(1) in the new program" \
      "$(ex_field "$r" fd1)" "$want"
    pp_expect_eq "$via ($env environment): the client got the report" \
      "$(ex_field "$(grep '^report' "$PP_TMP/$name.cout" | head -n1)" fd0)" "$want"
    pp_expect_eq "$via ($env environment): the variable is not visible" \
      "$(ex_field "$r" env)" clean
    pp_expect_match "$via ($env environment): the next program inherits no connection" \
      "$r2" '^report gen=2 secure=0 env=clean$'
    [ "$PP_FAIL" -eq 0 ] || { pp_dump "$PP_TMP/$name.out.err" "$PP_TMP/$name.cerr"; }
  done
done

# An IPv6 claim (on this IPv4 listener the record is an AF_INET6 address).
name=ipv6
pp_start_preloaded "$EXEC_TESTER" 30 spid sport "$PP_TMP/$name.out" -- \
  --reporter "$EXEC_REPORTER" --via execve
ex_claiming_client "$name" "$sport" LIBPROXYPROTO_ADDR=2001:db8::7
pp_wait_exit "$spid" 20 >/dev/null || echo "# $name: tester did not exit"
r=$(ex_report "$PP_TMP/$name.out.err")
pp_expect_eq "an IPv6 claim: getpeername(0) in the new program" \
  "$(ex_field "$r" fd0)" "[2001:db8::7]:$CLAIM_PORT"

# A program in between that clears the environment: env -i, itself under
# the library, executes the reporter with LD_PRELOAD alone; the record goes
# on through env's own execvp.
name=envclear
pp_start_preloaded "$EXEC_TESTER" 30 spid sport "$PP_TMP/$name.out" -- \
  --reporter "$(command -v env)" --via execve -- -i \
  LD_PRELOAD="$LIBPROXYPROTO_SO${LD_PRELOAD:+:$LD_PRELOAD}" \
  ${ASAN_OPTIONS:+ASAN_OPTIONS="$ASAN_OPTIONS"} \
  ${UBSAN_OPTIONS:+UBSAN_OPTIONS="$UBSAN_OPTIONS"} "$EXEC_REPORTER"
ex_claiming_client "$name" "$sport"
pp_wait_exit "$spid" 20 >/dev/null || echo "# $name: tester did not exit"
r=$(ex_report "$PP_TMP/$name.out.err")
pp_expect_eq "through env -i: getpeername(0) in the program it starts" \
  "$(ex_field "$r" fd0)" "$want"
pp_expect_eq "through env -i: the variable is not visible" "$(ex_field "$r" env)" clean

for via in execve posix_spawn; do
  name=cloexec-$via
  run_tester "$name" --via "$via" --mode cloexec
  r=$(ex_report "$PP_TMP/$name.out.err")
  pp_expect_match "close-on-exec ($via): the reporter ran" "$r" '^report gen=1 '
  pp_expect_eq "close-on-exec ($via): no connection, no variable in the new program" \
    "$r" "report gen=1 secure=0 env=clean"
done

# stale/forged: the first connection claims an address, the second (plain)
# is the one on 0 and 1.
for mode in stale forged; do
  name=$mode
  pp_start_preloaded "$EXEC_TESTER" 30 spid sport "$PP_TMP/$name.out" -- \
    --reporter "$EXEC_REPORTER" --mode "$mode"
  [ "$mode" = stale ] && ex_claiming_client "$name-first" "$sport"
  ex_plain_client "$name" "$sport"
  pp_wait_exit "$spid" 20 >/dev/null || echo "# $name: tester did not exit"
  r=$(ex_report "$PP_TMP/$name.out.err")
  fd0=$(ex_field "$r" fd0)
  if [ "$mode" = stale ]; then
    pp_expect_match "stale hand-over on a reused number: the real peer on 0" \
      "$fd0" '^127\.0\.0\.1:[0-9]+$'
    pp_expect_match "stale hand-over on a reused number: the real peer on 1" \
      "$(ex_field "$r" fd1)" '^127\.0\.0\.1:[0-9]+$'
  else
    pp_expect_eq "hand-over naming the socket itself: its address on 0" \
      "$fd0" "198.51.100.9:999"
  fi
  pp_expect_eq "$mode: the variable is not visible" "$(ex_field "$r" env)" clean
  [ "$PP_FAIL" -eq 0 ] || pp_dump "$PP_TMP/$name.out.err"
done

pp_finish
