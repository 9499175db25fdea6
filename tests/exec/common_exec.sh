#!/bin/bash
# Shared by the tests in tests/exec/ (sourced after
# tests/lib/common.sh): the client that claims an address, and
# reading exec_reporter's lines.
# shellcheck disable=SC2034

require_env LIBPROXYPROTO_SO LIBPROXYPROTO_CONNECT_SO PP_EXEC PP_HELPERS
for __p in exec_tester exec_reporter exec_reporter_linked; do
  [ -x "$PP_EXEC/$__p" ] || pp_fatal "$PP_EXEC/$__p not built"
done
[ -f "$LIBPROXYPROTO_SO" ] || pp_fatal "$LIBPROXYPROTO_SO not built"
[ -f "$LIBPROXYPROTO_CONNECT_SO" ] || pp_fatal "$LIBPROXYPROTO_CONNECT_SO not built"
require_openbsd_nc
EXEC_TESTER=$PP_EXEC/exec_tester
EXEC_REPORTER=$PP_EXEC/exec_reporter
CLAIM_ADDR=203.0.113.7
CLAIM_PORT=4321

# ex_claiming_client NAME PORT [ENV=VALUE...]: nc under
# libproxyproto_connect.so claiming CLAIM_ADDR:CLAIM_PORT, sending a line
# and printing what comes back into $PP_TMP/NAME.cout.
ex_claiming_client() {
  local name=$1 port=$2
  shift 2
  pp_run_client "$name" "hello from $name
" env LD_PRELOAD="$LIBPROXYPROTO_CONNECT_SO${LD_PRELOAD:+:$LD_PRELOAD}" \
    LIBPROXYPROTO_ADDR="$CLAIM_ADDR" LIBPROXYPROTO_PORT="$CLAIM_PORT" "$@" \
    nc -N 127.0.0.1 "$port"
}

# ex_plain_client NAME PORT: the same without a header.
ex_plain_client() {
  pp_run_client "$1" "hello from $1
" nc -N 127.0.0.1 "$2"
}

# ex_report FILE [GEN]: the first "report" line of generation GEN (1).
ex_report() {
  grep "^report gen=${2:-1} " "$1" 2>/dev/null | head -n1 || true
}

# ex_field LINE KEY: the value of KEY= in a report line.
ex_field() {
  printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n1
}

# ex_private_run_ok: whether this process may run a daemon with a private
# /run (a mount namespace with a temporary directory bound over /run), so
# that the pid files and directories sshd and inetd insist on never touch
# the machine's own /run. A failure is a hard error under CI=true.
ex_private_run_ok() {
  if unshare -m true 2>/dev/null; then
    return 0
  fi
  if [ "${CI:-}" = true ]; then
    pp_fatal "unshare -m is not permitted here (CI=true: not skipping)"
  fi
  echo "SKIP: unshare -m is not permitted here (a private /run is needed)"
  exit 77
}

# EX_PRIVATE_RUN DIR CMD...: the prefix that runs CMD (exec'd, one process)
# with DIR bound over /run.
# shellcheck disable=SC2016 # expanded by sh
EX_PRIVATE_RUN=(unshare -m sh -c 'mount --bind "$0" /run && exec "$@"')

# ex_sshd_config FILE [LINE...]: an sshd configuration for a throwaway sshd
# (a fresh host key beside FILE, no authentication that could succeed,
# connections logged), with LINEs first (Port, ListenAddress).
ex_sshd_config() {
  local file=$1
  shift
  ssh-keygen -q -t ed25519 -N '' -f "$file.host_ed25519" >/dev/null
  {
    [ $# -eq 0 ] || printf '%s\n' "$@"
    cat <<CFG
HostKey $file.host_ed25519
PidFile none
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication no
AuthorizedKeysFile none
LogLevel VERBOSE
CFG
  } >"$file"
}

# ex_start_haproxy BACKEND-PORT: HAProxy in front of 127.0.0.1:BACKEND-PORT
# with send-proxy-v2 (tests/lib/haproxy.sh); HAPROXY_PORT gets its front
# port, hpid its pid.
EX_BACKEND_PORT=
HAPROXY_PORT=
ex_haproxy_sections() {
  HAPROXY_PORT=$(pp_free_port)
  printf '\nlisten to-backend\n    bind 127.0.0.1:%s\n    server s1 127.0.0.1:%s send-proxy-v2\n' \
    "$HAPROXY_PORT" "$EX_BACKEND_PORT"
}
ex_start_haproxy() {
  EX_BACKEND_PORT=$1
  pp_require_haproxy
  pp_haproxy_start hpid ex_haproxy_sections ||
    { pp_dump "$PP_HAPROXY_LOG"; pp_fatal "haproxy did not start listening"; }
}
