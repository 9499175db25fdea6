#!/bin/bash
# Headers that arrive late or in pieces, with real time between them.
#  - v1 and v2 headers in 2, 3 and 4 segments (TCP_NODELAY, 50-200 ms gaps)
#    arrive assembled within LIBPROXYPROTO_TIMEOUT (1500 ms here) and are
#    honoured by accept() and getpeername();
#  - a partial header left at the timeout (1000 ms) is dropped: the client
#    sees its connection closed without a greeting, after ~the timeout;
#  - a client that sends nothing passes through after the timeout with its
#    real address (measured), or is dropped under
#    LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER.
# spid, sport are set through ls_start.
# shellcheck disable=SC2154
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/lib/servers.sh
. "$PP_LIB_DIR/servers.sh"

ls_start spid sport "$PP_TMP/split.out" LIBPROXYPROTO_TIMEOUT=1500 -- \
  --mode blocking --count 6
for v in 1 2; do
  for k in 2 3 4; do
    res=$(timeout 20 "$LOAD_CLIENT" --port "$sport" --split --version "$v" \
      --segments "$k" --gap-min 50 --gap-max 200 || true)
    echo "# $res"
    gaps=$(kv "$res" gaps_ms)
    pp_expect_eq "v$v in $k segments (gaps $gaps ms): header honoured" \
      "$(kv "$res" result)" ok
    claim=$(kv_rest "$res" claim)
    pp_expect_eq "v$v in $k segments: accept and getpeername report the claim" \
      "$(kv_rest "$res" hello)" "hello $claim|$claim"
    # The gaps must be real, or the case proves nothing.
    short=0
    for g in ${gaps//,/ }; do [ "$g" -ge 45 ] || short=1; done
    pp_expect_eq "v$v in $k segments: $((k - 1)) real gaps of >= 45 ms" \
      "$short:$(printf '%s' "$gaps" | tr ',' '\n' | grep -c .)" "0:$((k - 1))"
  done
done
summary=$(ls_summary "$PP_TMP/split.out" "$spid")
echo "# server: $summary"
pp_expect_eq "server: 0 mismatches" "$(kv "$summary" mismatches)" 0

# Partial headers: dropped at the timeout.
ls_start spid sport "$PP_TMP/partial.out" LIBPROXYPROTO_TIMEOUT=1000 -- \
  --mode blocking --count 1 --read-timeout 3
for spec in "1 10" "2 14" "2 20"; do
  read -r v bytes <<<"$spec"
  set -- "$v" "$bytes"
  res=$(timeout 20 "$LOAD_CLIENT" --port "$sport" --partial --version "$1" \
    --bytes "$2" --max-wait-ms 4000 || true)
  echo "# $res"
  pp_expect_eq "v$1 header cut after $2 bytes: dropped unseen" \
    "$(kv "$res" result)" dropped
  ms_between "v$1 cut after $2 bytes: dropped at the 1000 ms timeout" \
    "$(kv "$res" closed_ms)" 900 2500
done
# The server must not have seen any of them.
res=$(timeout 20 "$LOAD_CLIENT" --port "$sport" --split --version 2 \
  --segments 1 || true)
summary=$(ls_summary "$PP_TMP/partial.out" "$spid")
echo "# server: $summary"
pp_expect_eq "no partial header reached the application" \
  "$(kv "$res" result) $(kv "$summary" served) $(kv "$summary" mismatches)" "ok 1 0"

# Silent client: passes through after the timeout, real address.
ls_start spid sport "$PP_TMP/silent.out" LIBPROXYPROTO_TIMEOUT=1000 -- \
  --mode blocking --count 1
res=$(timeout 20 "$LOAD_CLIENT" --port "$sport" --silent --max-wait-ms 4000 || true)
echo "# $res"
pp_expect_eq "silent client passes through with its real address" \
  "$(kv "$res" result)" ok
ms_between "silent client greeted after the 1000 ms timeout" \
  "$(kv "$res" hello_ms)" 900 2500
pp_stop "$spid"

# Silent client under must-use: dropped at the timeout.
ls_start spid sport "$PP_TMP/must.out" LIBPROXYPROTO_TIMEOUT=1000 \
  LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER=1 -- --mode blocking --count 1
res=$(timeout 20 "$LOAD_CLIENT" --port "$sport" --silent --max-wait-ms 4000 || true)
echo "# must-use: $res"
pp_expect_eq "must-use: silent client dropped unseen" "$(kv "$res" result)" dropped
ms_between "must-use: silent client dropped at the 1000 ms timeout" \
  "$(kv "$res" hello_ms)" 900 2500
pp_stop "$spid"
pp_finish
