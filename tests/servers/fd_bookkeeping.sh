#!/bin/bash
# Descriptor bookkeeping: fd_bookkeeping runs under the library and checks
# that getpeername() records are forgotten by close(), dup2(), dup3() and
# close_range(), kept by close_range(CLOSE_RANGE_CLOEXEC), carried to high
# numbers by dup2(), and right in child and parent after fork().
# Expected to FAIL on a library that does not interpose close_range().
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/lib/servers.sh
. "$PP_LIB_DIR/servers.sh"

rc=0
timeout 60 env LD_PRELOAD="$(pp_preload_value "$LIBPROXYPROTO_SO")" \
  LIBPROXYPROTO_TIMEOUT=1000 "$PP_SERVERS/fd_bookkeeping" \
  >"$PP_TMP/fd.out" 2>"$PP_TMP/fd.err" || rc=$?
while IFS= read -r line; do
  case $line in
    "ok - "*) pp_ok "${line#ok - }" ;;
    "not ok - "*) pp_not_ok "${line#not ok - }" ;;
    *) echo "# $line" ;;
  esac
done <"$PP_TMP/fd.out"
pp_expect_eq "fd_bookkeeping exit status agrees" "$rc" "$([ "$PP_FAIL" -eq 0 ] && echo 0 || echo 1)"
grep -q ' - fork: parent keeps' "$PP_TMP/fd.out" ||
  pp_not_ok "fd_bookkeeping ran to the end"
[ -s "$PP_TMP/fd.err" ] && pp_dump "$PP_TMP/fd.err"
pp_finish
