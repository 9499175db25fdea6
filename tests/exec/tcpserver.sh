#!/bin/bash
# ucspi-tcp's tcpserver under the library, running exec_reporter on each
# connection: tcpserver accepts (the library reads the header and rewrites
# accept()'s address, from which tcpserver sets TCPREMOTEIP and
# TCPREMOTEPORT), forks, puts the connection on 0 and 1 and executes the
# program, which reports getpeername() of both and the two variables. All
# must show the claimed address; a plain client its real one; behind
# HAProxy send-proxy-v2 the client's own source port.
# tpid, hpid are set through pp_bg.
# shellcheck disable=SC2154
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/exec/common_exec.sh
. "$(cd "$(dirname "$0")" && pwd)/common_exec.sh"
require_tool tcpserver haproxy

started=0
for try in 1 2 3 4 5; do
  port=$(pp_free_port)
  # -v: report on standard error ("status: 0/N" once listening); -H -R -l 0:
  # no DNS or ident lookups.
  pp_bg tpid timeout 120 env LD_PRELOAD="$LIBPROXYPROTO_SO${LD_PRELOAD:+:$LD_PRELOAD}" \
    tcpserver -v -H -R -l 0 127.0.0.1 "$port" "$EXEC_REPORTER" \
    >"$PP_TMP/tcpserver.out" 2>"$PP_TMP/tcpserver.log"
  if pp_wait_for_line "$PP_TMP/tcpserver.log" '^tcpserver: status: 0/' "$PP_DEADLINE" "$tpid"; then
    started=1
    break
  fi
  pp_stop "$tpid"
  echo "# tcpserver did not bind port $port (try $try)"
done
[ "$started" = 1 ] || { pp_dump "$PP_TMP/tcpserver.log"; pp_fatal "tcpserver did not start"; }
want="$CLAIM_ADDR:$CLAIM_PORT"

ex_claiming_client claimed "$port"
r=$(ex_report "$PP_TMP/claimed.cout")
echo "# program: $r"
pp_expect_eq "tcpserver program: getpeername(0) is the claimed address" \
  "$(ex_field "$r" fd0)" "$want"
pp_expect_eq "tcpserver program: getpeername(1) is the claimed address" \
  "$(ex_field "$r" fd1)" "$want"
pp_expect_eq "tcpserver program: TCPREMOTEIP is the claimed address" \
  "$(ex_field "$r" tcpremoteip)" "$CLAIM_ADDR"
pp_expect_eq "tcpserver program: TCPREMOTEPORT is the claimed port" \
  "$(ex_field "$r" tcpremoteport)" "$CLAIM_PORT"
pp_expect_eq "tcpserver program: the variable is not visible" "$(ex_field "$r" env)" clean

ex_plain_client plain "$port"
r=$(ex_report "$PP_TMP/plain.cout")
echo "# program: $r"
pp_expect_match "tcpserver program, no header: the real peer" \
  "$(ex_field "$r" fd0)" '^127\.0\.0\.1:[0-9]+$'
pp_expect_eq "tcpserver program, no header: TCPREMOTEIP agrees" \
  "$(ex_field "$r" tcpremoteip)" 127.0.0.1

ex_start_haproxy "$port"
pp_run_client_cport haproxy "hello through haproxy
" nc -N -p CPORT 127.0.0.1 "$HAPROXY_PORT"
r=$(ex_report "$PP_TMP/haproxy.cout")
echo "# program: $r"
pp_expect_eq "tcpserver program behind HAProxy: the client's address and port" \
  "$(ex_field "$r" fd0)" "127.0.0.1:$PP_CPORT"
pp_expect_eq "tcpserver program behind HAProxy: TCPREMOTEPORT is the client's" \
  "$(ex_field "$r" tcpremoteport)" "$PP_CPORT"

[ "$PP_FAIL" -eq 0 ] || pp_dump "$PP_TMP/tcpserver.log" "$PP_TMP/claimed.cerr" \
  "$PP_TMP/haproxy.cerr" "$PP_TMP/haproxy.log"
pp_stop "$hpid"
pp_stop "$tpid"
pp_finish
