#!/bin/bash
# The hard cases of answering for the program:
#   - abandoned calls: an accept() interrupted by a signal while the
#     supervisor held it (waiting for a late header) loses nothing: the
#     connection is the next accept()'s;
#   - bad pointers: accept() with an addr the program cannot write gets
#     EFAULT, as from the kernel, and the connection is not lost;
#   - pre-forked workers, which inherit the filter: each accept() of each
#     worker is answered, none stalls another;
#   - many clients at once to a Go server, whose threads take turns and are
#     preempted with SIGURG.
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/run/run_lib.sh
. "$(dirname "$0")/run_lib.sh"
require_openbsd_nc
run_static_server STATIC
run_go_server static GO

for kind in static dynamic; do
  if [ "$kind" = static ]; then server=$STATIC; else server=$PP_RUN_DIR/run_server; fi

  # ---- abandoned: the program's accept() is interrupted at 1 s, while the
  # header is late (1.4 s); it calls accept() again at 2 s.
  run_start pid port "$kind-eintr" "$PP_RUN" "$server" eintr
  run_client "$kind-eintr" "$port" 'PROXY TCP4 203.0.113.9 127.0.0.1 999 80\r\nhello\n' 1.4
  pp_expect_eq "$kind: the interrupted accept() returned EINTR to the program" \
    "$(grep '^eintr' "$PP_TMP/$kind-eintr.out")" "eintr fd=-1 errno=4"
  pp_expect_eq "$kind: the connection of the abandoned call went to the next accept()" \
    "$(run_field "$PP_TMP/$kind-eintr.reply" peer)" 203.0.113.9:999
  pp_expect_eq "$kind: ... the only connection the program saw" \
    "$(grep -c '^accept=' "$PP_TMP/$kind-eintr.out")" 1
  pp_stop "$pid"

  # ---- EFAULT: accept(fd, (struct sockaddr *) 8, &len)
  run_start pid port "$kind-efault" "$PP_RUN" "$server" efault
  run_client "$kind-efault" "$port" 'PROXY TCP4 203.0.113.8 127.0.0.1 888 80\r\nhello\n'
  pp_expect_eq "$kind: accept() with a bad addr pointer fails with EFAULT" \
    "$(grep '^efault' "$PP_TMP/$kind-efault.out")" "efault fd=-1 errno=14"
  pp_expect_eq "$kind: ... and the connection is the next accept()'s" \
    "$(run_field "$PP_TMP/$kind-efault.reply" peer)" 203.0.113.8:888
  pp_stop "$pid"

  # ---- pre-forked workers: three blocked in accept() on one listener; a
  # silent client and late headers among them.
  run_start pid port "$kind-prefork" "$PP_RUN" "$server" prefork 3
  sleep 0.3
  (sleep 2 | timeout 5 nc -N 127.0.0.1 "$port" >/dev/null 2>&1 || true) & silent=$!
  clients=()
  for i in 1 2 3 4 5 6 7 8 9; do
    delay=0
    [ $((i % 3)) = 0 ] && delay=0.4
    run_client "$kind-prefork$i" "$port" "PROXY TCP4 203.0.113.$i 127.0.0.1 30$i 80\r\nhello\n" "$delay" &
    clients+=($!)
  done
  wait "${clients[@]}" || true
  bad=0
  for i in 1 2 3 4 5 6 7 8 9; do
    [ "$(run_field "$PP_TMP/$kind-prefork$i.reply" peer)" = "203.0.113.$i:30$i" ] || bad=$((bad + 1))
  done
  pp_expect_eq "$kind: pre-forked workers: nine clients, each served with its own address" "$bad" 0
  workers=$(grep '^accept=.*peer=203' "$PP_TMP/$kind-prefork.out" | sed 's/.*pid=\([0-9]*\).*/\1/' | sort -u | wc -l)
  pp_check "$kind: pre-forked workers: served by more than one worker ($workers)" [ "$workers" -gt 1 ]
  wait "$silent" || true
  pp_stop "$pid"
done

# ---- A Go server, 40 clients at once, twice.
run_start pid port go "$PP_RUN" "$GO"
bad=0
for round in 1 2; do
  clients=()
  for i in $(seq 1 40); do
    run_client "go$i" "$port" "PROXY TCP4 198.51.100.$i 127.0.0.1 $((5000 + i)) 80\r\nGET / HTTP/1.0\r\n\r\n" &
    clients+=($!)
  done
  wait "${clients[@]}" || true
  for i in $(seq 1 40); do
    [ "$(run_field "$PP_TMP/go$i.reply" peer)" = "198.51.100.$i:$((5000 + i))" ] || bad=$((bad + 1))
  done
done
pp_expect_eq "Go: 80 clients, 40 at a time, each with its own address" "$bad" 0
pp_stop "$pid"

pp_finish
