#!/bin/bash
# Real servers under proxyproto-run, each with a header that arrives with
# the connection: accept()'s address and getpeername() are the claimed
# client's, no header byte reaches the program, and a connection without a
# header keeps its real peer. The servers:
#   - run_server (C) built dynamically: blocking accept() and epoll with
#     non-blocking accept4(SOCK_NONBLOCK | SOCK_CLOEXEC);
#   - the same built statically with musl-gcc;
#   - a Go net/http server, static (CGO_ENABLED=0) and dynamic (cgo);
# and behind HAProxy send-proxy-v2, where each must see 127.0.0.1 and the
# client's own port. Then the Go servers' clients send the header
# themselves, through libproxyproto_connect.so (nc for v1, v2 and an IPv6
# source, curl): r.RemoteAddr, answered and logged, is the claimed address.
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/run/run_lib.sh
. "$(dirname "$0")/run_lib.sh"
require_openbsd_nc
require_tool curl
pp_require_haproxy

run_static_server STATIC
run_go_server static GO_STATIC
run_go_server dynamic GO_DYNAMIC

declare -A SPORTS=()
KINDS=()

# check_c NAME SERVER MODE: the C server under the launcher.
check_c() {
  local name=$1 server=$2 mode=$3 pid port
  run_start pid port "$name" "$PP_RUN" "$server" "$mode"
  run_check_claims "$name" "$port"
  if [ "$mode" = epoll ]; then
    pp_expect_eq "$name: accept4's SOCK_NONBLOCK and SOCK_CLOEXEC honoured" \
      "$(run_field "$PP_TMP/$name-v1.reply" nb),$(run_field "$PP_TMP/$name-v1.reply" ce)" 1,1
  else
    pp_expect_eq "$name: accept() gives a blocking descriptor, kept across exec" \
      "$(run_field "$PP_TMP/$name-v1.reply" nb),$(run_field "$PP_TMP/$name-v1.reply" ce)" 0,0
  fi
  SPORTS[$name]=$port
  KINDS+=("$name")
}

# check_go NAME SERVER: the Go server under the launcher.
check_go() {
  local name=$1 server=$2 pid port
  run_start pid port "$name" "$PP_RUN" "$server"
  run_client "$name-v1" "$port" "${V1}GET / HTTP/1.0\r\n\r\n"
  pp_expect_eq "$name: r.RemoteAddr is the v1 header's client" \
    "$(run_field "$PP_TMP/$name-v1.reply" peer)" 203.0.113.7:4321
  run_client "$name-v2" "$port" "${V2}GET / HTTP/1.0\r\n\r\n"
  pp_expect_eq "$name: r.RemoteAddr is the v2 header's client" \
    "$(run_field "$PP_TMP/$name-v2.reply" peer)" 198.51.100.9:5555
  run_client "$name-plain" "$port" "GET / HTTP/1.0\r\n\r\n"
  pp_expect_match "$name: no header: the real peer" \
    "$(run_field "$PP_TMP/$name-plain.reply" peer)" '^127\.0\.0\.1:[0-9]+$'
  # Many in a row: Go's threads (and SIGURG) take turns in accept4.
  local i bad=0
  for i in $(seq 1 20); do
    run_client "$name-many" "$port" "PROXY TCP4 203.0.113.$i 127.0.0.1 $((1000 + i)) 80\r\nGET / HTTP/1.0\r\n\r\n"
    [ "$(run_field "$PP_TMP/$name-many.reply" peer)" = "203.0.113.$i:$((1000 + i))" ] || bad=$((bad + 1))
  done
  pp_expect_eq "$name: 20 connections in a row, each with its own client" "$bad" 0
  SPORTS[$name]=$port
  KINDS+=("$name")
}

check_c dynamic-blocking "$PP_RUN_DIR/run_server" blocking
check_c dynamic-epoll "$PP_RUN_DIR/run_server" epoll
check_c static-blocking "$STATIC" blocking
check_c static-epoll "$STATIC" epoll
check_go go-static "$GO_STATIC"
check_go go-dynamic "$GO_DYNAMIC"

# ---- getsockname: the header's destination under LIBPROXYPROTO_GETSOCKNAME ---
run_start pid port getsockname env LIBPROXYPROTO_GETSOCKNAME=1 "$PP_RUN" "$STATIC" epoll
run_client getsockname-v1 "$port" "${V1}hello\n"
pp_expect_eq "LIBPROXYPROTO_GETSOCKNAME=1: getsockname() gives the header's destination" \
  "$(run_field "$PP_TMP/getsockname-v1.reply" local)" 127.0.0.1:80
run_client getsockname-plain "$port" "plain\n"
pp_expect_eq "LIBPROXYPROTO_GETSOCKNAME=1: without a header, the real local address" \
  "$(run_field "$PP_TMP/getsockname-plain.reply" local)" "127.0.0.1:$port"
pp_stop "$pid"
pp_expect_eq "without LIBPROXYPROTO_GETSOCKNAME: getsockname() is the kernel's" \
  "$(run_field "$PP_TMP/static-epoll-v1.reply" local)" "127.0.0.1:${SPORTS[static-epoll]}"

# ---- An unprivileged user, no capability -------------------------------------
if [ "$(id -u)" = 0 ]; then
  require_tool setpriv
  chmod 711 "$PP_TMP"
  run_start pid port unprivileged setpriv --reuid=65534 --regid=65534 --clear-groups \
    --inh-caps=-all --bounding-set=-all -- "$PP_RUN" "$STATIC" blocking
  run_client unprivileged "$port" "${V1}hello\n"
  pp_expect_eq "as user 65534 without capabilities: the claimed client" \
    "$(run_field "$PP_TMP/unprivileged.reply" peer)" 203.0.113.7:4321
  pp_expect_eq "as user 65534: the server ran as that user" \
    "$(awk '/^Uid:/ { print $2 }' "/proc/$(pp_children "$pid" | head -n1)/status")" 65534
  pp_stop "$pid"
else
  run_start pid port unprivileged "$PP_RUN" "$STATIC" blocking
  run_client unprivileged "$port" "${V1}hello\n"
  pp_expect_eq "as user $(id -u): the claimed client" \
    "$(run_field "$PP_TMP/unprivileged.reply" peer)" 203.0.113.7:4321
  pp_stop "$pid"
fi

# ---- Behind HAProxy send-proxy-v2 -------------------------------------------
declare -A HPORT=()
haproxy_sections() {
  local name
  for name in "${KINDS[@]}"; do
    HPORT[$name]=$(pp_free_port)
    echo
    echo "listen $name"
    echo "    bind 127.0.0.1:${HPORT[$name]}"
    echo "    server s1 127.0.0.1:${SPORTS[$name]} send-proxy-v2"
  done
}
pp_haproxy_config haproxy_sections
if ! pp_haproxy_start hpid haproxy_sections; then
  pp_dump "$PP_HAPROXY_LOG"
  pp_fatal "haproxy did not start listening"
fi
for name in "${KINDS[@]}"; do
  case $name in
    go-*) payload=$'GET / HTTP/1.0\r\n\r\n' ;;
    *) payload=$'through haproxy\n' ;;
  esac
  pp_run_client_cport "$name-haproxy" "$payload" nc -N -p CPORT 127.0.0.1 "${HPORT[$name]}"
  pp_expect_eq "$name behind HAProxy send-proxy-v2: the client's own address and port" \
    "$(run_field "$PP_TMP/$name-haproxy.cout" peer)" "127.0.0.1:$PP_CPORT"
done

# ---- Clients under libproxyproto_connect.so ---------------------------------
require_env LIBPROXYPROTO_CONNECT_SO
[ -f "$LIBPROXYPROTO_CONNECT_SO" ] || pp_fatal "$LIBPROXYPROTO_CONNECT_SO not built"
CLIENT_PRELOAD=$(pp_preload_value "$LIBPROXYPROTO_CONNECT_SO")
# connect_case NAME SERVER WANT CLIENT-ENV... -- CLIENT...: one request.
connect_case() {
  local name=$1 server=$2 want=$3
  shift 3
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  pp_run_client "$name" $'GET /'"$name"$' HTTP/1.0\r\n\r\n' \
    env LD_PRELOAD="$CLIENT_PRELOAD" "${envs[@]}" "$@"
  pp_expect_eq "$name: r.RemoteAddr is the address libproxyproto_connect.so claimed" \
    "$(run_field "$PP_TMP/$name.cout" peer)" "$want"
  pp_check "$name: ... and the Go server logged it" grep -Fqx "peer=$want" "$PP_TMP/$server.out"
}
for name in go-static go-dynamic; do
  port=${SPORTS[$name]}
  connect_case "$name-connect-v2" "$name" 192.0.2.44:6789 \
    LIBPROXYPROTO_ADDR=192.0.2.44 LIBPROXYPROTO_PORT=6789 -- nc -N 127.0.0.1 "$port"
  connect_case "$name-connect-v1" "$name" 192.0.2.45:6790 LIBPROXYPROTO_VERSION=1 \
    LIBPROXYPROTO_ADDR=192.0.2.45 LIBPROXYPROTO_PORT=6790 -- nc -N 127.0.0.1 "$port"
  # An IPv6 source on the IPv4 listener: a sockaddr_in6 from accept4.
  connect_case "$name-connect-ipv6" "$name" "[2001:db8::45]:6791" \
    LIBPROXYPROTO_ADDR=2001:db8::45 LIBPROXYPROTO_PORT=6791 -- nc -N 127.0.0.1 "$port"
  # curl hangs in the sanitizer runtime before it connects (the sanitizer
  # stage preloads it with the library, which is built with it there):
  # under that stage the nc cases above are the connect library's.
  case ":${LD_PRELOAD:-}:" in
    *libasan*) echo "# $name-connect-curl: not run under the sanitizer runtime" ;;
    *) connect_case "$name-connect-curl" "$name" 192.0.2.46:6792 \
      LIBPROXYPROTO_ADDR=192.0.2.46 LIBPROXYPROTO_PORT=6792 -- \
      curl -s -S --max-time 10 "http://127.0.0.1:$port/" ;;
  esac
done

pp_finish
