#!/bin/bash
# Why the README's Erlang echo server (tests/servers/apps/echo.erl) once died
# in apps.sh with gen_tcp:accept/1 returning {error,einval}, and what keeps
# it from happening again.
#
# 1. The cause lies in Erlang, not in the library: without the library, a
#    client that connects and closes before sending anything makes
#    gen_tcp:accept/1 fail with {error,einval} now and then (prim_inet sets
#    the listener's options on the new socket while the inet driver, seeing
#    the end of stream, closes it). Under the library the same happens to a
#    proxied connection that carries a header and nothing else, since the
#    header is not the application's. HAProxy opens such a connection when
#    its client closes at once, as a readiness probe (nc -z) does.
# 2. The library itself never hands the server such a connection: under CPU
#    load, hundreds of connections whose header comes late (parked, then
#    announced by wake-up connections to the event loop) all reach the
#    server with their data, and it survives.
# 3. The stray connection in apps.sh came from a port shared by two
#    listeners: pp_free_port's ports are only free a moment, and HAProxy
#    binds with SO_REUSEPORT, so two test HAProxies (apps.sh's and a
#    parallel test's, or two listeners of one configuration) could both bind
#    the same port and share its connections: another test's readiness
#    probe then reached apps.sh's Erlang listener. The tests' HAProxy now
#    runs with noreuseport (pp_haproxy_global), so the second bind fails and
#    the test picks new ports, and readiness is read from /proc (pp_listens)
#    instead of by connecting.
# Variables named in pp_bg calls are set there.
# shellcheck disable=SC2154
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"

PATH=$PATH:/usr/sbin:/sbin
require_env LIBPROXYPROTO_SO PP_SRCDIR PP_HELPERS
require_tool erl erlc haproxy python3 timeout pgrep
erlc -o "$PP_TMP" "$PP_SRCDIR/tests/servers/apps/echo.erl" >"$PP_TMP/erlc.log" 2>&1 ||
  pp_fatal "erlc failed: $(cat "$PP_TMP/erlc.log")"

# start_echo NAME PORT [ENV=VALUE...]: the echo server, waited for.
start_echo() {
  local name=$1 port=$2
  shift 2
  pp_bg "EPID[$name]" timeout 60 env ERL_CRASH_DUMP="$PP_TMP/$name.dump" "$@" \
    erl -noshell -pa "$PP_TMP" \
    -eval "echo:start($port)" >"$PP_TMP/$name.out" 2>"$PP_TMP/$name.err"
  # The VM may take long to start on a loaded machine.
  pp_wait_for_line "$PP_TMP/$name.out" '^listening$' $((4 * PP_DEADLINE)) "${EPID[$name]}" ||
    pp_fatal "$name: echo server did not start: $(cat "$PP_TMP/$name.err")"
}
declare -A EPID

# ---- 1. Erlang alone ----------------------------------------------------------
port=$(pp_free_port)
start_echo alone "$port"
python3 - "$port" >"$PP_TMP/alone.client" <<'PY' || true
import socket, sys, time
port = int(sys.argv[1])
for i in range(2000):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        s.close()
    except OSError:
        print("refused after %d connections" % i)
        break
    time.sleep(0.001)
else:
    print("survived 2000 connections")
PY
pp_wait_exit "${EPID[alone]}" 5 >/dev/null 2>&1 || true
echo "# without the library: $(cat "$PP_TMP/alone.client")"
if grep -q 'badmatch,{error,einval}' "$PP_TMP/alone.err"; then
  pp_ok "without the library, clients that close at once make gen_tcp:accept fail with einval"
else
  pp_not_ok "without the library, clients that close at once make gen_tcp:accept fail with einval"
  pp_dump "$PP_TMP/alone.err"
fi

# ---- 2. The late-header path under load -------------------------------------
port=$(pp_free_port)
start_echo late "$port" LD_PRELOAD="$LIBPROXYPROTO_SO${LD_PRELOAD:+:$LD_PRELOAD}" \
  LIBPROXYPROTO_TIMEOUT=3000
BURNERS=()
for _ in 1 2; do
  pp_bg burner timeout 30 sh -c 'while :; do :; done'
  BURNERS+=("$burner")
done
python3 - "$port" >"$PP_TMP/late.client" 2>&1 <<'PY' || true
import random, socket, struct, sys, threading, time
port = int(sys.argv[1])
SIG = b"\r\n\r\n\x00\r\nQUIT\n"
def header(sport):
    return (SIG + bytes([0x21, 0x11]) + struct.pack(">H", 12) +
            socket.inet_aton("192.0.2.9") + socket.inet_aton("127.0.0.1") +
            struct.pack(">HH", sport, 80))
results = {"echoed": 0, "wrong": 0, "failed": 0}
lock = threading.Lock()
def one(i):
    rng = random.Random(i)
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        h = header(1000 + i)
        time.sleep(rng.uniform(0.01, 0.06))      # late: parked, then woken
        if rng.random() < 0.5:
            s.sendall(h[:7]); time.sleep(0.005); s.sendall(h[7:])
        else:
            s.sendall(h)
        payload = b"conn %d\n" % i
        s.sendall(payload)
        got = b""
        while len(got) < len(payload):
            chunk = s.recv(100)
            if not chunk: break
            got += chunk
        s.close()
        key = "echoed" if got == payload else "wrong"
    except OSError:
        key = "failed"
    with lock:
        results[key] += 1
threads = [threading.Thread(target=one, args=(i,)) for i in range(300)]
for n, t in enumerate(threads):
    t.start()
    if n % 20 == 19: time.sleep(0.02)
for t in threads: t.join()
print("echoed %(echoed)d wrong %(wrong)d failed %(failed)d" % results)
PY
for b in "${BURNERS[@]}"; do pp_stop "$b"; done
echo "# late headers under load: $(cat "$PP_TMP/late.client")"
pp_expect_eq "300 late-header connections under load all echoed" \
  "$(cat "$PP_TMP/late.client")" "echoed 300 wrong 0 failed 0"
if kill -0 "${EPID[late]}" 2>/dev/null; then
  pp_ok "the echo server under the library survived them"
else
  pp_not_ok "the echo server under the library survived them"
  pp_dump "$PP_TMP/late.err"
fi
pp_stop "${EPID[late]}"

# ---- 3. One port, two HAProxies ---------------------------------------------
shared=$(pp_free_port)
for name in first second; do
  {
    pp_haproxy_global
    printf 'defaults\n    mode tcp\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n'
    printf 'listen %s\n    bind 127.0.0.1:%s\n    tcp-request connection reject\n' "$name" "$shared"
  } >"$PP_TMP/$name.cfg"
done
pp_bg hfirst timeout 30 haproxy -db -f "$PP_TMP/first.cfg" >"$PP_TMP/first.log" 2>&1
end=$((SECONDS + PP_DEADLINE))
until pp_listens "$shared" "$hfirst"; do
  kill -0 "$hfirst" 2>/dev/null && [ "$SECONDS" -lt "$end" ] ||
    pp_fatal "the first haproxy did not start: $(cat "$PP_TMP/first.log")"
  sleep 0.05
done
pp_bg hsecond timeout 30 haproxy -db -f "$PP_TMP/second.cfg" >"$PP_TMP/second.log" 2>&1
end=$((SECONDS + 10))
while kill -0 "$hsecond" 2>/dev/null && [ "$SECONDS" -lt "$end" ]; do sleep 0.05; done
rc=running
if ! kill -0 "$hsecond" 2>/dev/null; then
  rc=0
  wait "$hsecond" || rc=$?
  pp_forget "$hsecond"
fi
echo "# second haproxy on port $shared: exit $rc: $(head -c 300 "$PP_TMP/second.log" | tr '\n' '|')"
if [ "$rc" != running ] && [ "$rc" != 0 ]; then
  pp_ok "a second test HAProxy cannot bind a port that one already has"
else
  pp_not_ok "a second test HAProxy cannot bind a port that one already has"
  pp_stop "$hsecond"
fi
pp_stop "$hfirst"

pp_finish
