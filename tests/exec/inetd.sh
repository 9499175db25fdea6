#!/bin/bash
# openbsd-inetd under the library, with exec_reporter as a nowait service:
# inetd accepts (reading the header), forks, puts the connection on 0, 1
# and 2 and executes the service, which reports getpeername() of each on
# the connection. The claimed address must be there; a plain client must
# get its real address; and behind HAProxy send-proxy-v2 the client's own
# source port. inetd runs in the foreground (-d) with -E (it would
# otherwise launder LD_PRELOAD from the service's environment), its
# configuration in the temporary directory, in a mount namespace whose
# /run is a temporary directory (inetd writes /run/inetd.pid).
# ipid, hpid are set through pp_bg.
# shellcheck disable=SC2154
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/exec/common_exec.sh
. "$(cd "$(dirname "$0")" && pwd)/common_exec.sh"
PATH=$PATH:/usr/sbin:/sbin
require_tool inetd unshare haproxy
if [ "$(id -u)" != 0 ]; then
  [ "${CI:-}" = true ] && pp_fatal "inetd must run as root here (CI=true)"
  echo "SKIP: inetd must run as root here"
  exit 77
fi
ex_private_run_ok

mkdir -m 755 "$PP_TMP/run"
started=0
for try in 1 2 3 4 5; do
  port=$(pp_free_port)
  printf '127.0.0.1:%s stream tcp nowait root %s exec_reporter\n' \
    "$port" "$EXEC_REPORTER" >"$PP_TMP/inetd.conf"
  pp_bg ipid timeout 120 "${EX_PRIVATE_RUN[@]}" "$PP_TMP/run" \
    env LD_PRELOAD="$LIBPROXYPROTO_SO${LD_PRELOAD:+:$LD_PRELOAD}" \
    "$(command -v inetd)" -d -E "$PP_TMP/inetd.conf" >"$PP_TMP/inetd.out" 2>"$PP_TMP/inetd.log"
  # -d prints "ADD: ..." as it sets the service up, and a complaint right
  # after it when the port cannot be bound: give that a moment to appear.
  if pp_wait_for_line "$PP_TMP/inetd.log" "^ADD: 127\.0\.0\.1:$port " "$PP_DEADLINE" "$ipid" &&
    sleep 0.3 && kill -0 "$ipid" 2>/dev/null &&
    ! grep -qiE 'already in use|bind' "$PP_TMP/inetd.log"; then
    started=1
    break
  fi
  pp_stop "$ipid"
  echo "# inetd did not bind port $port (try $try)"
done
[ "$started" = 1 ] || { pp_dump "$PP_TMP/inetd.log"; pp_fatal "inetd did not start"; }
want="$CLAIM_ADDR:$CLAIM_PORT"

ex_claiming_client claimed "$port"
r=$(ex_report "$PP_TMP/claimed.cout")
echo "# service: $r"
for fd in 0 1 2; do
  pp_expect_eq "inetd service: getpeername($fd) is the claimed address" \
    "$(ex_field "$r" "fd$fd")" "$want"
done
pp_expect_eq "inetd service: the variable is not visible" "$(ex_field "$r" env)" clean

ex_plain_client plain "$port"
r=$(ex_report "$PP_TMP/plain.cout")
echo "# service: $r"
pp_expect_match "inetd service, no header: the real peer" \
  "$(ex_field "$r" fd0)" '^127\.0\.0\.1:[0-9]+$'
pp_expect_eq "inetd service, no header: no variable" "$(ex_field "$r" env)" clean

ex_start_haproxy "$port"
pp_run_client_cport haproxy "hello through haproxy
" nc -N -p CPORT 127.0.0.1 "$HAPROXY_PORT"
r=$(ex_report "$PP_TMP/haproxy.cout")
echo "# service: $r"
pp_expect_eq "inetd service behind HAProxy: the client's address and port" \
  "$(ex_field "$r" fd0)" "127.0.0.1:$PP_CPORT"

[ "$PP_FAIL" -eq 0 ] || pp_dump "$PP_TMP/inetd.log" "$PP_TMP/claimed.cerr" \
  "$PP_TMP/haproxy.cerr" "$PP_TMP/haproxy.log"
pp_stop "$hpid"
pp_stop "$ipid"
pp_finish
