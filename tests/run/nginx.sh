#!/bin/bash
# nginx, an ordinary dynamically linked server, unchanged (no proxy_protocol
# of its own), under proxyproto-run: master and two workers, which inherit
# the filter and accept with epoll and non-blocking accept4 (EPOLLEXCLUSIVE,
# no accept mutex); run as root, the workers run as nginx's default user.
# Its access log has $remote_addr:$remote_port of each request, its fixed
# location answers 200 with the same.
#   - v1 and v2 headers sent by hand: the header's client, logged and
#     answered, and a 200 (a header byte reaching nginx would make a 400);
#     a header half a second late too;
#   - no header, under the default optional header: 200, the real peer (the
#     client's own port);
#   - behind HAProxy send-proxy-v2: 127.0.0.1 and the client's own port;
#     then 2 x 20 concurrent requests, each served with 200 and logged with
#     its client's port, by the workers;
#   - under LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER: no header, no answer,
#     nothing logged, nginx never saw the connection;
#   - SIGTERM to the launcher stops nginx (master and workers, by pid) and
#     the launcher exits with nginx's status; nothing is left running.
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/run/run_lib.sh
. "$(dirname "$0")/run_lib.sh"
pp_require_haproxy
require_tool nginx curl
echo "# $(nginx -v 2>&1)"

# ng_conf DIR PORT: a throwaway configuration.
ng_conf() {
  cat >"$1/nginx.conf" <<CONF
daemon off;
master_process on;
worker_processes 2;
pid $1/nginx.pid;
error_log $1/error.log info;
events { worker_connections 512; }
http {
    client_body_temp_path $1/body;
    proxy_temp_path $1/proxy;
    fastcgi_temp_path $1/fastcgi;
    uwsgi_temp_path $1/uwsgi;
    scgi_temp_path $1/scgi;
    log_format pp '\$remote_addr:\$remote_port "\$request" \$status pid=\$pid';
    server {
        listen 127.0.0.1:$2;
        access_log $1/access.log pp;
        location / { return 200 "client \$remote_addr:\$remote_port\n"; }
    }
}
CONF
}

# ng_start NAME [ENV=VALUE...]: nginx under the launcher, in $PP_TMP/NAME,
# on a free port (another one if it was taken meanwhile); sets NG_LPID (the
# launcher's pid), NG_PORT, NG_MASTER and NG_WORKERS once both workers run.
ng_start() {
  local name=$1 dir=$PP_TMP/$1 try lpid port end up
  shift
  mkdir -p "$dir"
  for try in 1 2 3 4 5; do
    port=$(pp_free_port)
    ng_conf "$dir" "$port"
    : >"$dir/error.log"
    pp_bg lpid run_exec_to "$dir/launcher.out" env "$@" \
      "$PP_RUN" nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log"
    end=$((SECONDS + 20))
    up=0
    until [ "$SECONDS" -ge "$end" ] || ! kill -0 "$lpid" 2>/dev/null; do
      if pp_listens "$port" "$lpid"; then up=1; break; fi
      sleep 0.05
    done
    [ "$up" = 1 ] && break
    pp_stop "$lpid"
    if ! grep -q 'Address already in use' "$dir/error.log"; then
      pp_dump "$dir/launcher.out" "$dir/launcher.out.err" "$dir/error.log"
      pp_fatal "nginx ($name) did not start under the launcher"
    fi
    echo "# $name: port $port was taken meanwhile; trying another"
  done
  [ "$up" = 1 ] || pp_fatal "nginx ($name) found no free port"
  NG_LPID=$lpid
  NG_PORT=$port
  # (|| true: pgrep finding none must not trip the ERR trap in the subshell.)
  NG_MASTER=$( (pp_children "$lpid" || true) | head -n1)
  [ -n "$NG_MASTER" ] || pp_fatal "nginx ($name): no master process under the launcher"
  end=$((SECONDS + 10))
  until [ "$( (pp_children "$NG_MASTER" || true) | wc -l)" -ge 2 ] || [ "$SECONDS" -ge "$end" ]; do
    sleep 0.05
  done
  NG_WORKERS=$( (pp_children "$NG_MASTER" || true) | pp_words)
  echo "# $name: launcher $NG_LPID, master $NG_MASTER, workers $NG_WORKERS, port $NG_PORT"
}

# ng_log NAME URI: the access log's line for the request of URI (waited
# for: nginx logs after it has sent the answer), empty if none.
ng_log() {
  pp_wait_for_line "$PP_TMP/$1/access.log" " \"GET $2 HTTP/1\.[01]\" " 5 >/dev/null || true
  grep -F " \"GET $2 HTTP/1." "$PP_TMP/$1/access.log" 2>/dev/null | head -n1
}

# ng_status FILE: the status line of a reply, without its CR.
ng_status() { head -n1 "$1" | tr -d '\r'; }

# ---- Optional header (the default) ------------------------------------------
ng_start default
LPID=$NG_LPID PORT=$NG_PORT MASTER=$NG_MASTER WORKERS=$NG_WORKERS
pp_expect_eq "nginx under the launcher: a master and two workers" "$(echo "$WORKERS" | wc -w)" 2
if [ "$(id -u)" = 0 ]; then
  uids=$(for w in $WORKERS; do awk '/^Uid:/ { print $2 }' "/proc/$w/status" || true; done | sort -u | pp_words)
  pp_expect_match "as root: the workers changed to nginx's default user (one uid, not 0)" \
    "$uids" '^[1-9][0-9]*$'
fi

run_client v1 "$PORT" "${V1}GET /v1 HTTP/1.0\r\n\r\n"
pp_expect_eq "v1 header by hand: 200 (no header byte reached nginx)" \
  "$(ng_status "$PP_TMP/v1.reply")" "HTTP/1.1 200 OK"
pp_expect_eq "v1 header by hand: nginx answers with the header's client" \
  "$(tail -n1 "$PP_TMP/v1.reply")" "client 203.0.113.7:4321"
pp_expect_match "v1 header by hand: logged with the header's client" \
  "$(ng_log default /v1)" '^203\.0\.113\.7:4321 "GET /v1 HTTP/1\.0" 200 '

run_client v2 "$PORT" "${V2}GET /v2 HTTP/1.0\r\n\r\n"
pp_expect_eq "v2 header by hand: 200" "$(ng_status "$PP_TMP/v2.reply")" "HTTP/1.1 200 OK"
pp_expect_match "v2 header by hand: logged with the header's client" \
  "$(ng_log default /v2)" '^198\.51\.100\.9:5555 "GET /v2 HTTP/1\.0" 200 '

# The connection first, the header half a second later: nginx's accept4
# gets EAGAIN meanwhile, and its epoll hears of the connection once settled.
run_client late "$PORT" "PROXY TCP4 203.0.113.12 127.0.0.1 1212 80\r\nGET /late HTTP/1.0\r\n\r\n" 0.5
pp_expect_eq "a header half a second late: 200" "$(ng_status "$PP_TMP/late.reply")" "HTTP/1.1 200 OK"
pp_expect_match "a header half a second late: logged with its client" \
  "$(ng_log default /late)" '^203\.0\.113\.12:1212 "GET /late HTTP/1\.0" 200 '

pp_run_client_cport plain "" "${PP_UNPRELOADED[@]}" curl -s -S --max-time 10 --local-port CPORT \
  -o "$PP_TMP/plain.body" -w '%{http_code}' "http://127.0.0.1:$PORT/plain"
pp_expect_eq "no header (optional): 200" "$(cat "$PP_TMP/plain.cout")" 200
pp_expect_match "no header (optional): logged with the real peer, the client's own port" \
  "$(ng_log default /plain)" "^127\.0\.0\.1:$PP_CPORT \"GET /plain HTTP/1\.1\" 200 "

# ---- Behind HAProxy send-proxy-v2 -------------------------------------------
# shellcheck disable=SC2317 # run by pp_haproxy_config and pp_haproxy_start
haproxy_sections() {
  HPORT=$(pp_free_port)
  echo
  echo "listen nginx"
  echo "    bind 127.0.0.1:$HPORT"
  echo "    server s1 127.0.0.1:$PORT send-proxy-v2"
}
pp_haproxy_config haproxy_sections
if ! pp_haproxy_start hpid haproxy_sections; then
  pp_dump "$PP_HAPROXY_LOG"
  pp_fatal "haproxy did not start listening"
fi
pp_run_client_cport haproxy "" "${PP_UNPRELOADED[@]}" curl -s -S --max-time 10 --local-port CPORT \
  -o "$PP_TMP/haproxy.body" -w '%{http_code}' "http://127.0.0.1:$HPORT/haproxy"
pp_expect_eq "behind HAProxy send-proxy-v2: 200" "$(cat "$PP_TMP/haproxy.cout")" 200
pp_expect_eq "behind HAProxy send-proxy-v2: nginx answers with the client's own address and port" \
  "$(cat "$PP_TMP/haproxy.body")" "client 127.0.0.1:$PP_CPORT"
pp_expect_match "behind HAProxy send-proxy-v2: logged with the client's own address and port" \
  "$(ng_log default /haproxy)" "^127\.0\.0\.1:$PP_CPORT \"GET /haproxy HTTP/1\.1\" 200 "

# 2 x 20 at once; curl reports the port it connected from.
many() {
  timeout 20 "${PP_UNPRELOADED[@]}" curl -s -S --max-time 15 -o "$PP_TMP/many-$1.body" -w '%{http_code} %{local_port}' \
    "http://127.0.0.1:$HPORT/many-$1" >"$PP_TMP/many-$1.w" 2>"$PP_TMP/many-$1.err" || true
}
bad=0
for round in 1 2; do
  clients=()
  for i in $(seq 1 20); do
    many "$round-$i" &
    clients+=($!)
  done
  wait "${clients[@]}" || true
done
for round in 1 2; do
  for i in $(seq 1 20); do
    read -r code lport <"$PP_TMP/many-$round-$i.w" || true
    if [ "${code:-}" != 200 ] ||
      [ "$(cat "$PP_TMP/many-$round-$i.body" 2>/dev/null)" != "client 127.0.0.1:${lport:-}" ] ||
      ! ng_log default "/many-$round-$i" |
      grep -Eq "^127\.0\.0\.1:${lport:-x} \"GET /many-$round-$i HTTP/1\.1\" 200 "; then
      bad=$((bad + 1))
      [ "$bad" -gt 3 ] || echo "# many-$round-$i: code ${code:-none}, port ${lport:-none}," \
        "body '$(head -n1 "$PP_TMP/many-$round-$i.body" 2>/dev/null || true)'," \
        "log '$(ng_log default "/many-$round-$i")' $(head -n1 "$PP_TMP/many-$round-$i.err")"
    fi
  done
done
pp_expect_eq "2 x 20 at once through HAProxy: each 200, answered and logged with its client's port" \
  "$bad" 0
pids=$(grep -F '"GET /many-' "$PP_TMP/default/access.log" | sed 's/.* pid=//' | sort -u | tr '\n' ' ')
echo "# the 40 were served by worker(s) $pids"
notours=0
for p in $pids; do
  case " $WORKERS " in *" $p "*) ;; *) notours=$((notours + 1)) ;; esac
done
pp_expect_eq "... all by nginx's workers" "$notours" 0
pp_expect_eq "nginx logged no failed accept() and no crashed worker" \
  "$(grep -Ec 'accept4?\(\) failed|exited on signal' "$PP_TMP/default/error.log" || true)" 0

# ---- SIGTERM to the launcher ------------------------------------------------
kill -TERM "$LPID"
end=$((SECONDS + 15))
while kill -0 "$LPID" 2>/dev/null && [ "$SECONDS" -lt "$end" ]; do sleep 0.05; done
if kill -0 "$LPID" 2>/dev/null; then
  pp_not_ok "SIGTERM to the launcher: it exits within 15 s"
  pp_stop "$LPID"
else
  rc=0
  wait "$LPID" || rc=$?
  pp_forget "$LPID"
  pp_ok "SIGTERM to the launcher: it exits"
  pp_expect_eq "SIGTERM to the launcher: its status is nginx's own (0, a fast shutdown)" "$rc" 0
fi
left=
for p in $MASTER $WORKERS; do
  if kill -0 "$p" 2>/dev/null; then left="$left $p"; fi
done
pp_expect_eq "SIGTERM to the launcher: nginx's master and workers are gone" "$left" ""
# ([n]: the pattern must not match pgrep's own timeout wrapper.)
pp_expect_eq "nothing of this nginx is left running" \
  "$(pp_pgrep -f "$PP_TMP/default/[n]ginx.conf" | tr '\n' ' ' || true)" ""
pp_check "nginx's master saw SIGTERM and exited" \
  grep -Eq "\[notice\] $MASTER#$MASTER: exit$" "$PP_TMP/default/error.log"

# ---- LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER ---------------------------------
ng_start must LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER=1
run_client must-plain "$NG_PORT" "GET /must-plain HTTP/1.0\r\n\r\n"
pp_expect_eq "must-use: a request without a header gets no answer" \
  "$(cat "$PP_TMP/must-plain.reply")" ""
run_client must-v1 "$NG_PORT" "${V1}GET /must-v1 HTTP/1.0\r\n\r\n"
pp_expect_eq "must-use: a request with a header is answered" \
  "$(ng_status "$PP_TMP/must-v1.reply")" "HTTP/1.1 200 OK"
pp_expect_match "must-use: ... and logged with the header's client" \
  "$(ng_log must /must-v1)" '^203\.0\.113\.7:4321 "GET /must-v1 HTTP/1\.0" 200 '
pp_stop "$NG_LPID"
pp_expect_eq "must-use: the request without a header was not logged" \
  "$(grep -c must-plain "$PP_TMP/must/access.log" || true)" 0
pp_expect_eq "must-use: nginx never saw that connection (error log)" \
  "$(grep -Ec 'client (closed|timed out|sent)' "$PP_TMP/must/error.log" || true)" 0

pp_finish
