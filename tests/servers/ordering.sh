#!/bin/bash
# Head-of-line blocking: a silent client connects first, then a proxied
# client sends its header. The proxied client must be served promptly,
# for a blocking accept() loop and for an epoll loop with accept4
# (SOCK_NONBLOCK), although the silent one is still within
# LIBPROXYPROTO_TIMEOUT (2000 ms here).
#
# Bounds (generous, for a loaded 2-core CI machine; the work itself takes
# well under 5 ms on loopback):
#   - header sent -> server's verdict received: < 100 ms (the issue's bound);
#   - epoll shape: the longest single accept4() call, i.e. the longest the
#     event loop was held inside the library: < 500 ms, a quarter of the
#     timeout, so that a library waiting out the silent client fails it.
# Expected to FAIL on a library that reads the header inside accept() of the
# first queued connection: the proxied client then waits ~2000 ms.
# spid, sport are set through ls_start.
# shellcheck disable=SC2154
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/lib/servers.sh
. "$PP_LIB_DIR/servers.sh"

for mode in blocking epoll; do
  out=$PP_TMP/$mode.out
  ls_start spid sport "$out" LIBPROXYPROTO_TIMEOUT=2000 -- \
    --mode "$mode" --count 2 --read-timeout 3
  res=$(timeout 20 "$LOAD_CLIENT" --port "$sport" --ordering --settle-ms 200 \
    --max-wait-ms 4000 || true)
  echo "# $mode: $res"
  echo "# $mode: measured delay header -> verdict: $(kv "$res" reply_ms) ms (-1: none within 4000 ms)"
  summary=$(ls_stop_summary "$out" "$spid")
  echo "# $mode server: $summary"
  pp_expect_eq "$mode: proxied client served and its header honoured" \
    "$(kv "$res" result)" ok
  ms_below "$mode: proxied client after a silent one answered promptly" \
    "$(kv "$res" reply_ms)" 100
  if [ "$mode" = epoll ]; then
    ms_below "epoll: longest accept4() call (event-loop stall)" \
      "$(kv "$summary" max_accept_ms)" 500
  fi
  [ "$PP_FAIL" -eq 0 ] || pp_dump "$out" "$out.err"
done
pp_finish
