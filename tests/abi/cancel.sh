#!/bin/bash
# pthread_cancel() of a thread blocked in accept() under libproxyproto.so
# runs the C++ destructors of the thread's frames (tests/abi/cancel_accept):
# once blocked in the kernel's accept, once in the library's poll() with a
# connection parked. The program is run without the library as the control.
# The library keeps its unwind tables for this, and still needs neither
# libstdc++ nor libgcc_s (tests/abi/needed.sh).
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"

require_env LIBPROXYPROTO_SO PP_BUILDDIR
require_tool timeout
PROGRAM=$PP_BUILDDIR/tests/abi/cancel_accept
[ -x "$PROGRAM" ] || pp_fatal "$PROGRAM not built"

# run LABEL MODE [ENV=VALUE...]: the program's output in $PP_TMP/LABEL.
run() {
  local label=$1 mode=$2 rc=0
  shift 2
  timeout 20 env "$@" "$PROGRAM" "$mode" >"$PP_TMP/$label" 2>&1 || rc=$?
  echo "# $label: exit $rc: $(tr '\n' '|' <"$PP_TMP/$label")"
  return "$rc"
}

if run control plain; then
  pp_ok "without the library, a cancelled accept() runs the caller's destructor"
else
  pp_not_ok "without the library, a cancelled accept() runs the caller's destructor"
fi
for mode in plain parked; do
  if run "preloaded-$mode" "$mode" LD_PRELOAD="$LIBPROXYPROTO_SO${LD_PRELOAD:+:$LD_PRELOAD}" \
      LIBPROXYPROTO_TIMEOUT=10000 &&
    grep -q "accept is in .*libproxyproto" "$PP_TMP/preloaded-$mode"; then
    pp_ok "under the library ($mode), a cancelled accept() runs the caller's destructor"
  else
    pp_not_ok "under the library ($mode), a cancelled accept() runs the caller's destructor"
  fi
done

pp_finish
