#!/bin/bash
# The library's rules under proxyproto-run, with a static server (musl,
# epoll and accept4) and the dynamic blocking one: must-use and malformed
# headers are dropped before the program sees anything; allow, ports and
# version decide which connections are read at all, as in the library.
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/run/run_lib.sh
. "$(dirname "$0")/run_lib.sh"
require_openbsd_nc
run_static_server STATIC

# served NAME: the connection lines the server printed so far.
served() { grep -c '^accept=' "$PP_TMP/$1.out" || true; }

for kind in static dynamic; do
  if [ "$kind" = static ]; then server=("$STATIC" epoll); else server=("$PP_RUN_DIR/run_server" blocking); fi

  # ---- must-use: a connection without a header never reaches the program
  name=$kind-must-use
  run_start pid port "$name" env LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER=1 "$PP_RUN" "${server[@]}"
  run_client "$name-plain" "$port" "no header here\n"
  run_client "$name-bad" "$port" "PROXY TCP4 999.0.0.1 127.0.0.1 1 2\r\nhello\n"
  run_client "$name-good" "$port" "${V1}hello\n"
  pp_expect_eq "$kind, must-use: a connection without a header is closed unanswered" \
    "$(cat "$PP_TMP/$name-plain.reply")" ""
  pp_expect_eq "$kind, must-use: a malformed header is closed unanswered" \
    "$(cat "$PP_TMP/$name-bad.reply")" ""
  pp_expect_eq "$kind, must-use: a proxied connection is served" \
    "$(run_field "$PP_TMP/$name-good.reply" peer)" 203.0.113.7:4321
  pp_expect_eq "$kind, must-use: the program saw only the proxied connection" "$(served "$name")" 1
  pp_stop "$pid"

  # ---- optional header: malformed dropped, plain passed
  name=$kind-optional
  run_start pid port "$name" "$PP_RUN" "${server[@]}"
  run_client "$name-bad" "$port" "PROXY TCP4 1.2.3.4 127.0.0.1 99999 2\r\nhello\n"
  run_client "$name-good" "$port" "${V1}hello\n"
  pp_expect_eq "$kind: a malformed header is dropped even when the header is optional" \
    "$(cat "$PP_TMP/$name-bad.reply")" ""
  pp_expect_eq "$kind: ... and the program never saw it" "$(served "$name")" 1
  pp_stop "$pid"

  # ---- allow: an untrusted proxy's header is not read
  name=$kind-allow
  run_start pid port "$name" env LIBPROXYPROTO_ALLOW=192.0.2.1 "$PP_RUN" "${server[@]}"
  run_client "$name-1" "$port" "${V1}hello\n"
  pp_expect_match "$kind, allow without 127.0.0.1: the real peer" \
    "$(run_field "$PP_TMP/$name-1.reply" peer)" '^127\.0\.0\.1:[0-9]+$'
  pp_expect_eq "$kind, allow without 127.0.0.1: the header is the program's data" \
    "$(run_field "$PP_TMP/$name-1.reply" data)" PROXY
  pp_stop "$pid"
  name=$kind-allow-must
  run_start pid port "$name" env LIBPROXYPROTO_ALLOW=192.0.2.1 \
    LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER=1 "$PP_RUN" "${server[@]}"
  run_client "$name-1" "$port" "${V1}hello\n"
  pp_expect_eq "$kind, allow without 127.0.0.1, must-use: dropped unseen" \
    "$(cat "$PP_TMP/$name-1.reply")/$(served "$name")" /0
  pp_stop "$pid"
  name=$kind-allow-ok
  run_start pid port "$name" env LIBPROXYPROTO_ALLOW=127.0.0.0/8 "$PP_RUN" "${server[@]}"
  run_client "$name-1" "$port" "${V1}hello\n"
  pp_expect_eq "$kind, allow 127.0.0.0/8: the claimed client" \
    "$(run_field "$PP_TMP/$name-1.reply" peer)" 203.0.113.7:4321
  pp_stop "$pid"

  # ---- ports: a listener outside the list is left alone
  name=$kind-ports
  run_start pid port "$name" env LIBPROXYPROTO_PORTS=1 "$PP_RUN" "${server[@]}"
  run_client "$name-1" "$port" "${V1}hello\n"
  pp_expect_match "$kind, ports=1: another port's connection keeps its real peer" \
    "$(run_field "$PP_TMP/$name-1.reply" peer)" '^127\.0\.0\.1:[0-9]+$'
  pp_expect_eq "$kind, ports=1: ... and its header is data" \
    "$(run_field "$PP_TMP/$name-1.reply" data)" PROXY
  pp_stop "$pid"

  # ---- version: only the versions asked for are headers
  name=$kind-version
  run_start pid port "$name" env LIBPROXYPROTO_VERSION=2 "$PP_RUN" "${server[@]}"
  run_client "$name-v1" "$port" "${V1}hello\n"
  run_client "$name-v2" "$port" "${V2}hello\n"
  pp_expect_eq "$kind, version=2: a v1 line is data" "$(run_field "$PP_TMP/$name-v1.reply" data)" PROXY
  pp_expect_eq "$kind, version=2: a v2 header is read" \
    "$(run_field "$PP_TMP/$name-v2.reply" peer)" 198.51.100.9:5555
  pp_stop "$pid"
done

pp_finish
