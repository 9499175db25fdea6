#!/bin/bash
# The library's own pre-forked server (prefork_server), 3 workers, in every
# shape: blocking accept, epoll (level, edge, EPOLLEXCLUSIVE), select, and
# SO_REUSEPORT. Late (0/10/100/1000 ms) and split headers, 20 concurrent
# clients a round, silent ones mixed in: each is answered within its delay
# plus a generous bound with its own claimed address, and the workers'
# applications accepted exactly the connections the clients opened. Last,
# the same under must-use: silent clients are dropped, nobody waits.
#
# The blocking shape on one shared listener is the hardest: a worker with
# parked connections must never block in accept() while a sibling takes the
# connection it was woken for (lib/accept/shared_accept.h).
# spid is set through pp_bg.
# shellcheck disable=SC2154
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/prefork/common.sh
. "$(cd "$(dirname "$0")" && pwd)/common.sh"

# run NAME MUST-USE(0|1) -- server args
# PF_ONLY=REGEX runs only the configurations whose name matches (to repeat one).
run() {
  local name=$1 must=$2 rec=$PP_TMP/$1.record port
  shift 3
  if [ -n "${PF_ONLY:-}" ] && ! [[ $name =~ $PF_ONLY ]]; then return 0; fi
  : >"$rec"
  pp_start_preloaded "$PREFORK_SERVER" 60 spid port "$PP_TMP/$name.out" \
    LIBPROXYPROTO_TIMEOUT=$PF_TIMEOUT_MS \
    LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER="$must" -- --record "$rec" "$@"
  if [ "$must" = 1 ]; then
    pf_clients "$name" "$port" --silent 2 --must-use
  else
    pf_clients "$name" "$port" --silent 2
  fi
  sleep 0.2
  pp_stop "$spid"
  local dropped=
  [ "$must" = 1 ] && dropped=$((2 * PF_ROUNDS))
  pf_expect_accepted "$name" "$(grep -c '^accepted ' "$rec" || true)" $dropped
  if [ "$PP_FAIL" -ne 0 ]; then pp_dump "$PP_TMP/$name.out.err"; fi
}

run blocking 0 -- --shape blocking
run epoll 0 -- --shape epoll
run epoll-edge 0 -- --shape epoll --edge
run epoll-exclusive 0 -- --shape epoll --exclusive
run select 0 -- --shape select
run epoll-reuseport 0 -- --shape epoll --reuseport
run blocking-reuseport 0 -- --shape blocking --reuseport
# Under must-use the silent clients never reach the application.
run epoll-must-use 1 -- --shape epoll
pp_finish
