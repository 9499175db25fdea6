#!/bin/bash
# Real daemons that accept for a service and are not under the library,
# with only the service under it:
#   - OpenSSH's sshd -i under systemd-socket-activate --accept --inetd with
#     REMOTE_ADDR set, the shape of Debian's ssh.socket: sshd's log must
#     show the claimed client;
#   - openbsd-inetd starting inherited_reporter as a nowait service marked
#     LIBPROXYPROTO_INETD=1: getpeername() and the data.
# Both as root, each in a mount namespace whose /run is a temporary
# directory (sshd needs /run/sshd; inetd writes /run/inetd.pid).
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/exec/common_exec.sh
. "$PP_SRCDIR/tests/exec/common_exec.sh"
PATH=$PATH:/usr/sbin:/sbin
require_env PP_INHERITED
require_tool systemd-socket-activate ssh ssh-keygen inetd unshare
[ -x /usr/sbin/sshd ] || require_tool sshd
if [ "$(id -u)" != 0 ]; then
  [ "${CI:-}" = true ] && pp_fatal "sshd and inetd must run as root (CI=true)"
  echo "SKIP: sshd and inetd must run as root"
  exit 77
fi
ex_private_run_ok
REPORTER=$PP_INHERITED/inherited_reporter
PRELOAD=$(pp_preload_value "$LIBPROXYPROTO_SO")
# The services get a fresh environment: the sanitizer build's variables
# are passed on by name.
SANITIZERS=()
ENVS=()
while read -r v; do
  [ -z "$v" ] && continue
  SANITIZERS+=(-E "$v")
  ENVS+=("$v")
done < <(pp_sanitizer_variables)
chmod 755 "$PP_TMP"
mkdir -m 755 "$PP_TMP/run" "$PP_TMP/run/sshd"

# ---- sshd -i, one per connection, as Debian's ssh.socket runs it ------------
ex_sshd_config "$PP_TMP/sshd_config"
for try in 1 2 3 4 5; do
  port=$(pp_free_port)
  pp_bg spid timeout 60 "${EX_PRIVATE_RUN[@]}" "$PP_TMP/run" \
    systemd-socket-activate -l "127.0.0.1:$port" --accept --inetd "${SANITIZERS[@]}" \
    -E LD_PRELOAD="$PRELOAD" -E REMOTE_ADDR=127.0.0.1 -E REMOTE_PORT=1 \
    /usr/sbin/sshd -i -f "$PP_TMP/sshd_config" -E "$PP_TMP/sshd.log" \
    >"$PP_TMP/ssa.out" 2>"$PP_TMP/ssa.log"
  pp_wait_for_line "$PP_TMP/ssa.log" "^Listening on 127\.0\.0\.1:$port" 5 "$spid" && break
  pp_stop "$spid"
done
timeout 20 env LD_PRELOAD="$(pp_preload_value "$LIBPROXYPROTO_CONNECT_SO")" \
  LIBPROXYPROTO_ADDR="$CLAIM_ADDR" LIBPROXYPROTO_PORT="$CLAIM_PORT" \
  ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no \
  -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 -o LogLevel=ERROR \
  -p "$port" nobody@127.0.0.1 true >"$PP_TMP/ssh.out" 2>&1 || true
pp_wait_for_line "$PP_TMP/sshd.log" 'Connection from ' 10 || true
line=$(grep -m1 'Connection from ' "$PP_TMP/sshd.log" || true)
echo "# sshd -i: $line"
pp_expect_match "sshd -i under socket activation logs the claimed client" \
  "$line" "Connection from $CLAIM_ADDR port $CLAIM_PORT on 127\.0\.0\.1 port $port"
pp_check "sshd -i: the session reached authentication (key exchange after the header)" \
  grep -Eq 'Permission denied|Connection closed by (authenticating user|invalid user)' \
  "$PP_TMP/ssh.out" "$PP_TMP/sshd.log"
[ "$PP_FAIL" -eq 0 ] || pp_dump "$PP_TMP/sshd.log" "$PP_TMP/ssh.out" "$PP_TMP/ssa.log"
pp_stop "$spid"

# ---- openbsd-inetd, only the service under the library ----------------------
started=0
for try in 1 2 3 4 5; do
  port=$(pp_free_port)
  printf '127.0.0.1:%s stream tcp nowait root /usr/bin/env env %s LD_PRELOAD=%s LIBPROXYPROTO_INETD=1 %s 0\n' \
    "$port" "${ENVS[*]}" "$PRELOAD" "$REPORTER" >"$PP_TMP/inetd.conf"
  pp_bg ipid timeout 60 "${EX_PRIVATE_RUN[@]}" "$PP_TMP/run" \
    "$(command -v inetd)" -d "$PP_TMP/inetd.conf" >"$PP_TMP/inetd.out" 2>"$PP_TMP/inetd.log"
  if pp_wait_for_line "$PP_TMP/inetd.log" "^ADD: 127\.0\.0\.1:$port " 5 "$ipid" &&
    sleep 0.3 && kill -0 "$ipid" 2>/dev/null &&
    ! grep -qiE 'already in use|bind' "$PP_TMP/inetd.log"; then
    started=1
    break
  fi
  pp_stop "$ipid"
done
[ "$started" = 1 ] || { pp_dump "$PP_TMP/inetd.log"; pp_fatal "inetd did not start"; }
got=$({ printf 'PROXY TCP4 %s 127.0.0.1 %s 80\r\nhello\n' "$CLAIM_ADDR" "$CLAIM_PORT"; sleep 0.3; } |
  timeout 10 nc -N 127.0.0.1 "$port" || true)
echo "# inetd service: $got"
pp_expect_match "openbsd-inetd service: the claimed client, and the data after the header" \
  "$got" "^report peer=$CLAIM_ADDR:$CLAIM_PORT .* data=hello eof=0\$"
[ "$PP_FAIL" -eq 0 ] || pp_dump "$PP_TMP/inetd.log"
pp_stop "$ipid"
pp_finish
