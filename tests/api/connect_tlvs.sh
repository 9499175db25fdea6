#!/bin/bash
# The connect library's TLVs (AWS, Azure, GCP, AUTHORITY, CRC32C), LOCAL
# command and destination override, checked through the public API of a
# server under libproxyproto (tests/api/api_server) and through the JSON of
# proxyproto-inspect; and LIBPROXYPROTO_GETSOCKNAME and header keeping, on
# and off.
#
# spid, tpid are set through pp_bg.
# shellcheck disable=SC2154
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"

# The settings this test turns on, from its command lines only.
unset LIBPROXYPROTO_KEEP_HEADER LIBPROXYPROTO_GETSOCKNAME LIBPROXYPROTO_TLVS \
  LIBPROXYPROTO_COMMAND LIBPROXYPROTO_DESTINATION_ADDR \
  LIBPROXYPROTO_DESTINATION_PORT

require_env LIBPROXYPROTO_SO LIBPROXYPROTO_CONNECT_SO PP_HELPERS PP_BUILDDIR
require_tool nc timeout python3
require_openbsd_nc
API_SERVER=$PP_BUILDDIR/tests/api/api_server
INSPECT=$PP_BUILDDIR/tools/proxyproto-inspect
[ -x "$API_SERVER" ] || pp_fatal "$API_SERVER not built"
[ -x "$INSPECT" ] || pp_fatal "$INSPECT not built"

TLVS='aws_vpce_id:vpce-0123abc,azure_linkid:305419896,gcp_psc_id:18446744073709551615,authority:a%2Cb.example,crc32c'
CLIENT_ENV=(LD_PRELOAD="$(pp_preload_value "$LIBPROXYPROTO_CONNECT_SO")"
  LIBPROXYPROTO_ADDR=198.51.100.7 LIBPROXYPROTO_PORT=4444
  LIBPROXYPROTO_DESTINATION_ADDR=203.0.113.9 LIBPROXYPROTO_DESTINATION_PORT=8443)

# send NAME PORT [ENV=VALUE...]: "hello" through nc under the connect library.
send() {
  local name=$1 port=$2
  shift 2
  pp_run_client "$name" hello env "${CLIENT_ENV[@]}" "$@" nc -N 127.0.0.1 "$port"
}

# api_case NAME SERVER-ARG [SERVER-ENV...]: one connection to api_server;
# leaves its line in $LINE.
api_case() {
  local name=$1 arg=$2 port
  shift 2
  port=$(pp_free_port)
  pp_bg spid timeout 20 env "$@" "$API_SERVER" "$port" 1 "$arg" ${API_EXTRA:+"$API_EXTRA"} \
    >"$PP_TMP/$name.out" 2>"$PP_TMP/$name.err"
  pp_wait_for_line "$PP_TMP/$name.out" '^listening$' "$PP_DEADLINE" "$spid" ||
    pp_fatal "api_server did not start: $(cat "$PP_TMP/$name.err")"
  send "$name" "$port" LIBPROXYPROTO_TLVS="$TLVS"
  pp_wait_exit "$spid" || true
  LINE=$(grep '^conn ' "$PP_TMP/$name.out" || true)
  [ -n "$LINE" ] || pp_dump "$PP_TMP/$name.out" "$PP_TMP/$name.err" "$PP_TMP/$name.cerr"
}

# ---- Through the API --------------------------------------------------------
api_case keep --keep LIBPROXYPROTO_GETSOCKNAME=1
pp_expect_match "api: peer is the header's source" "$LINE" ' peer=198\.51\.100\.7:4444 '
pp_expect_match "api: GETSOCKNAME=1 reports the header's destination" "$LINE" ' local=203\.0\.113\.9:8443 '
pp_expect_match "api: AWS VPC endpoint ID" "$LINE" ' aws=vpce-0123abc '
pp_expect_match "api: Azure LinkID (little-endian on the wire)" "$LINE" ' azure=305419896 '
pp_expect_match "api: GCP PSC ID (64-bit)" "$LINE" ' gcp=18446744073709551615 '
pp_expect_match "api: AUTHORITY with an escaped comma" "$LINE" ' authority=a,b\.example '
pp_expect_match "api: CRC32C present and verified" "$LINE" ' crc32c=0x[0-9a-f]{8} '
pp_expect_match "api: absent TLVs are absent" "$LINE" ' alpn=- .* ssl=- '
pp_expect_match "api: the payload is intact" "$LINE" ' payload=hello$'

api_case env-keep --no-keep LIBPROXYPROTO_KEEP_HEADER=1
pp_expect_match "LIBPROXYPROTO_KEEP_HEADER=1 keeps the header" "$LINE" ' aws=vpce-0123abc '
pp_expect_match "getsockname is the real one by default" "$LINE" ' local=127\.0\.0\.1:[0-9]+ '

api_case nothing --no-keep
pp_expect_match "nothing kept unless asked" "$LINE" ' header=none\(No such file or directory\) '
pp_expect_match "still proxied without keeping" "$LINE" ' peer=198\.51\.100\.7:4444 '

api_case debug --no-keep LIBPROXYPROTO_DEBUG=1
pp_expect_match "LIBPROXYPROTO_DEBUG shows the decoded header" \
  "$(grep 'header on fd' "$PP_TMP/debug.err" || true)" \
  'header on fd [0-9]+: v2 PROXY TCP4 source 198\.51\.100\.7 port 4444 destination 203\.0\.113\.9 port 8443 tlvs aws\.vpce_id="vpce-0123abc" azure\.linkid=305419896 gcp\.psc_connection_id=18446744073709551615 authority="a,b\.example" crc32c=0x[0-9a-f]{8}$'

# The usual header (no TLV) is read without a decoded header unless
# something watches consumed headers: the debug log must see every one, not
# only the first connection's (which loads the settings).
port=$(pp_free_port)
pp_bg spid timeout 20 env LIBPROXYPROTO_DEBUG=1 "$API_SERVER" "$port" 3 --no-keep \
  >"$PP_TMP/debug-usual.out" 2>"$PP_TMP/debug-usual.err"
pp_wait_for_line "$PP_TMP/debug-usual.out" '^listening$' "$PP_DEADLINE" "$spid" ||
  pp_fatal "api_server did not start: $(cat "$PP_TMP/debug-usual.err")"
for i in 1 2 3; do send "debug-usual-$i" "$port"; done
pp_wait_exit "$spid" || true
pp_expect_eq "LIBPROXYPROTO_DEBUG shows every usual header decoded" \
  "$(grep -cE 'header on fd [0-9]+: v2 PROXY TCP4 source 198\.51\.100\.7 port 4444 destination 203\.0\.113\.9 port 8443$' "$PP_TMP/debug-usual.err" || true)" 3

api_case sockname-only --no-keep LIBPROXYPROTO_GETSOCKNAME=1
pp_expect_match "GETSOCKNAME=1 alone: destination reported" "$LINE" ' local=203\.0\.113\.9:8443 '
pp_expect_match "GETSOCKNAME=1 alone: no header for the API" "$LINE" ' header=none'

# ---- Settings taken at load time and from the file ---------------------------
# A server that clears its environment before it accepts (as nginx workers
# do) keeps both settings: they are captured when the library is loaded.
API_EXTRA=--clear-env
api_case cleared --no-keep LIBPROXYPROTO_KEEP_HEADER=1 LIBPROXYPROTO_GETSOCKNAME=1
pp_expect_match "environment cleared: KEEP_HEADER still keeps the header" "$LINE" ' aws=vpce-0123abc '
pp_expect_match "environment cleared: GETSOCKNAME still reports the destination" "$LINE" ' local=203\.0\.113\.9:8443 '
API_EXTRA=
# Both as keys of the configuration file.
printf 'keep_header = 1\ngetsockname = 1\n' >"$PP_TMP/features.conf"
api_case from-file --no-keep LIBPROXYPROTO_CONFIG="$PP_TMP/features.conf"
pp_expect_match "keep_header = 1 in the file keeps the header" "$LINE" ' aws=vpce-0123abc '
pp_expect_match "getsockname = 1 in the file reports the destination" "$LINE" ' local=203\.0\.113\.9:8443 '
pp_expect_match "the file's keys are known (the proxy stays trusted)" "$LINE" ' peer=198\.51\.100\.7:4444 '
printf 'keep_header = 1\n' >"$PP_TMP/keep.conf"
api_case env-over-file --no-keep LIBPROXYPROTO_CONFIG="$PP_TMP/keep.conf" LIBPROXYPROTO_KEEP_HEADER=0
pp_expect_match "LIBPROXYPROTO_KEEP_HEADER=0 overrides the file" "$LINE" ' header=none'
# A value that cannot be used is reported (and counts as off).
long=$(printf '1%.0s' $(seq 1 300))
api_case too-long --no-keep LIBPROXYPROTO_DEBUG=1 LIBPROXYPROTO_KEEP_HEADER="$long"
pp_expect_match "a LIBPROXYPROTO_KEEP_HEADER too long is reported" \
  "$(cat "$PP_TMP/too-long.err")" 'settings: LIBPROXYPROTO_KEEP_HEADER="1+\.\.\." is too long; off'
pp_expect_match "a LIBPROXYPROTO_KEEP_HEADER too long is off" "$LINE" ' header=none'

# ---- Through proxyproto-inspect --json ---------------------------------------
# inspect NAME [CLIENT-ENV...]: one connection to the tool; JSON in NAME.json.
inspect() {
  local name=$1 port
  shift
  port=$(pp_free_port)
  pp_bg tpid timeout 20 "$INSPECT" --json --listen "127.0.0.1:$port" --count 1 \
    >"$PP_TMP/$name.json" 2>"$PP_TMP/$name.terr"
  pp_wait_for_line "$PP_TMP/$name.terr" 'listening' "$PP_DEADLINE" "$tpid" ||
    pp_fatal "proxyproto-inspect did not start: $(cat "$PP_TMP/$name.terr")"
  send "$name" "$port" "$@"
  pp_wait_exit "$tpid" || true
}

# json_check NAME DESC PYTHON-EXPRESSION: j is the parsed object.
json_check() {
  if python3 - "$PP_TMP/$1.json" "$3" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
j = json.loads(lines[0])
tlv = {t["name"]: t for t in j.get("tlvs", [])}
ok = eval(sys.argv[2])
if not ok:
    print("# json:", lines[0])
sys.exit(0 if ok else 1)
PY
  then pp_ok "$2"; else pp_not_ok "$2"; fi
}

inspect tool LIBPROXYPROTO_TLVS="$TLVS"
json_check tool "json: version, command, family" \
  'j["version"] == 2 and j["command"] == "PROXY" and j["family"] == "inet"'
json_check tool "json: source and destination" \
  'j["source"] == {"address": "198.51.100.7", "port": 4444} and j["destination"] == {"address": "203.0.113.9", "port": 8443}'
json_check tool "json: TLVs in order with type and name" \
  '[(t["type"], t["name"]) for t in j["tlvs"]] == [(0xEA, "aws"), (0xEE, "azure"), (0xE0, "gcp"), (2, "authority"), (3, "crc32c")]'
json_check tool "json: AWS, Azure and GCP values decoded" \
  'tlv["aws"]["value"] == "vpce-0123abc" and tlv["azure"]["value"] == 305419896 and tlv["gcp"]["value"] == 18446744073709551615'
json_check tool "json: authority" 'tlv["authority"]["value"] == "a,b.example"'

# JSON escaping: a quote, a backslash, a control byte and a non-UTF-8 byte.
inspect escaping LIBPROXYPROTO_TLVS='authority:q%22b%5Cc%01d%ffe%c3%a9'
json_check escaping "json: strings escaped, invalid UTF-8 kept as code points" \
  'tlv["authority"]["value"] == "q\"b\\c\x01d\xffe\u00e9"'

inspect local LIBPROXYPROTO_COMMAND=local LIBPROXYPROTO_TLVS=crc32c
json_check local "json: LOCAL command, no addresses" \
  'j["command"] == "LOCAL" and j["family"] == "unspec" and j["source"] is None'

inspect bad-setting LIBPROXYPROTO_TLVS='nosuchtype:1'
json_check bad-setting "a bad LIBPROXYPROTO_TLVS sends no header" \
  'j["error"] == "not_proxy"'
pp_expect_match "a bad LIBPROXYPROTO_TLVS is reported" \
  "$(cat "$PP_TMP/bad-setting.cerr")" 'LIBPROXYPROTO_TLVS: cannot use the item at offset 0'

pp_finish
