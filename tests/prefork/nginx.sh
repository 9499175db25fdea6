#!/bin/bash
# nginx (master and 2 workers, as packaged: EPOLLEXCLUSIVE listeners) under
# the library, with and without `reuseport`: late, split and silent clients
# are all answered in time with their own address, and nginx saw no
# connection that no client opened (its access log holds every request; its
# error log at level info names every connection closed without one).
# spid is set through pp_bg.
# shellcheck disable=SC2154
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/prefork/common.sh
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
require_tool nginx awk
echo "# $(nginx -v 2>&1)"

run() {
  local name=$1 listen_opts=$2 dir=$PP_TMP/$1 port
  port=$(pp_free_port)
  mkdir -p "$dir"
  cat >"$dir/nginx.conf" <<CONF
daemon off;
master_process on;
worker_processes 2;
user root;
pid $dir/nginx.pid;
error_log $dir/error.log info;
events { worker_connections 512; }
http {
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    log_format pp '\$remote_addr \$remote_port "\$request"';
    server {
        listen 127.0.0.1:$port $listen_opts;
        access_log $dir/access.log pp;
        location / { return 200 "client \$remote_addr \$remote_port\n"; }
    }
}
CONF
  pp_bg spid timeout 60 env LD_PRELOAD="$PRELOAD" \
    LIBPROXYPROTO_TIMEOUT=$PF_TIMEOUT_MS nginx -p "$dir" -c "$dir/nginx.conf" \
    -e "$dir/error.log"
  pp_wait_for_port "$port" "$spid" || pp_fatal "nginx did not start: $(cat "$dir/error.log")"
  # Both workers up before the first client.
  local end=$((SECONDS + 10))
  until [ "$(pf_children "$(cat "$dir/nginx.pid" 2>/dev/null || echo 0)")" -ge 2 ] ||
    [ "$SECONDS" -ge "$end" ]; do sleep 0.05; done
  pf_clients "$name" "$port" --silent 2
  sleep 0.2
  pp_stop "$spid"
  local requests unanswered
  requests=$(grep -c . "$dir/access.log" || true)
  unanswered=$(grep -Ec 'client closed connection|client timed out|client sent' "$dir/error.log" || true)
  pf_expect_accepted "$name" $((requests + unanswered))
  pp_expect_eq "$name: no connection closed without a request (error log)" "$unanswered" 0
  if [ "$PP_FAIL" -ne 0 ]; then grep -v 'signal\|start worker\|using the' "$dir/error.log" | tail -n 5 | sed 's/^/#   /'; fi
}

run nginx ""
run nginx-reuseport reuseport
pp_finish
