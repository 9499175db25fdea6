#!/bin/bash
# HAProxy terminating TLS (a self-signed certificate made here by openssl)
# and sending PROXY v2 with "send-proxy-v2-ssl-cn proxy-v2-options
# unique-id,authority,ssl,crc32c,...": to proxyproto-inspect --json (checked
# with python3's json) and to a server under libproxyproto reading the header
# through the public API.
#
#   openssl s_client (SNI, ALPN h2, client certificate)
#     -> haproxy (bind ... ssl) -> proxyproto-inspect | api_server
#
# hpid, tpid, spid are set through pp_bg.
# shellcheck disable=SC2154
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"

unset LIBPROXYPROTO_KEEP_HEADER LIBPROXYPROTO_GETSOCKNAME

require_env LIBPROXYPROTO_SO PP_HELPERS PP_BUILDDIR
pp_require_haproxy
require_tool openssl python3
API_SERVER=$PP_BUILDDIR/tests/api/api_server
INSPECT=$PP_BUILDDIR/tools/proxyproto-inspect
[ -x "$API_SERVER" ] || pp_fatal "$API_SERVER not built"
[ -x "$INSPECT" ] || pp_fatal "$INSPECT not built"

# ---- Certificates: the server's, and a client's that the server trusts -------
cert() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -days 2 -subj "/CN=$1" -keyout "$PP_TMP/$2.key" -out "$PP_TMP/$2.crt" \
    >"$PP_TMP/openssl-$2.log" 2>&1 || pp_fatal "openssl req failed: $(cat "$PP_TMP/openssl-$2.log")"
  cat "$PP_TMP/$2.crt" "$PP_TMP/$2.key" >"$PP_TMP/$2.pem"
}
cert server.test server
cert test-client client

# ---- The two backends -----------------------------------------------------------
TOOL_PORT=$(pp_free_port)
pp_bg tpid timeout 60 "$INSPECT" --json --listen "127.0.0.1:$TOOL_PORT" --count 1 \
  >"$PP_TMP/tool.json" 2>"$PP_TMP/tool.err"
pp_wait_for_line "$PP_TMP/tool.err" listening "$PP_DEADLINE" "$tpid" ||
  pp_fatal "proxyproto-inspect did not start: $(cat "$PP_TMP/tool.err")"
API_PORT=$(pp_free_port)
pp_bg spid timeout 60 "$API_SERVER" "$API_PORT" 1 --keep \
  >"$PP_TMP/api.out" 2>"$PP_TMP/api.err"
pp_wait_for_line "$PP_TMP/api.out" '^listening$' "$PP_DEADLINE" "$spid" ||
  pp_fatal "api_server did not start: $(cat "$PP_TMP/api.err")"

# ---- HAProxy --------------------------------------------------------------------
SERVER_OPTS="send-proxy-v2-ssl-cn proxy-v2-options unique-id,authority,ssl,ssl-cipher,cert-sig,cert-key,crc32c"
# tls_sections: the two TLS frontends, on fresh free ports.
# shellcheck disable=SC2317 # run by pp_haproxy_config
tls_sections() {
  TOOL_FRONT=$(pp_free_port)
  API_FRONT=$(pp_free_port)
  cat <<CFG

listen to-tool
    bind 127.0.0.1:$TOOL_FRONT ssl crt $PP_TMP/server.pem alpn h2,http/1.1 ca-file $PP_TMP/client.crt verify optional
    unique-id-format tool-%{+X}o\ %ci
    server s1 127.0.0.1:$TOOL_PORT $SERVER_OPTS

listen to-api
    bind 127.0.0.1:$API_FRONT ssl crt $PP_TMP/server.pem alpn h2,http/1.1 ca-file $PP_TMP/client.crt verify optional
    unique-id-format api-%{+X}o\ %ci
    server s1 127.0.0.1:$API_PORT $SERVER_OPTS
CFG
}

if ! pp_haproxy_start hpid tls_sections; then
  pp_dump "$PP_HAPROXY_CFG" "$PP_HAPROXY_LOG"
  pp_fatal "haproxy did not start listening"
fi
pp_ok "haproxy with TLS frontends started"

# tls_client NAME PORT: SNI www.example.test, ALPN h2, the client certificate.
tls_client() {
  pp_run_client "$1" "hello over tls" openssl s_client -quiet -no_ign_eof \
    -connect "127.0.0.1:$2" -servername www.example.test -alpn h2 \
    -cert "$PP_TMP/client.crt" -key "$PP_TMP/client.key"
}

# ---- proxyproto-inspect --json ---------------------------------------------------
tls_client tool "$TOOL_FRONT"
pp_wait_exit "$tpid" || true
echo "# tool: $(cat "$PP_TMP/tool.json")"
if python3 - "$PP_TMP/tool.json" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, "one object per connection: %r" % lines
j = json.loads(lines[0])
tlv = {t["name"]: t for t in j["tlvs"]}
checks = [
    ("version 2 PROXY", j["version"] == 2 and j["command"] == "PROXY"),
    ("family inet, stream", j["family"] == "inet" and j["transport"] == "stream"),
    ("source 127.0.0.1", j["source"]["address"] == "127.0.0.1"),
    ("destination is haproxy's frontend", j["destination"]["address"] == "127.0.0.1"),
    ("authority is the SNI", tlv["authority"]["value"] == "www.example.test"),
    ("alpn h2", tlv["alpn"]["value"] == "h2"),
    ("unique_id", tlv["unique_id"]["value"].startswith("tool-")),
    ("crc32c", tlv["crc32c"]["type"] == 3),
    ("ssl client flags: ssl, cert", tlv["ssl"]["value"]["client"] & 0x03 == 0x03),
    ("ssl verify 0", tlv["ssl"]["value"]["verify"] == 0),
    ("ssl cn", tlv["ssl"]["value"]["cn"] == "test-client"),
    ("ssl version TLS", tlv["ssl"]["value"]["version"].startswith("TLSv1")),
    ("ssl cipher", len(tlv["ssl"]["value"]["cipher"]) > 0),
    ("ssl key_alg", "key_alg" in tlv["ssl"]["value"]),
]
bad = [name for name, ok in checks if not ok]
print("# json checks failed:", bad) if bad else None
sys.exit(1 if bad else 0)
PY
then
  pp_ok "inspect --json: version, addresses, authority, alpn, unique_id, crc32c, ssl (cn, verify, version, cipher, key_alg)"
else
  pp_not_ok "inspect --json decodes what HAProxy sends"
  pp_dump "$PP_TMP/tool.err" "$PP_TMP/tool.cerr" "$PP_TMP/haproxy.log"
fi

# ---- A server under the library, through the API ------------------------------
tls_client api "$API_FRONT"
pp_wait_exit "$spid" || true
LINE=$(grep '^conn ' "$PP_TMP/api.out" || true)
echo "# api: $LINE"
pp_expect_match "api: authority is the SNI" "$LINE" ' authority=www\.example\.test '
pp_expect_match "api: alpn h2" "$LINE" ' alpn=h2 '
pp_expect_match "api: unique_id" "$LINE" ' unique_id=api-'
pp_expect_match "api: ssl client 0x07 or 0x03, verify 0, TLS version, CN" "$LINE" \
  ' ssl=[37]/0/TLSv1\.[23]/test-client/[A-Z0-9_-]+ '
pp_expect_match "api: payload intact after the header" "$LINE" ' payload=hello over tls$'
[ -n "$LINE" ] || pp_dump "$PP_TMP/api.err" "$PP_TMP/api.cerr" "$PP_TMP/haproxy.log"

pp_finish
