#!/bin/bash
# The README's netcat examples, automated, plus the library's outcomes
# (header, no header, must-use, version gating, bad client settings) seen
# through pp_server.
#
# Server side: nc or pp_server under libproxyproto.so.
# Client side: nc (netcat-openbsd) under libproxyproto_connect.so, or plain.
#
# spid and sport are set through pp_start_server.
# shellcheck disable=SC2154
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"

require_env LIBPROXYPROTO_SO LIBPROXYPROTO_CONNECT_SO PP_HELPERS
require_tool nc timeout od
require_openbsd_nc
[ -x "$PP_HELPERS/pp_server" ] || pp_fatal "$PP_HELPERS/pp_server not built"
[ -f "$LIBPROXYPROTO_SO" ] || pp_fatal "$LIBPROXYPROTO_SO not built"
[ -f "$LIBPROXYPROTO_CONNECT_SO" ] || pp_fatal "$LIBPROXYPROTO_CONNECT_SO not built"

SERVER_PRELOAD=$(pp_preload_value "$LIBPROXYPROTO_SO")
CLIENT_PRELOAD=$(pp_preload_value "$LIBPROXYPROTO_CONNECT_SO")
V2_SIG=0d0a0d0a000d0a515549540a

HAVE_IPV6=0
if pp_require_ipv6; then HAVE_IPV6=1; fi

# ---------------------------------------------------------------------------
# nc server under libproxyproto.so, nc client under libproxyproto_connect.so.
#
# nc_case NAME FAMILY WANT_ADDR CLIENT_ENV...
#   FAMILY 4: server "nc -n -v -l 127.0.0.1 PORT", client to 127.0.0.1
#   FAMILY 6: server "nc -n -v -6 -l ::1 PORT",   client to ::1
# Checks: the server reports "Connection received on WANT_ADDR 4321" and
# prints exactly the payload line.
# shellcheck disable=SC2317 # run through pp_bg
nc_server() {
  local fam=$1 port=$2
  if [ "$fam" = 6 ]; then
    exec timeout 30 env LD_PRELOAD="$SERVER_PRELOAD" nc -d -n -v -6 -l ::1 "$port"
  else
    exec timeout 30 env LD_PRELOAD="$SERVER_PRELOAD" nc -d -n -v -l 127.0.0.1 "$port"
  fi
}

nc_case() {
  local name=$1 fam=$2 want=$3 host port spid payload
  shift 3
  host=127.0.0.1
  [ "$fam" = 6 ] && host=::1
  payload="hello $name from the README example"
  local try listening=0
  for try in 1 2 3 4 5; do
    port=$(pp_free_port)
    pp_bg spid nc_server "$fam" "$port" >"$PP_TMP/$name.sout" 2>"$PP_TMP/$name.serr"
    if pp_wait_for_line "$PP_TMP/$name.serr" '^Listening on' "$PP_DEADLINE" "$spid"; then
      listening=1
      break
    fi
    pp_stop "$spid"
    # Another process took the port meanwhile: try another one.
    grep -q 'Address already in use' "$PP_TMP/$name.serr" || break
    echo "# $name: port $port was taken meanwhile; trying another"
  done
  if [ "$listening" != 1 ]; then
    pp_not_ok "$name: nc server started listening"
    pp_dump "$PP_TMP/$name.serr"
    return 0
  fi
  pp_run_client "$name" "$payload"$'\n' \
    env LD_PRELOAD="$CLIENT_PRELOAD" "$@" nc -N "$host" "$port"
  pp_expect_eq "$name: nc client exited 0" "$PP_RC" 0
  if pp_wait_exit "$spid"; then
    pp_ok "$name: nc server exited after the connection"
  else
    pp_not_ok "$name: nc server exited after the connection"
  fi
  if grep -Fqx "Connection received on $want 4321" "$PP_TMP/$name.serr"; then
    pp_ok "$name: nc server reports 'Connection received on $want 4321'"
  else
    pp_not_ok "$name: nc server reports 'Connection received on $want 4321'"
    pp_dump "$PP_TMP/$name.serr" "$PP_TMP/$name.cerr"
  fi
  pp_expect_eq "$name: nc server received the payload line exactly" \
    "$(cat "$PP_TMP/$name.sout")" "$payload"
}

nc_case nc-ipv4-v2 4 8.8.8.8 LIBPROXYPROTO_ADDR=8.8.8.8 LIBPROXYPROTO_PORT=4321
nc_case nc-ipv4-v1 4 8.8.8.8 LIBPROXYPROTO_ADDR=8.8.8.8 LIBPROXYPROTO_PORT=4321 \
  LIBPROXYPROTO_VERSION=1
if [ "$HAVE_IPV6" = 1 ]; then
  nc_case nc-ipv6-v2 6 2001:4860:4860::8888 \
    LIBPROXYPROTO_ADDR=2001:4860:4860::8888 LIBPROXYPROTO_PORT=4321
  nc_case nc-ipv6-v1 6 2001:4860:4860::8888 \
    LIBPROXYPROTO_ADDR=2001:4860:4860::8888 LIBPROXYPROTO_PORT=4321 \
    LIBPROXYPROTO_VERSION=1
fi

# ---------------------------------------------------------------------------
# pp_server under libproxyproto.so.
#
# pp_case NAME "SERVER_ENV..." "SERVER_ARGS..." CLIENT_CMD...
# In CLIENT_CMD, PORT stands for pp_server's port and CPORT for a free port
# for the client to bind (the one used is then in $PP_CPORT).
# Runs one connection; afterwards PP_LINE holds the conn line (empty if none).
# The client's payload is $PAYLOAD.
PP_LINE=
PAYLOAD=
pp_case() {
  local name=$1 senv=$2 sargs=$3 spid sport
  shift 3
  local -a envs args
  read -r -a envs <<<"$senv"
  read -r -a args <<<"$sargs"
  pp_start_server spid sport "$PP_TMP/$name.out" "${envs[@]}" -- --count 1 "${args[@]}"
  PAYLOAD="payload of $name"$'\n'"second line"$'\n'
  # Substitute the placeholder PORT in the client command.
  local -a cmd=()
  local a
  for a in "$@"; do
    [ "$a" = PORT ] && a=$sport
    cmd+=("$a")
  done
  pp_run_client_cport "$name" "$PAYLOAD" "${cmd[@]}"
  pp_expect_eq "$name: client exited 0" "$PP_RC" 0
  [ "$PP_RC" = 0 ] || pp_dump "$PP_TMP/$name.cerr"
  if pp_wait_exit "$spid"; then
    pp_ok "$name: pp_server served its connection and exited"
  else
    pp_not_ok "$name: pp_server served its connection and exited"
  fi
  PP_LINE=$(pp_conn_line "$PP_TMP/$name.out")
  echo "# $name: ${PP_LINE:-<no conn line>}"
}

# check_conn NAME WANT_ACCEPT WANT_LEN WANT_DATA_HEX
check_conn() {
  local name=$1 want=$2 wantlen=$3 wantdata=$4
  pp_expect_eq "$name: accept() reports $want" "$(pp_field "$PP_LINE" accept)" "$want"
  pp_expect_eq "$name: getpeername() reports $want" "$(pp_field "$PP_LINE" peer)" "$want"
  pp_expect_eq "$name: addrlen is $wantlen" "$(pp_field "$PP_LINE" len)" "$wantlen"
  pp_expect_eq "$name: application data is exactly the payload" \
    "$(pp_field "$PP_LINE" data)" "$wantdata"
}

proxied=(env LD_PRELOAD="$CLIENT_PRELOAD" LIBPROXYPROTO_ADDR=8.8.8.8 LIBPROXYPROTO_PORT=4321)
proxied6=(env LD_PRELOAD="$CLIENT_PRELOAD" LIBPROXYPROTO_ADDR=2001:4860:4860::8888
  LIBPROXYPROTO_PORT=4321)

# Connect library -> pp_server, v2 (default) and v1.
pp_case pp-ipv4-v2 "" "" "${proxied[@]}" nc -N 127.0.0.1 PORT
check_conn pp-ipv4-v2 "inet 8.8.8.8 4321" 16 "$(printf '%s' "$PAYLOAD" | pp_hex)"

pp_case pp-ipv4-v1 "" "" "${proxied[@]}" LIBPROXYPROTO_VERSION=1 nc -N 127.0.0.1 PORT
check_conn pp-ipv4-v1 "inet 8.8.8.8 4321" 16 "$(printf '%s' "$PAYLOAD" | pp_hex)"

if [ "$HAVE_IPV6" = 1 ]; then
  # Mixed families: an IPv6 source to an IPv4 listener is reported as
  # AF_INET6 with addrlen = sizeof(struct sockaddr_in6).
  pp_case pp-ipv6-src-ipv4-listener "" "" "${proxied6[@]}" nc -N 127.0.0.1 PORT
  check_conn pp-ipv6-src-ipv4-listener "inet6 2001:4860:4860::8888 4321" 28 \
    "$(printf '%s' "$PAYLOAD" | pp_hex)"

  pp_case pp-ipv6-src-ipv4-listener-v1 "" "" "${proxied6[@]}" LIBPROXYPROTO_VERSION=1 \
    nc -N 127.0.0.1 PORT
  check_conn pp-ipv6-src-ipv4-listener-v1 "inet6 2001:4860:4860::8888 4321" 28 \
    "$(printf '%s' "$PAYLOAD" | pp_hex)"

  # An IPv4 source to an IPv6 listener becomes an IPv4-mapped address.
  pp_case pp-ipv4-src-ipv6-listener "" "--family 6" "${proxied[@]}" nc -N ::1 PORT
  check_conn pp-ipv4-src-ipv6-listener "inet6 ::ffff:8.8.8.8 4321" 28 \
    "$(printf '%s' "$PAYLOAD" | pp_hex)"

  pp_case pp-ipv6-src-ipv6-listener "" "--family 6" "${proxied6[@]}" nc -N ::1 PORT
  check_conn pp-ipv6-src-ipv6-listener "inet6 2001:4860:4860::8888 4321" 28 \
    "$(printf '%s' "$PAYLOAD" | pp_hex)"
fi

# Passthrough: a plain client (no connect library) keeps its real address.
pp_case passthrough "" "" nc -N -p CPORT 127.0.0.1 PORT
check_conn passthrough "inet 127.0.0.1 $PP_CPORT" 16 "$(printf '%s' "$PAYLOAD" | pp_hex)"

# Version gating: the server accepts v1 only; a v2 header is then no header
# at all, and its bytes reach the application as data.
pp_case version-gating LIBPROXYPROTO_VERSION=1 "" "${proxied[@]}" \
  nc -N -p CPORT 127.0.0.1 PORT
gated_sport=$(sed -n 's/^port //p' "$PP_TMP/version-gating.out")
v2_header="${V2_SIG}2111000c080808087f000001$(printf '%04x%04x' 4321 "$gated_sport")"
check_conn version-gating "inet 127.0.0.1 $PP_CPORT" 16 \
  "$v2_header$(printf '%s' "$PAYLOAD" | pp_hex)"
case $(pp_field "$PP_LINE" data) in
  "$V2_SIG"*) pp_ok "version-gating: data begins with the v2 signature" ;;
  *) pp_not_ok "version-gating: data begins with the v2 signature" ;;
esac

# Bad client settings: the connect library complains and sends no header.
pp_case bad-addr "" "" env LD_PRELOAD="$CLIENT_PRELOAD" LIBPROXYPROTO_ADDR=not-an-ip \
  LIBPROXYPROTO_PORT=4321 nc -N -p CPORT 127.0.0.1 PORT
check_conn bad-addr "inet 127.0.0.1 $PP_CPORT" 16 "$(printf '%s' "$PAYLOAD" | pp_hex)"
if grep -q 'LIBPROXYPROTO_ADDR' "$PP_TMP/bad-addr.cerr"; then
  pp_ok "bad-addr: the client reports the bad LIBPROXYPROTO_ADDR on stderr"
else
  pp_not_ok "bad-addr: the client reports the bad LIBPROXYPROTO_ADDR on stderr"
  pp_dump "$PP_TMP/bad-addr.cerr"
fi

pp_case bad-port "" "" env LD_PRELOAD="$CLIENT_PRELOAD" LIBPROXYPROTO_ADDR=8.8.8.8 \
  LIBPROXYPROTO_PORT=99999 nc -N -p CPORT 127.0.0.1 PORT
check_conn bad-port "inet 127.0.0.1 $PP_CPORT" 16 "$(printf '%s' "$PAYLOAD" | pp_hex)"
if grep -q 'LIBPROXYPROTO_PORT' "$PP_TMP/bad-port.cerr"; then
  pp_ok "bad-port: the client reports the bad LIBPROXYPROTO_PORT on stderr"
else
  pp_not_ok "bad-port: the client reports the bad LIBPROXYPROTO_PORT on stderr"
  pp_dump "$PP_TMP/bad-port.cerr"
fi

# Sends one proxied connection (8.8.8.8:4321) to the pp_server $spid of case
# $name, started with --count 1, and checks that it is the only connection
# the application saw, with its payload intact.
expect_only_the_proxied_connection() {
  local name=$1 spid=$2 sport=$3 payload=$4
  pp_run_client "$name-proxied" "$payload" "${proxied[@]}" nc -N 127.0.0.1 "$sport"
  pp_expect_eq "$name: proxied client exited 0" "$PP_RC" 0
  if pp_wait_exit "$spid"; then
    pp_ok "$name: pp_server served one connection and exited"
  else
    pp_not_ok "$name: pp_server served one connection and exited"
  fi
  PP_LINE=$(pp_conn_line "$PP_TMP/$name.out")
  echo "# $name: ${PP_LINE:-<no conn line>}"
  pp_expect_eq "$name: exactly one connection reached the application" \
    "$(grep -c '^conn ' "$PP_TMP/$name.out" || true)" 1
  check_conn "$name" "inet 8.8.8.8 4321" 16 "$(printf '%s' "$payload" | pp_hex)"
}

# Must-use: with LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER=1 a plain connection is
# dropped without the application seeing it; the next, proxied, connection is
# the one and only connection pp_server reports.
name=must-use
pp_start_server spid sport "$PP_TMP/$name.out" \
  LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER=1 -- --count 1
pp_run_client "$name-plain" "plain connection, must be dropped"$'\n' \
  nc -N 127.0.0.1 "$sport"
if [ "$PP_RC" -ne 124 ]; then
  pp_ok "$name: the plain connection was closed by the server"
else
  pp_not_ok "$name: the plain connection was closed by the server (client timed out)"
fi
expect_only_the_proxied_connection "$name" "$spid" "$sport" \
  "the proxied connection"$'\n'

# Malformed headers: each connection is dropped (closed, never reported),
# whether or not the header is required; the valid proxied connection that
# follows is the only one the application sees.
name=malformed
bad_headers=(
  # v1: port out of range
  "$(printf 'PROXY TCP4 1.2.3.4 5.6.7.8 99999 80\r\nafter\n' | pp_hex)"
  # v1: two spaces between fields
  "$(printf 'PROXY TCP4  1.2.3.4 5.6.7.8 1234 80\r\nafter\n' | pp_hex)"
  # v1: IPv6 address in a TCP4 line
  "$(printf 'PROXY TCP4 ::1 5.6.7.8 1234 80\r\nafter\n' | pp_hex)"
  # v2: command 2 (only LOCAL 0 and PROXY 1 exist)
  "${V2_SIG}2211000c0102030405060708162e0050$(printf 'after\n' | pp_hex)"
  # v2: unknown family/transport byte
  "${V2_SIG}2177000c0102030405060708162e0050$(printf 'after\n' | pp_hex)"
  # v2: length shorter than the IPv4 address block
  "${V2_SIG}211100080102030405060708$(printf 'after\n' | pp_hex)"
)
pp_start_server spid sport "$PP_TMP/$name.out" -- --count 1
n=0
for h in "${bad_headers[@]}"; do
  n=$((n + 1))
  pp_run_client_hex "$name-$n" "$h" nc -N 127.0.0.1 "$sport"
  if [ "$PP_RC" -ne 124 ]; then
    pp_ok "$name: malformed header $n: the connection was closed by the server"
  else
    pp_not_ok "$name: malformed header $n: the connection was closed by the server (client timed out)"
  fi
  if grep -q '^conn ' "$PP_TMP/$name.out"; then
    pp_not_ok "$name: malformed header $n: the application saw no connection"
    pp_dump "$PP_TMP/$name.out"
    break
  else
    pp_ok "$name: malformed header $n: the application saw no connection"
  fi
done
expect_only_the_proxied_connection "$name" "$spid" "$sport" \
  "valid after malformed"$'\n'

pp_finish
