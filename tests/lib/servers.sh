#!/bin/bash
# The helper programs of tests/servers/ (sourced after tests/lib/common.sh):
# starting load_server under the library and reading its summary. The
# result lines of load_server and load_client are read with kv and kv_rest
# (tests/lib/report.sh).
# shellcheck disable=SC2034

require_env LIBPROXYPROTO_SO PP_SERVERS PP_HELPERS
for __p in load_server load_client fd_bookkeeping; do
  [ -x "$PP_SERVERS/$__p" ] || pp_fatal "$PP_SERVERS/$__p not built"
done
[ -f "$LIBPROXYPROTO_SO" ] || pp_fatal "$LIBPROXYPROTO_SO not built"
LOAD_SERVER=$PP_SERVERS/load_server
LOAD_CLIENT=$PP_SERVERS/load_client

# ls_start VAR-PID VAR-PORT OUTFILE [ENV=VALUE...] -- [load_server args]
# load_server under libproxyproto.so, for at most 120 s. VAR-PORT gets the
# port, or the path for --unix.
ls_start() {
  pp_start_preloaded "$LOAD_SERVER" 120 "$@"
}

# ls_summary OUTFILE PID: wait (bounded) for load_server to exit and print
# its summary line (empty if none).
ls_summary() {
  pp_wait_exit "$2" 30 >/dev/null || true
  grep '^summary ' "$1" | tail -n1
}

# ls_stop_summary OUTFILE PID: stop load_server (SIGTERM makes it print its
# summary; it may first finish a library-internal wait) and print the summary.
ls_stop_summary() {
  pp_stop "$2"
  grep '^summary ' "$1" | tail -n1
}
