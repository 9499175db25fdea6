#!/bin/bash
# Shared by the tests in tests/exec/ (sourced after
# tests/integration/common.sh): the client that claims an address, and
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
