#!/bin/bash
# Shared by the tests in tests/prefork/ (sourced after
# tests/lib/common.sh): the client rounds and their checks.
# shellcheck disable=SC2034

require_env LIBPROXYPROTO_SO PP_PREFORK PP_HELPERS
for __p in prefork_server prefork_client; do
  [ -x "$PP_PREFORK/$__p" ] || pp_fatal "$PP_PREFORK/$__p not built"
done
[ -f "$LIBPROXYPROTO_SO" ] || pp_fatal "$LIBPROXYPROTO_SO not built"
PREFORK_SERVER=$PP_PREFORK/prefork_server
PREFORK_CLIENT=$PP_PREFORK/prefork_client
PRELOAD=$(pp_preload_value "$LIBPROXYPROTO_SO")
PATH=$PATH:/usr/sbin:/sbin

# The library's header timeout in these tests, and how long a silent client
# stays silent before it speaks without a header (past the timeout).
PF_TIMEOUT_MS=1500
PF_SILENT_MS=1800
# Generous: the longest any answer may take beyond its own client's delay.
PF_BOUND_MS=${PF_BOUND_MS:-1500}
PF_ROUNDS=${PF_ROUNDS:-3}
PF_CONCURRENCY=${PF_CONCURRENCY:-20}

# pf_children PID: how many children PID has.
pf_children() {
  pp_pgrep -c -P "$1" 2>/dev/null || true
}

# pf_clients NAME PORT [client args]: rounds of late, split and silent
# clients; checks that every one passed. Leaves the result line in PF_RESULT
# and the number of connections opened in PF_OPENED.
PF_RESULT=
PF_OPENED=0
pf_clients() {
  local name=$1 port=$2 out
  shift 2
  out=$PP_TMP/$name.client
  timeout 120 "$PREFORK_CLIENT" --port "$port" --rounds "$PF_ROUNDS" \
    --concurrency "$PF_CONCURRENCY" --bound-ms "$PF_BOUND_MS" \
    --silent-ms "$PF_SILENT_MS" "$@" >"$out" 2>"$out.err" || true
  PF_RESULT=$(grep '^result ' "$out" | tail -n1)
  echo "# $name: ${PF_RESULT:-no result}"
  PF_OPENED=$(printf '%s\n' "$PF_RESULT" | sed -n 's/.* opened=\([0-9]*\).*/\1/p')
  local failed
  failed=$(printf '%s\n' "$PF_RESULT" | sed -n 's/.* failed=\([0-9]*\).*/\1/p')
  if [ -n "$PF_RESULT" ] && [ "$failed" = 0 ]; then
    pp_ok "$name: every client answered in time with its own address"
  else
    pp_not_ok "$name: every client answered in time with its own address"
    grep '^fail ' "$out" | head -n 15 | sed 's/^/#   /'
    pp_dump "$out.err"
  fi
}

# pf_expect_accepted NAME COUNT: the application accepted exactly as many
# connections as the clients opened (none that no client opened).
# With a third argument, that many of them were silent clients dropped under
# must-use, which the application must never have seen.
pf_expect_accepted() {
  local want=${PF_OPENED:-?}
  if [ -n "${3:-}" ] && [ "$want" != '?' ]; then want=$((want - $3)); fi
  pp_expect_eq "$1: the application accepted as many connections as the clients opened${3:+ (less the $3 dropped silent ones)}" \
    "$2" "$want"
}
