#!/bin/bash
# The body of threads.sh and fork.sh (sourced, not run): load_server in the
# shape SERVER_ARGS names serves N proxied connections from 16 client
# threads, each claiming its own address in a v1 or v2 header (IPv4 and
# IPv6 claims in turn). Every connection's first line repeats the claim;
# the server compares accept()'s address and getpeername()'s with it. A
# record mixed up between threads or processes, or lost to a reused
# descriptor number, is a mismatch: there must be none.
# spid, sport are set through ls_start; N and SERVER_ARGS by the caller.
# shellcheck disable=SC2154
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/lib/servers.sh
. "$PP_LIB_DIR/servers.sh"

ls_start spid sport "$PP_TMP/server.out" -- "${SERVER_ARGS[@]}" --count "$N"
res=$(timeout 90 "$LOAD_CLIENT" --port "$sport" --flood "$N" --concurrency 16 \
  2>"$PP_TMP/client.err" || true)
echo "# client: $res"
summary=$(ls_summary "$PP_TMP/server.out" "$spid")
echo "# server: $summary"
pp_expect_eq "all $N connections answered ok" "$(kv "$res" ok)" "$N"
pp_expect_eq "client saw no mismatch" "$(kv "$res" bad)" 0
pp_expect_eq "client met no error" "$(kv "$res" errors)" 0
pp_expect_eq "server served $N connections" "$(kv "$summary" served)" "$N"
pp_expect_eq "server counted 0 mismatches (accept and getpeername vs claim)" \
  "$(kv "$summary" mismatches)" 0
if [ "$PP_FAIL" -ne 0 ]; then
  pp_dump "$PP_TMP/client.err" "$PP_TMP/server.out.err"
  head -n 20 "$PP_TMP/server.out" | sed 's/^/#   /'
fi
pp_finish
