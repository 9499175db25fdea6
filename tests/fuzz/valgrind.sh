#!/bin/bash
# pp_server under libproxyproto.so, run by valgrind, over real connections:
# v1, v2, a v2 header with a 60000-byte TLV sent in pieces, hostile bytes
# (tests/fuzz/hostile_client), then a valid proxied connection. Fails on any
# valgrind error (memcheck: invalid reads/writes, uninitialised values,
# definite leaks) or on a wrong answer.
# Not in `make check` (slow); .ci/stages/11-valgrind.sh runs it with
#   make check TESTS=tests/fuzz/valgrind.sh
# spid is set through pp_bg_preloaded.
# shellcheck disable=SC2154
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
require_env LIBPROXYPROTO_SO PP_HELPERS PP_BUILDDIR
require_tool valgrind nc timeout python3
require_openbsd_nc

SEED=${PP_HOSTILE_SEED:-$(date +%s)}
COUNT=${PP_VALGRIND_HOSTILE_COUNT:-100}
echo "# hostile seed $SEED, $COUNT connections"
out="$PP_TMP/server"
vlog="$PP_TMP/valgrind.log"
pp_bg_preloaded spid "$LIBPROXYPROTO_SO" 120 "$out" LIBPROXYPROTO_TIMEOUT=5000 -- \
  valgrind --error-exitcode=97 --leak-check=full --errors-for-leak-kinds=definite \
  --track-origins=yes --log-file="$vlog" "$PP_HELPERS/pp_server" --count 0
pp_wait_for_line "$out" '^port [0-9]+$' 60 "$spid" || pp_fatal "server did not start"
port=$(sed -n 's/^port \([0-9][0-9]*\)$/\1/p' "$out")

send() {  # send NAME: stdin to the server, then wait for the served line
  timeout 30 nc -N 127.0.0.1 "$port" >/dev/null 2>&1 || true
}
served() { grep -c '^conn ' "$out" || true; }
wait_served() {  # wait_served N
  local i=0
  while [ "$(served)" -lt "$1" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
}

printf 'PROXY TCP4 192.0.2.1 198.51.100.2 4321 443\r\nv1' | send
wait_served 1
pp_expect_eq "v1 header" "$(pp_field "$(pp_conn_line "$out" 1)" peer)" "inet 192.0.2.1 4321"

v2() {  # v2 TLV_BYTES_HEX: a v2 TCP4 header from 10.1.2.3:1000 with these TLVs
  python3 -c '
import struct, sys
tlvs = bytes.fromhex(sys.argv[1]) if sys.argv[1] != "big" else \
    bytes([0xE0]) + struct.pack(">H", 60000) + bytes(i & 0xFF for i in range(60000))
body = bytes([10, 1, 2, 3, 10, 3, 2, 1]) + struct.pack(">HH", 1000, 80) + tlvs
sys.stdout.buffer.write(b"\r\n\r\n\0\r\nQUIT\n\x21\x11" + struct.pack(">H", len(body)) + body + b"v2")
' "$1"
}
v2 0100026832 | send
wait_served 2
pp_expect_eq "v2 header" "$(pp_field "$(pp_conn_line "$out" 2)" peer)" "inet 10.1.2.3 1000"

# The big header in pieces: the library must assemble it.
v2 big >"$PP_TMP/big"
{ head -c 100 "$PP_TMP/big"; sleep 0.3; tail -c +101 "$PP_TMP/big"; } | send
wait_served 3
line=$(pp_conn_line "$out" 3)
pp_expect_eq "v2 header with a 60000-byte TLV, in pieces" \
  "$(pp_field "$line" peer) $(pp_field "$line" data)" "inet 10.1.2.3 1000 7632"

before=$(served)
rc=0
timeout 300 "$PP_BUILDDIR/tests/fuzz/hostile_client" "$port" "$SEED" "$COUNT" 0 \
  "$PP_TMP/expected" || rc=$?
pp_expect_eq "hostile bytes: no hang, no wrongly closed connection" "$rc" 0
want=$((before + $(wc -l <"$PP_TMP/expected")))
wait_served "$want"
pp_expect_eq "hostile bytes: connections the application saw" "$(served)" "$want"

printf 'PROXY TCP4 203.0.113.9 198.51.100.1 5555 80\r\nafter' | send
wait_served $((want + 1))
pp_expect_eq "proxied connection afterwards" \
  "$(pp_field "$(pp_conn_line "$out" $((want + 1)))" peer)" "inet 203.0.113.9 5555"

# Stop the server; valgrind then writes its summary.
kill -TERM "$spid" 2>/dev/null || true
wait "$spid" 2>/dev/null || true
pp_forget "$spid"
# Stopped by a signal, valgrind cannot use its exit status: read its summary,
# which must be there (proof that it ran) and count no error.
errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9][0-9]*\) errors.*/\1/p' "$vlog" | tail -n1)
pp_expect_eq "valgrind ran and reported no error" "${errors:-no summary}" 0
[ "${errors:-x}" = 0 ] || grep '^==' "$vlog" | head -n 80
pp_finish
