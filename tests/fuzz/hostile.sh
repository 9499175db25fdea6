#!/bin/bash
# Hostile bytes through a real server under libproxyproto.so: hundreds of
# connections carrying random bytes and mutated headers (hostile_client),
# with and without LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER. The core parser is
# the oracle: the application must see exactly the connections and bytes it
# predicts (never a byte of a dropped connection), the server must neither
# crash nor hang, and a valid proxied connection afterwards is served.
# PP_HOSTILE_SEED picks the sequence (printed, to replay a failure);
# PP_HOSTILE_COUNT the connections per run.
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
require_env LIBPROXYPROTO_SO PP_HELPERS PP_BUILDDIR

SEED=${PP_HOSTILE_SEED:-$(date +%s)}
COUNT=${PP_HOSTILE_COUNT:-300}
CLIENT="$PP_BUILDDIR/tests/fuzz/hostile_client"
echo "# seed $SEED ($COUNT connections per run; PP_HOSTILE_SEED=$SEED to replay)"

run() {
  local must_use=$1 pid port out
  out="$PP_TMP/server.$must_use"
  pp_start_server pid port "$out" \
    LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER="$must_use" LIBPROXYPROTO_TIMEOUT=2000 \
    -- --count 0
  local rc=0
  timeout $((60 * ${PP_TIME_SCALE:-1})) "$CLIENT" "$port" "$SEED" "$COUNT" "$must_use" \
    "$PP_TMP/expected.$must_use" || rc=$?
  pp_expect_eq "must-use=$must_use: no hang, no wrongly closed connection" "$rc" 0

  # Afterwards, a valid proxied connection is still served correctly.
  printf 'PROXY TCP4 203.0.113.9 198.51.100.1 5555 80\r\nafter' |
    timeout "$PP_DEADLINE" nc -N 127.0.0.1 "$port" >/dev/null 2>&1 || true
  local want=$(( $(wc -l <"$PP_TMP/expected.$must_use") + 1 ))
  local waited=0
  while [ "$(grep -c '^conn ' "$out")" -lt "$want" ] &&
    [ $waited -lt $((PP_DEADLINE * 20)) ]; do
    sleep 0.05
    waited=$((waited + 1))
  done
  pp_check "must-use=$must_use: server still running" kill -0 "$pid"
  grep '^conn ' "$out" | sed -e 's/.* peer=\(.*\) nonblock=.* data=\(.*\)$/data=\2 peer=\1/' \
    >"$PP_TMP/seen.$must_use"
  # Compare with the prediction, line by line; a '*' peer is not compared.
  sed -e '$d' "$PP_TMP/seen.$must_use" >"$PP_TMP/seen_cmp.$must_use"
  awk 'NR == FNR { seen[FNR] = $0; n = FNR; next }
       { m = FNR; w = $0; s = seen[FNR]
         if (w ~ / peer=[*]$/) { sub(/ peer=.*$/, "", w); sub(/ peer=.*$/, "", s) }
         if (w != s) { print "connection " FNR ": expected " $0 ", saw " seen[FNR]; bad = 1 } }
       END { if (m != n) { print "expected " m " connections, saw " n; bad = 1 }
             exit bad }' \
    "$PP_TMP/seen_cmp.$must_use" "$PP_TMP/expected.$must_use" >"$PP_TMP/diff.$must_use" || true
  pp_check "must-use=$must_use: the application saw exactly the predicted connections and bytes" \
    test ! -s "$PP_TMP/diff.$must_use"
  head -n 5 "$PP_TMP/diff.$must_use"
  local last
  last=$(tail -n 1 "$PP_TMP/seen.$must_use")
  pp_expect_eq "must-use=$must_use: proxied connection afterwards" "$last" \
    "data=$(printf after | pp_hex) peer=inet 203.0.113.9 5555"
  pp_stop "$pid"
}

require_tool nc timeout
require_openbsd_nc
run 0
run 1
pp_finish
