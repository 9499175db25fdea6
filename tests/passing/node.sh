#!/bin/bash
# Node.js servers that accept in one process and serve in another, under
# the library: a cluster with round-robin scheduling (the primary passes
# each connection to a worker over IPC), and pm2's cluster mode (its daemon
# is the primary). Each worker must report the client the header named:
#   - through libproxyproto_connect.so: the claimed 203.0.113.7:4321;
#   - behind HAProxy send-proxy-v2 (cluster only): 127.0.0.2 and the
#     client's own port.
# Both workers must serve: connections go round-robin.
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"

require_env LIBPROXYPROTO_SO LIBPROXYPROTO_CONNECT_SO PP_SRCDIR
require_tool node
pp_require_haproxy
APPS=$PP_SRCDIR/tests/passing/apps

# claimed_clients PORT N: N clients through the connect library.
claimed_clients() {
  local i
  for ((i = 1; i <= $2; i++)); do
    echo hello | LD_PRELOAD="$(pp_preload_value "$LIBPROXYPROTO_CONNECT_SO")" \
      LIBPROXYPROTO_ADDR=203.0.113.7 LIBPROXYPROTO_PORT=4321 \
      timeout 10 nc -N 127.0.0.1 "$1" >/dev/null 2>&1 || true
  done
}

# expect_claims LABEL LOG FIELD: four claimed connections, served by both
# workers (FIELD is worker= or instance=).
expect_claims() {
  local label=$1 log=$2 field=$3
  pp_wait_for_line "$log" "^conn .*" 5 || true
  sleep 0.2
  pp_expect_eq "$label: every connection reports the claimed client" \
    "$(grep -c "^conn $field[0-9]* peer=203\.0\.113\.7 4321\$" "$log" || true)" 4
  pp_expect_eq "$label: both workers served" \
    "$(grep '^conn ' "$log" | cut -d' ' -f2 | sort -u | wc -l)" 2
}

# ---- Node.js cluster ---------------------------------------------------------
port=$(pp_free_port)
pp_bg_preloaded npid "$LIBPROXYPROTO_SO" 60 "$PP_TMP/cluster.log" -- \
  node "$APPS/cluster.js" "$port"
pp_wait_for_line "$PP_TMP/cluster.log" "^port $port\$" 20 "$npid" ||
  pp_fatal "the cluster did not start: $(cat "$PP_TMP/cluster.log" "$PP_TMP/cluster.log.err")"
claimed_clients "$port" 4
expect_claims "cluster, connect library" "$PP_TMP/cluster.log" worker=
[ "$PP_FAIL" -eq 0 ] || pp_dump "$PP_TMP/cluster.log" "$PP_TMP/cluster.log.err"

# The HAProxy round's lines are those after the claimed clients'.
before=$(wc -l <"$PP_TMP/cluster.log")
front() {
  FRONT=$(pp_free_port)
  printf 'listen cluster\n    bind 127.0.0.1:%s\n    server s1 127.0.0.1:%s send-proxy-v2\n' \
    "$FRONT" "$port"
}
pp_haproxy_start hpid front || pp_fatal "haproxy did not start: $(cat "$PP_HAPROXY_LOG")"
for i in 1 2; do
  pp_run_client_cport "h$i" hello nc -N -s 127.0.0.2 -p CPORT 127.0.0.1 "$FRONT"
  pp_wait_for_line "$PP_TMP/cluster.log" "peer=127\.0\.0\.2 $PP_CPORT\$" 5 || true
  pp_expect_eq "cluster behind HAProxy: connection $i reports the client's own address and port" \
    "$(grep -c "^conn worker=[0-9]* peer=127\.0\.0\.2 $PP_CPORT\$" "$PP_TMP/cluster.log" || true)" 1
done
pp_expect_eq "cluster behind HAProxy: both workers served" \
  "$(tail -n +$((before + 1)) "$PP_TMP/cluster.log" | grep '^conn ' | cut -d' ' -f2 |
    sort -u | wc -l)" 2
pp_stop "$hpid"
pp_stop "$npid"

# ---- pm2 cluster mode --------------------------------------------------------
require_tool pm2
export PM2_HOME=$PP_TMP/pm2
port=$(pp_free_port)
# The daemon pm2 starts inherits this environment: it is the cluster primary.
if ! LD_PRELOAD="$(pp_preload_value "$LIBPROXYPROTO_SO")" PP_PORT=$port \
  timeout 60 pm2 start "$APPS/pm2_app.js" -i 2 --name pp-test --merge-logs \
  --output "$PP_TMP/pm2.log" --error "$PP_TMP/pm2.err" >"$PP_TMP/pm2-start.log" 2>&1; then
  pp_fatal "pm2 start failed: $(cat "$PP_TMP/pm2-start.log")"
fi
# pm2 daemonizes: its pid joins the processes stopped at exit.
[ -s "$PM2_HOME/pm2.pid" ] && PP_PIDS+=("$(cat "$PM2_HOME/pm2.pid")")
for _ in $(seq 100); do
  [ "$(grep -c '^listening ' "$PP_TMP/pm2.log" 2>/dev/null || true)" -ge 2 ] && break
  sleep 0.1
done
claimed_clients "$port" 4
expect_claims "pm2 cluster mode, connect library" "$PP_TMP/pm2.log" instance=
[ "$PP_FAIL" -eq 0 ] || pp_dump "$PP_TMP/pm2.log" "$PP_TMP/pm2.err" "$PP_TMP/pm2-start.log"
timeout 30 pm2 kill >/dev/null 2>&1 || true
# The daemon may outlive `pm2 kill` and the SIGTERM at exit: under the
# sanitizer build it waits for the `ps` it runs to watch its workers, and
# procps hangs under the ASan runtime preloaded there. Killed, with what it
# started, so that nothing of the test is left running.
if [ -n "${pm2_daemon:=$(cat "$PM2_HOME/pm2.pid" 2>/dev/null)}" ] &&
  grep -q PM2 "/proc/$pm2_daemon/cmdline" 2>/dev/null; then
  kill -9 $(pp_children "$pm2_daemon") "$pm2_daemon" 2>/dev/null || true
fi
pp_finish
