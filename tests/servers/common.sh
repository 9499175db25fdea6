#!/bin/bash
# Shared by the tests in tests/servers/ (sourced after
# tests/integration/common.sh): starting load_server under the library and
# reading load_client's result lines.
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

# kv LINE KEY: the value of KEY=... in a space-separated result line.
kv() {
  printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n1
}

# kv_rest LINE KEY: the value of KEY=..., up to the next " word=" (values
# with spaces: hello=, claim=).
kv_rest() {
  printf '%s\n' "$1" | sed -n "s/.* $2=\(.*\)/\1/p" | sed 's/ [a-z_]*=.*//'
}

# ms_below DESC VALUE BOUND: ok when 0 <= VALUE < BOUND (integers).
ms_below() {
  if [ -n "$2" ] && [ "$2" -ge 0 ] 2>/dev/null && [ "$2" -lt "$3" ]; then
    pp_ok "$1 ($2 ms < $3 ms)"
  else
    pp_not_ok "$1 (got '${2}' ms, want < $3 ms)"
  fi
}

# ms_between DESC VALUE LOW HIGH: ok when LOW <= VALUE <= HIGH.
ms_between() {
  if [ -n "$2" ] && [ "$2" -ge "$3" ] 2>/dev/null && [ "$2" -le "$4" ]; then
    pp_ok "$1 ($2 ms, within $3..$4 ms)"
  else
    pp_not_ok "$1 (got '${2}' ms, want $3..$4 ms)"
  fi
}

# ls_stop_summary OUTFILE PID: stop load_server (SIGTERM makes it print its
# summary; it may first finish a library-internal wait) and print the summary.
ls_stop_summary() {
  pp_stop "$2"
  grep '^summary ' "$1" | tail -n1
}
