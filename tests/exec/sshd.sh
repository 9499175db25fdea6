#!/bin/bash
# OpenSSH's sshd in its default re-exec mode under the library: the
# listener accepts, reads the header, forks, puts the connection on 0 and 1
# and executes sshd again (-R), which logs "Connection from ADDR port PORT"
# from getpeername(). That line must show the test client's claimed
# address and port, and behind HAProxy (send-proxy-v2) the client's own
# source port, not HAProxy's. ssh runs in batch mode with no key: the
# authentication failure that ends each session is expected.
#
# sshd runs as root with a throwaway host key and configuration in the
# temporary directory, in a mount namespace whose /run is a temporary
# directory too (sshd needs /run/sshd, its privilege separation directory).
# spid, hpid are set through pp_bg.
# shellcheck disable=SC2154
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/exec/common_exec.sh
. "$(cd "$(dirname "$0")" && pwd)/common_exec.sh"
PATH=$PATH:/usr/sbin:/sbin
require_tool ssh ssh-keygen unshare haproxy
[ -x /usr/sbin/sshd ] || require_tool sshd  # a missing sshd: skip, or fail under CI
if [ "$(id -u)" != 0 ]; then
  [ "${CI:-}" = true ] && pp_fatal "sshd must run as root (CI=true)"
  echo "SKIP: sshd must run as root"
  exit 77
fi
ex_private_run_ok
echo "# $(/usr/sbin/sshd -V 2>&1 | head -n1)"

chmod 755 "$PP_TMP"
mkdir -m 755 "$PP_TMP/run" "$PP_TMP/run/sshd"
SSHD_PORT=$(pp_free_port)
ex_sshd_config "$PP_TMP/sshd_config" "Port $SSHD_PORT" "ListenAddress 127.0.0.1"

pp_bg spid timeout 120 "${EX_PRIVATE_RUN[@]}" "$PP_TMP/run" \
  env LD_PRELOAD="$LIBPROXYPROTO_SO${LD_PRELOAD:+:$LD_PRELOAD}" \
  /usr/sbin/sshd -D -e -f "$PP_TMP/sshd_config" >"$PP_TMP/sshd.out" 2>"$PP_TMP/sshd.log"
pp_wait_for_line "$PP_TMP/sshd.log" "Server listening on 127\.0\.0\.1 port $SSHD_PORT" \
  "$PP_DEADLINE" "$spid" || { pp_dump "$PP_TMP/sshd.log"; pp_fatal "sshd did not start"; }

# ssh_to NAME PORT [ENV=VALUE...] [-- ssh options]: one batch-mode login
# attempt; its output in $PP_TMP/NAME.ssh.
ssh_to() {
  local name=$1 port=$2
  shift 2
  local -a envs=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  timeout 20 env "${envs[@]}" ssh -F /dev/null -o BatchMode=yes \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
    -o ConnectTimeout=5 -o LogLevel=ERROR -p "$port" "$@" nobody@127.0.0.1 true \
    >"$PP_TMP/$name.ssh" 2>&1 || true
}

# connection_lines: sshd's "Connection from" lines so far.
connection_lines() { grep 'Connection from ' "$PP_TMP/sshd.log" || true; }

# 1. The test client claims an address.
ssh_to client "$SSHD_PORT" \
  LD_PRELOAD="$LIBPROXYPROTO_CONNECT_SO${LD_PRELOAD:+:$LD_PRELOAD}" \
  LIBPROXYPROTO_ADDR="$CLAIM_ADDR" LIBPROXYPROTO_PORT="$CLAIM_PORT"
pp_wait_for_line "$PP_TMP/sshd.log" 'Connection from ' 10 "$spid" || true
line=$(connection_lines | sed -n 1p)
echo "# sshd: $line"
pp_expect_match "re-executed sshd logs the claimed address and port" \
  "$line" "Connection from $CLAIM_ADDR port $CLAIM_PORT on 127\.0\.0\.1 port $SSHD_PORT"
pp_check "the session reached authentication (key exchange over the header)" \
  grep -Eq 'Permission denied|Connection closed by (authenticating user|invalid user)' \
  "$PP_TMP/client.ssh" "$PP_TMP/sshd.log"

# 2. Behind HAProxy: the client's own source port, chosen here (nc -p in a
#    ProxyCommand), must be the one logged.
ex_start_haproxy "$SSHD_PORT"
cport=$(pp_free_port)
ssh_to haproxy "$HAPROXY_PORT" -- \
  -o ProxyCommand="nc -p $cport 127.0.0.1 $HAPROXY_PORT"
end=$((SECONDS + 10))
until [ "$(connection_lines | wc -l)" -ge 2 ] || [ "$SECONDS" -ge "$end" ]; do sleep 0.1; done
line=$(connection_lines | sed -n 2p)
echo "# sshd: $line"
pp_expect_match "behind HAProxy send-proxy-v2: the client's port, not HAProxy's" \
  "$line" "Connection from 127\.0\.0\.1 port $cport on 127\.0\.0\.1 port $SSHD_PORT"

[ "$PP_FAIL" -eq 0 ] || pp_dump "$PP_TMP/sshd.log" "$PP_TMP/client.ssh" \
  "$PP_TMP/haproxy.ssh" "$PP_TMP/haproxy.log"
pp_stop "$hpid"
pp_stop "$spid"
pp_finish
