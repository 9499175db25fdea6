#!/bin/bash
# Real applications under libproxyproto.so, behind HAProxy send-proxy-v2:
#
#   nc -s 127.0.0.2 -p CPORT -> haproxy (send-proxy-v2) -> APP under the library
#
# Each application must report the client's own address 127.0.0.2 and its
# source port, which only HAProxy's header carries (HAProxy itself connects
# from 127.0.0.1), and must get the client's bytes without the header:
#   nginx      (access log: $remote_addr $remote_port)
#   asyncio    Python asyncio server (transport peername)
#   node       Node.js net server (socket.remoteAddress / remotePort)
#   socat      TCP-LISTEN,fork with SYSTEM: (SOCAT_PEERADDR / SOCAT_PEERPORT)
#   erlang     the original README's echo server (inet:peername)
#   unix       HAProxy to an AF_UNIX listener (server unix@PATH send-proxy-v2),
#              load_server under the library (LIBPROXYPROTO_ALLOW=unix)
#              reporting the AF_INET source.
# The unix case is expected to FAIL on a library that leaves AF_UNIX
# listeners alone.
# Variables named in pp_bg/ls_start calls are set there.
# shellcheck disable=SC2154
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/lib/servers.sh
. "$PP_LIB_DIR/servers.sh"

pp_require_haproxy
require_tool nginx python3 node socat erl erlc awk
APPS=$PP_SRCDIR/tests/servers/apps
echo "# $(nginx -v 2>&1) / $(python3 --version 2>&1) / node $(node --version) / $(socat -V 2>/dev/null | sed -n 's/^socat version \([^ ]*\).*/socat \1/p')"

declare -A PORT PID HPORT
NAMES=(nginx asyncio node socat erlang unix)

# ---- the applications, each under the library -----------------------------
start_app() {
  local name=$1
  shift
  pp_bg_preloaded "PID[$name]" "$LIBPROXYPROTO_SO" 120 "$PP_TMP/$name.log" -- "$@"
}

PORT[nginx]=$(pp_free_port)
mkdir -p "$PP_TMP/nginx"
cat >"$PP_TMP/nginx/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $PP_TMP/nginx/nginx.pid;
error_log $PP_TMP/nginx/error.log info;
events { worker_connections 64; }
http {
    client_body_temp_path $PP_TMP/nginx/body;
    proxy_temp_path $PP_TMP/nginx/proxy;
    fastcgi_temp_path $PP_TMP/nginx/fastcgi;
    uwsgi_temp_path $PP_TMP/nginx/uwsgi;
    scgi_temp_path $PP_TMP/nginx/scgi;
    log_format pp '\$remote_addr \$remote_port "\$request"';
    server {
        listen 127.0.0.1:${PORT[nginx]};
        access_log $PP_TMP/nginx/access.log pp;
        location / { return 200 "hello from nginx\n"; }
    }
}
CONF
start_app nginx nginx -p "$PP_TMP/nginx" -c "$PP_TMP/nginx/nginx.conf" \
  -e "$PP_TMP/nginx/error.log"

PORT[asyncio]=$(pp_free_port)
start_app asyncio python3 -u "$APPS/asyncio_server.py" "${PORT[asyncio]}"

PORT[node]=$(pp_free_port)
start_app node node "$APPS/net_server.js" "${PORT[node]}"

PORT[socat]=$(pp_free_port)
# shellcheck disable=SC2016
start_app socat socat "TCP-LISTEN:${PORT[socat]},bind=127.0.0.1,reuseaddr,fork" \
  'SYSTEM:echo "peer $SOCAT_PEERADDR $SOCAT_PEERPORT"; exec cat'

PORT[erlang]=$(pp_free_port)
erlc -o "$PP_TMP" "$APPS/echo.erl" >"$PP_TMP/erlc.log" 2>&1 ||
  pp_fatal "erlc failed: $(cat "$PP_TMP/erlc.log")"
start_app erlang ERL_CRASH_DUMP="$PP_TMP/erl_crash.dump" erl -noshell -pa "$PP_TMP" \
  -eval "echo:start(${PORT[erlang]})"

ls_start "PID[unix]" PORT[unix] "$PP_TMP/unix.log" LIBPROXYPROTO_TIMEOUT=2000 \
  LIBPROXYPROTO_ALLOW=unix -- \
  --mode epoll --unix "$PP_TMP/app.sock" --count 1 --read-timeout 3

for name in nginx asyncio node socat erlang; do
  if pp_wait_for_port "${PORT[$name]}" "${PID[$name]}" 20; then
    pp_ok "$name listens under the library"
  else
    pp_not_ok "$name listens under the library"
    pp_dump "$PP_TMP/$name.log" "$PP_TMP/$name.log.err" "$PP_TMP/nginx/error.log"
  fi
done

# ---- HAProxy in front ------------------------------------------------------
# app_sections: a listener per application, sending PROXY v2 to it.
# shellcheck disable=SC2317 # run by pp_haproxy_config
app_sections() {
  local name server
  for name in "${NAMES[@]}"; do
    HPORT[$name]=$(pp_free_port)
    server=127.0.0.1:${PORT[$name]}
    [ "$name" = unix ] && server=unix@${PORT[unix]}
    printf 'listen %s\n    bind 127.0.0.1:%s\n    server s1 %s send-proxy-v2\n' \
      "$name" "${HPORT[$name]}" "$server"
  done
}
pp_haproxy_start hpid app_sections ||
  { pp_dump "$PP_HAPROXY_LOG"; pp_fatal "haproxy did not start"; }

# client NAME PAYLOAD: nc from 127.0.0.2:CPORT through HAProxy to NAME.
client() {
  pp_run_client_cport "$1" "$2" nc -N -s 127.0.0.2 -p CPORT 127.0.0.1 "${HPORT[$1]}"
  echo "# $1: client from 127.0.0.2 port $PP_CPORT, exit $PP_RC, got: $(head -c 200 "$PP_TMP/$1.cout" | tr '\n' '|')"
}

# slow_client NAME PAYLOAD: as client, but stdin stays open 0.5 s after the
# payload. The original echo server loses data that arrives together with
# the client's FIN (its socket is still owned by the accepting process, in
# active mode), with or without the library: the half-close must come later.
slow_writer() {
  printf '%s' "$1"
  sleep 0.5
}
# Like pp_run_client_cport, it tries another source port when the chosen
# one was taken meanwhile (pp_free_port's ports are free only a moment).
slow_client() {
  local try
  for try in 1 2 3 4 5; do
    PP_CPORT=$(pp_free_port)
    PP_RC=0
    slow_writer "$2" | timeout "$PP_DEADLINE" nc -N -s 127.0.0.2 -p "$PP_CPORT" \
      127.0.0.1 "${HPORT[$1]}" >"$PP_TMP/$1.cout" 2>"$PP_TMP/$1.cerr" || PP_RC=$?
    if [ "$PP_RC" -ne 0 ] && [ "$try" -lt 5 ] &&
      grep -q 'Address already in use' "$PP_TMP/$1.cerr"; then
      echo "# $1: source port $PP_CPORT was taken meanwhile; trying another"
      continue
    fi
    break
  done
  echo "# $1: client from 127.0.0.2 port $PP_CPORT, exit $PP_RC, got: $(head -c 200 "$PP_TMP/$1.cout" | tr '\n' '|') $(head -c 200 "$PP_TMP/$1.cerr" | tr '\n' '|')"
}

# app_reports NAME FILE: FILE (bounded wait) shows "peer 127.0.0.2 CPORT".
app_reports() {
  pp_wait_for_line "$2" "^peer 127\.0\.0\.2 $PP_CPORT\$" 5 >/dev/null || true
  echo "# $1 reported: $(grep '^peer' "$2" | tail -n1)"
  if grep -qx "peer 127.0.0.2 $PP_CPORT" "$2"; then
    pp_ok "$1 reports the client's address 127.0.0.2 port $PP_CPORT"
  else
    pp_not_ok "$1 reports the client's address 127.0.0.2 port $PP_CPORT"
    pp_dump "$2" "$2.err"
  fi
}

client nginx $'GET / HTTP/1.0\r\n\r\n'
pp_wait_for_line "$PP_TMP/nginx/access.log" '"GET / HTTP/1.0"' 5 || true
echo "# nginx access log: $(tail -n1 "$PP_TMP/nginx/access.log" 2>/dev/null)"
pp_expect_eq "nginx access log shows 127.0.0.2 port $PP_CPORT" \
  "$(tail -n1 "$PP_TMP/nginx/access.log" 2>/dev/null)" \
  "127.0.0.2 $PP_CPORT \"GET / HTTP/1.0\""
pp_check "nginx answered the request (no header left in it)" \
  grep -q 'hello from nginx' "$PP_TMP/nginx.cout"

payload="echo through haproxy"$'\n'
for name in asyncio node erlang; do
  if [ "$name" = erlang ]; then
    slow_client "$name" "$payload"
  else
    client "$name" "$payload"
  fi
  app_reports "$name" "$PP_TMP/$name.log"
  pp_expect_eq "$name echoed the payload intact" "$(cat "$PP_TMP/$name.cout")" \
    "${payload%$'\n'}"
done

client socat "$payload"
pp_expect_eq "socat: SOCAT_PEERADDR/PORT are the client's" \
  "$(head -n1 "$PP_TMP/socat.cout")" "peer 127.0.0.2 $PP_CPORT"
pp_expect_eq "socat echoed the payload intact" "$(sed -n 2p "$PP_TMP/socat.cout")" \
  "${payload%$'\n'}"

client unix "claim none"$'\n'
pp_expect_eq "AF_UNIX listener: accept and getpeername report the client's AF_INET address" \
  "$(head -n1 "$PP_TMP/unix.cout")" \
  "hello inet 127.0.0.2 $PP_CPORT|inet 127.0.0.2 $PP_CPORT"

for name in nginx asyncio node socat erlang; do
  if kill -0 "${PID[$name]}" 2>/dev/null; then
    pp_ok "$name still running"
  else
    pp_not_ok "$name still running"
    pp_dump "$PP_TMP/$name.log.err"
  fi
done
[ "$PP_FAIL" -eq 0 ] || pp_dump "$PP_TMP/haproxy.log"
pp_finish
