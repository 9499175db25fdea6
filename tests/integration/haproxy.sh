#!/bin/bash
# HAProxy as a real PROXY protocol sender (and, in the chain case, receiver)
# in front of pp_server running under libproxyproto.so.
#
#   client (nc -s 127.0.0.2 -p CPORT) -> haproxy send-proxy[-v2] -> pp_server
#
# pp_server must report the client's own address and port, not HAProxy's,
# and receive the payload intact.
#
# pid, port, hpid, spid, sport are set through pp_bg/pp_start_server.
# shellcheck disable=SC2154
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"

require_env LIBPROXYPROTO_SO LIBPROXYPROTO_CONNECT_SO PP_HELPERS
pp_require_haproxy
require_tool od
[ -x "$PP_HELPERS/pp_server" ] || pp_fatal "$PP_HELPERS/pp_server not built"
[ -f "$LIBPROXYPROTO_SO" ] || pp_fatal "$LIBPROXYPROTO_SO not built"
[ -f "$LIBPROXYPROTO_CONNECT_SO" ] || pp_fatal "$LIBPROXYPROTO_CONNECT_SO not built"

CLIENT_PRELOAD=$(pp_preload_value "$LIBPROXYPROTO_CONNECT_SO")

HAVE_IPV6=0
if pp_require_ipv6; then HAVE_IPV6=1; fi

# ---------------------------------------------------------------------------
# Cases: NAME|SERVER-LINE-OPTIONS|BIND-FAMILY|EXTRA-LISTEN-LINES|BIND-OPTIONS
CASES=(
  "v1|send-proxy|4||"
  "v2|send-proxy-v2|4||"
  "v2-tlv-crc|send-proxy-v2 proxy-v2-options unique-id,crc32c|4|unique-id-format %{+X}o\\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid|"
  "raw-tlv-crc|send-proxy-v2 proxy-v2-options unique-id,crc32c|4|unique-id-format %{+X}o\\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid|"
  "chain-v2|send-proxy-v2|4||accept-proxy"
  "chain-v1-in|send-proxy-v2|4||accept-proxy"
  "chain-v1-out|send-proxy|4||accept-proxy"
)
if [ "$HAVE_IPV6" = 1 ]; then
  CASES+=(
    "ipv6-client-v2|send-proxy-v2|6||"
    "ipv6-client-v1|send-proxy|6||"
  )
fi

declare -A SPID SPORT HPORT FAM EXTRA SRVOPTS BINDOPTS
NAMES=()

# One pp_server per case, serving exactly one connection. The raw-* case runs
# it without the library, to see the header HAProxy really sends.
for c in "${CASES[@]}"; do
  IFS='|' read -r name srvopts fam extra bindopts <<<"$c"
  if [ "${name#raw-}" != "$name" ]; then
    pp_bg pid timeout 30 "$PP_HELPERS/pp_server" --count 1 \
      >"$PP_TMP/$name.out" 2>"$PP_TMP/$name.out.err"
    pp_wait_for_line "$PP_TMP/$name.out" '^port [0-9]+$' "$PP_DEADLINE" "$pid" ||
      pp_fatal "pp_server did not start"
    port=$(sed -n 's/^port //p' "$PP_TMP/$name.out")
  else
    pp_start_server pid port "$PP_TMP/$name.out" -- --count 1
  fi
  NAMES+=("$name")
  SPID[$name]=$pid
  SPORT[$name]=$port
  FAM[$name]=$fam
  EXTRA[$name]=$extra
  SRVOPTS[$name]=$srvopts
  BINDOPTS[$name]=$bindopts
done

# haproxy_sections: one listener per case, on fresh free ports (called for
# each configuration pp_haproxy_config writes).
# shellcheck disable=SC2317 # run by pp_haproxy_config
haproxy_sections() {
  local name
  for name in "${NAMES[@]}"; do
    HPORT[$name]=$(pp_free_port)
    echo
    echo "listen $name"
    if [ "${FAM[$name]}" = 6 ]; then
      echo "    bind [::1]:${HPORT[$name]} ${BINDOPTS[$name]}"
    else
      echo "    bind 127.0.0.1:${HPORT[$name]} ${BINDOPTS[$name]}"
    fi
    if [ -n "${EXTRA[$name]}" ]; then
      echo "    ${EXTRA[$name]}"
    fi
    echo "    server s1 127.0.0.1:${SPORT[$name]} ${SRVOPTS[$name]}"
  done
}

pp_haproxy_config haproxy_sections
echo "# haproxy configuration:"
sed 's/^/#   /' "$PP_HAPROXY_CFG"

if haproxy -c -f "$PP_HAPROXY_CFG" >"$PP_TMP/haproxy-check.log" 2>&1; then
  pp_ok "haproxy -c accepts the configuration (send-proxy, send-proxy-v2, proxy-v2-options unique-id,crc32c, accept-proxy)"
else
  pp_not_ok "haproxy -c accepts the configuration"
  pp_dump "$PP_TMP/haproxy-check.log"
  pp_finish
fi

if ! pp_haproxy_start hpid haproxy_sections; then
  pp_dump "$PP_HAPROXY_LOG"
  pp_fatal "haproxy did not start listening"
fi
pp_ok "haproxy started and listens"

# run_case NAME WANT_ACCEPT WANT_LEN CLIENT-CMD...
# CPORT in CLIENT-CMD and WANT_ACCEPT stands for the client's source port.
run_case() {
  local name=$1 want=$2 wantlen=$3 payload line
  shift 3
  payload="payload through haproxy, case $name"$'\n'"with a second line"$'\n'
  pp_run_client_cport "$name" "$payload" "$@"
  want=${want//CPORT/$PP_CPORT}
  pp_expect_eq "$name: client exited 0" "$PP_RC" 0
  if pp_wait_exit "${SPID[$name]}"; then
    pp_ok "$name: pp_server served its connection and exited"
  else
    pp_not_ok "$name: pp_server served its connection and exited"
  fi
  line=$(pp_conn_line "$PP_TMP/$name.out")
  echo "# $name: ${line:-<no conn line>}"
  pp_expect_eq "$name: accept() reports $want" "$(pp_field "$line" accept)" "$want"
  pp_expect_eq "$name: getpeername() reports $want" "$(pp_field "$line" peer)" "$want"
  pp_expect_eq "$name: addrlen is $wantlen" "$(pp_field "$line" len)" "$wantlen"
  pp_expect_eq "$name: payload arrived intact" "$(pp_field "$line" data)" \
    "$(printf '%s' "$payload" | pp_hex)"
  if [ -z "$line" ] || [ "$PP_RC" -ne 0 ]; then
    pp_dump "$PP_TMP/$name.cerr" "$PP_TMP/$name.out.err" "$PP_TMP/haproxy.log"
  fi
}

# A client with its own source address (127.0.0.2) and a fixed source port,
# so that the reported address can only be the one from HAProxy's header.
for name in v1 v2 v2-tlv-crc; do
  run_case "$name" "inet 127.0.0.2 CPORT" 16 \
    nc -N -s 127.0.0.2 -p CPORT 127.0.0.1 "${HPORT[$name]}"
done

# What HAProxy sends with "proxy-v2-options unique-id,crc32c", seen by a
# pp_server without the library: it must carry the CRC32C (0x03) and
# UNIQUE_ID (0x05) TLVs, or the v2-tlv-crc case above proves nothing.
name="raw-tlv-crc"
payload="raw"$'\n'
pp_run_client_cport "$name" "$payload" nc -N -s 127.0.0.2 -p CPORT 127.0.0.1 "${HPORT[$name]}"
pp_wait_exit "${SPID[$name]}" || true
raw=$(pp_field "$(pp_conn_line "$PP_TMP/$name.out")" data)
echo "# $name: data=$raw"
tlv_types=
crc_at=
if [ "${raw:0:24}" = 0d0a0d0a000d0a515549540a ] && [ "${raw:24:4}" = 2111 ]; then
  hlen=$((16#${raw:28:4}))
  # TLVs follow the 12-byte IPv4 address block, up to 16 + hlen bytes.
  i=$(((16 + 12) * 2))
  stop=$(((16 + hlen) * 2))
  while [ "$i" -lt "$stop" ]; do
    t=${raw:$i:2}
    l=$((16#${raw:$((i + 2)):4}))
    tlv_types="$tlv_types $t"
    [ "$t" = 03 ] && crc_at=$((i + 6))
    i=$((i + 6 + 2 * l))
  done
  pp_expect_eq "$name: TLVs end exactly at the header's end" "$i" "$stop"
  pp_expect_eq "$name: payload follows the header" "${raw:$stop}" \
    "$(printf '%s' "$payload" | pp_hex)"
else
  pp_not_ok "$name: HAProxy sent a v2 PROXY TCP4 header"
fi
echo "# $name: TLV types:$tlv_types"
case " $tlv_types " in
  *" 03 "*) pp_ok "$name: HAProxy's header has a CRC32C TLV" ;;
  *) pp_not_ok "$name: HAProxy's header has a CRC32C TLV" ;;
esac
case " $tlv_types " in
  *" 05 "*) pp_ok "$name: HAProxy's header has a UNIQUE_ID TLV" ;;
  *) pp_not_ok "$name: HAProxy's header has a UNIQUE_ID TLV" ;;
esac

# Replay HAProxy's exact header to pp_server under the library: as sent it
# is accepted; with one bit of the CRC32C value flipped it must be dropped.
if [ -n "$crc_at" ]; then
  name=crc-replay
  header=${raw:0:$stop}
  claimed="inet 127.0.0.2 $((16#${raw:48:4}))"
  b=${header:$crc_at:2}
  bad=${header:0:$crc_at}$(printf '%02x' $((16#$b ^ 1)))${header:$((crc_at + 2))}
  pp_start_server spid sport "$PP_TMP/$name.out" -- --count 1
  pp_run_client_hex "$name-bad" "$bad$(printf 'bad crc\n' | pp_hex)" \
    nc -N 127.0.0.1 "$sport"
  if [ "$PP_RC" -ne 124 ] && ! grep -q '^conn ' "$PP_TMP/$name.out"; then
    pp_ok "$name: a header with a wrong CRC32C is dropped"
  else
    pp_not_ok "$name: a header with a wrong CRC32C is dropped"
    pp_dump "$PP_TMP/$name.out"
  fi
  payload="replayed"$'\n'
  pp_run_client_hex "$name-good" "$header$(printf '%s' "$payload" | pp_hex)" \
    nc -N 127.0.0.1 "$sport"
  pp_wait_exit "$spid" || true
  line=$(pp_conn_line "$PP_TMP/$name.out")
  echo "# $name: ${line:-<no conn line>}"
  pp_expect_eq "$name: exactly one connection reached the application" \
    "$(grep -c '^conn ' "$PP_TMP/$name.out" || true)" 1
  pp_expect_eq "$name: the header as sent is accepted: $claimed" \
    "$(pp_field "$line" accept)" "$claimed"
  pp_expect_eq "$name: payload after the replayed header intact" \
    "$(pp_field "$line" data)" "$(printf '%s' "$payload" | pp_hex)"
else
  pp_not_ok "crc-replay: no CRC32C TLV captured to replay"
fi

# IPv6 client, HAProxy bound on [::1], pp_server on 127.0.0.1: the header
# carries ::1, which an AF_INET listener reports as AF_INET6 (len 28).
if [ "$HAVE_IPV6" = 1 ]; then
  for name in ipv6-client-v2 ipv6-client-v1; do
    run_case "$name" "inet6 ::1 CPORT" 28 \
      nc -N -6 -s ::1 -p CPORT ::1 "${HPORT[$name]}"
  done
fi

# Chain: libproxyproto_connect.so writes a header claiming 8.8.8.8:4321,
# HAProxy accepts it (accept-proxy) and forwards it in its own header
# (send-proxy-v2 or send-proxy), which libproxyproto.so accepts.
run_case chain-v2 "inet 8.8.8.8 4321" 16 \
  env LD_PRELOAD="$CLIENT_PRELOAD" LIBPROXYPROTO_ADDR=8.8.8.8 LIBPROXYPROTO_PORT=4321 \
  nc -N 127.0.0.1 "${HPORT[chain-v2]}"
run_case chain-v1-in "inet 8.8.8.8 4321" 16 \
  env LD_PRELOAD="$CLIENT_PRELOAD" LIBPROXYPROTO_ADDR=8.8.8.8 LIBPROXYPROTO_PORT=4321 \
  LIBPROXYPROTO_VERSION=1 nc -N 127.0.0.1 "${HPORT[chain-v1-in]}"
run_case chain-v1-out "inet 8.8.8.8 4321" 16 \
  env LD_PRELOAD="$CLIENT_PRELOAD" LIBPROXYPROTO_ADDR=8.8.8.8 LIBPROXYPROTO_PORT=4321 \
  nc -N 127.0.0.1 "${HPORT[chain-v1-out]}"

if kill -0 "$hpid" 2>/dev/null; then
  pp_ok "haproxy still running at the end"
else
  pp_not_ok "haproxy still running at the end"
  pp_dump "$PP_TMP/haproxy.log"
fi

pp_finish
