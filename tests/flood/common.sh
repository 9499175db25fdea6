#!/bin/bash
# The flood tests' helpers (sourced, not run).
#
#   flood_start MODE WORKERS [ENV=VALUE...]  flood_server under the library,
#                                           or under proxyproto-run when
#                                           FLOOD_LAUNCHER names it
#                                           (sets FLOOD_PID, FLOOD_PORT)
#   flood_run DESC CLIENT-ARGS...           one flood_client run, judged
#
# Every connection gets LIBPROXYPROTO_TIMEOUT=$FLOOD_TIMEOUT_MS; each silent
# one must be settled at its own deadline, never earlier, and at most
# FLOOD_BOUND_MS later; each legitimate client served with its claim and
# only its payload within FLOOD_BOUND_MS of sending its header.
# shellcheck disable=SC2034
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"

require_env LIBPROXYPROTO_SO PP_FLOOD
FLOOD_SERVER=$PP_FLOOD/flood_server
FLOOD_CLIENT=$PP_FLOOD/flood_client
FLOOD_TIMEOUT_MS=${FLOOD_TIMEOUT_MS:-3000}
FLOOD_BOUND_MS=${FLOOD_BOUND_MS:-4000}

# The flood needs thousands of descriptors on both sides; both programs raise
# their soft limit to the hard one, which must allow it.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
flood_need_descriptors() {
  local want=$1 have
  have=$(ulimit -n)
  if [ "$have" != unlimited ] && [ "$have" -lt "$want" ]; then
    echo "SKIP: $want descriptors needed, the hard limit is $have"
    exit 77
  fi
}

# MODE is epoll, blocking, or blocking/N (N threads blocked in accept()).
flood_start() {
  local mode=${1%/*} threads=1 workers=$2
  [ "$1" = "${1%/*}" ] || threads=${1#*/}
  shift 2
  if [ -z "${FLOOD_LAUNCHER:-}" ]; then
    pp_start_preloaded "$FLOOD_SERVER" 300 FLOOD_PID FLOOD_PORT "$PP_TMP/server.out" \
      LIBPROXYPROTO_TIMEOUT="$FLOOD_TIMEOUT_MS" "$@" -- \
      --mode "$mode" --threads "$threads" --workers "$workers"
    return
  fi
  pp_bg FLOOD_PID timeout 300 env LIBPROXYPROTO_TIMEOUT="$FLOOD_TIMEOUT_MS" "$@" \
    "$FLOOD_LAUNCHER" "$FLOOD_SERVER" --mode "$mode" --threads "$threads" \
    --workers "$workers" >"$PP_TMP/server.out" 2>"$PP_TMP/server.out.err"
  pp_wait_for_line "$PP_TMP/server.out" '^port [0-9]+$' "$PP_DEADLINE" "$FLOOD_PID" ||
    pp_fatal "flood_server did not start under the launcher: $(cat "$PP_TMP/server.out.err")"
  FLOOD_PORT=$(sed -n 's/^port //p' "$PP_TMP/server.out" | head -n1)
}

flood_stop() {
  pp_stop "$FLOOD_PID"
}

# One must-use run in a server of its own: once a silent client has met its
# deadline under must-use, the library asks the kernel to hold back the next
# ones until they send something (TCP_DEFER_ACCEPT), so a later flood would
# reach accept() only after the kernel's deferral, not be timed by the
# library. MODE WORKERS DESC CLIENT-ARGS...
flood_must_use_run() {
  local mode=$1 workers=$2 desc=$3
  shift 3
  flood_start "$mode" "$workers" LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER=1
  flood_run "$desc" --must-use 1 "$@"
  flood_stop
}

flood_run() {
  local desc=$1 res rc=0
  shift
  res=$(timeout 120 "$FLOOD_CLIENT" --port "$FLOOD_PORT" \
    --timeout-ms "$FLOOD_TIMEOUT_MS" --bound-ms "$FLOOD_BOUND_MS" "$@" \
    2>"$PP_TMP/client.err") || rc=$?
  echo "# $desc: $res"
  if [ "$rc" -eq 0 ]; then
    pp_ok "$desc"
  else
    pp_not_ok "$desc"
    pp_dump "$PP_TMP/client.err" "$PP_TMP/server.out.err"
  fi
  # The server must still be there.
  kill -0 "$FLOOD_PID" 2>/dev/null || pp_fatal "flood_server died"
}
