#!/bin/bash
# Late, split and missing headers under proxyproto-run: a header that comes
# after the connection or in pieces is waited for without holding anyone
# else up; a silent client never stalls the others; a connection settled
# while the program sleeps in epoll or poll is not stranded (the wake-up
# connection), and the wake-ups never reach the program: it sees exactly
# the connections clients opened. Servers: static musl epoll, dynamic
# blocking accept(), Go (static).
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/run/run_lib.sh
. "$(dirname "$0")/run_lib.sh"
require_openbsd_nc
run_static_server STATIC
run_go_server static GO

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# timed NAME PORT FORMAT [DELAY]: run_client, the time in ELAPSED (ms).
timed() {
  local start
  start=$(now_ms)
  run_client "$@"
  ELAPSED=$(( $(now_ms) - start ))
}

# A client that opens a connection and says nothing for SECS.
silent() { sleep "$2" | timeout 10 nc -N 127.0.0.1 "$1" >/dev/null 2>&1 || true; }

for kind in static-epoll dynamic-blocking go; do
  case $kind in
    static-epoll) server=("$STATIC" epoll); req='hello\n' ;;
    dynamic-blocking) server=("$PP_RUN_DIR/run_server" blocking); req='hello\n' ;;
    go) server=("$GO"); req='GET / HTTP/1.0\r\n\r\n' ;;
  esac
  run_start pid port "$kind" "$PP_RUN" "${server[@]}"
  clients=0

  # A header half a second late: waited for, then served (the program was
  # asleep in epoll, or blocked in accept, all along).
  timed "$kind-late" "$port" "PROXY TCP4 203.0.113.1 127.0.0.1 1001 80\r\n$req" 0.5
  clients=$((clients + 1))
  pp_expect_eq "$kind: a late header is waited for" \
    "$(run_field "$PP_TMP/$kind-late.reply" peer)" 203.0.113.1:1001
  pp_check "$kind: ... and served promptly once it came (${ELAPSED} ms)" [ "$ELAPSED" -lt 2500 ]

  # A header in two pieces.
  { printf 'PROXY TCP4 203.0.'; sleep 0.3; printf "113.2 127.0.0.1 1002 80\r\n$req"; } |
    timeout 10 nc -N 127.0.0.1 "$port" >"$PP_TMP/$kind-split.reply" 2>/dev/null || true
  clients=$((clients + 1))
  pp_expect_eq "$kind: a header split in two is put together" \
    "$(run_field "$PP_TMP/$kind-split.reply" peer)" 203.0.113.2:1002

  # Silent clients hold nobody up (the blocking server too: its accept()
  # is answered with the next connection that is ready).
  silent "$port" 2 & s1=$!
  silent "$port" 2 & s2=$!
  sleep 0.2
  timed "$kind-after-silent" "$port" "PROXY TCP4 203.0.113.3 127.0.0.1 1003 80\r\n$req"
  clients=$((clients + 1))
  pp_expect_eq "$kind: a client behind two silent ones is served" \
    "$(run_field "$PP_TMP/$kind-after-silent.reply" peer)" 203.0.113.3:1003
  pp_check "$kind: ... at once (${ELAPSED} ms)" [ "$ELAPSED" -lt 1000 ]
  wait "$s1" "$s2" || true
  clients=$((clients + 2))  # closed silently: settled as no header, then EOF

  # Several late headers at once, each its own.
  many=()
  for i in 1 2 3 4 5; do
    run_client "$kind-many$i" "$port" "PROXY TCP4 203.0.113.1$i 127.0.0.1 20$i 80\r\n$req" 0.$((i + 2)) &
    many+=($!)
  done
  wait "${many[@]}" || true
  clients=$((clients + 5))
  bad=0
  for i in 1 2 3 4 5; do
    [ "$(run_field "$PP_TMP/$kind-many$i.reply" peer)" = "203.0.113.1$i:20$i" ] || bad=$((bad + 1))
  done
  pp_expect_eq "$kind: five late headers at once, each served with its client" "$bad" 0

  # The program saw the clients' connections and nothing else.
  if [ "$kind" != go ]; then
    sleep 0.3
    pp_expect_eq "$kind: the program saw exactly the $clients connections clients opened" \
      "$(grep -c '^accept=' "$PP_TMP/$kind.out")" "$clients"
    pp_expect_eq "$kind: none of them came from the launcher itself" \
      "$(grep '^accept=' "$PP_TMP/$kind.out" | grep -vc 'peer=203\.0\.113\.' || true)" 2
  fi
  pp_stop "$pid"
done

# The timeout: a header that never comes leaves the connection as it is
# (header optional), after LIBPROXYPROTO_TIMEOUT.
run_start pid port timeout env LIBPROXYPROTO_TIMEOUT=300 "$PP_RUN" "$STATIC" epoll
timed timeout-plain "$port" 'plain after a second\n' 1
pp_expect_match "after the timeout, a connection without a header: its real peer" \
  "$(run_field "$PP_TMP/timeout-plain.reply" peer)" '^127\.0\.0\.1:[0-9]+$'
pp_expect_eq "... and all of its data" "$(run_field "$PP_TMP/timeout-plain.reply" data)" plain
pp_stop "$pid"

pp_finish
