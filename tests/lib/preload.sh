#!/bin/bash
# Starting processes under the libraries (sourced by tests/lib/common.sh).
#
# A library is always put before whatever LD_PRELOAD already holds: the
# sanitizer build exports the ASan runtime there (tests/fuzz/local.mk), and
# every process a test starts must keep it.

# pp_preload_value LIBRARY: the LD_PRELOAD value that adds LIBRARY in
# front of the current one.
pp_preload_value() {
  printf '%s' "$1${LD_PRELOAD:+:$LD_PRELOAD}"
}

# pp_sanitizer_variables: the sanitizer build's variables that are set
# (tests/fuzz/local.mk), one NAME=VALUE a line, for the tests whose
# services start from a fresh environment (systemd-socket-activate -E,
# Postfix's import_environment): without ASAN_OPTIONS, a service preloading
# the library ahead of the ASan runtime refuses to start.
pp_sanitizer_variables() {
  local v
  for v in ASAN_OPTIONS UBSAN_OPTIONS; do
    [ -z "${!v:-}" ] || printf '%s=%s\n' "$v" "${!v}"
  done
}

# pp_bg_preloaded VAR-PID LIBRARY LIFETIME OUTFILE [ENV=VALUE...] -- CMD...
# Starts CMD in the background with LIBRARY preloaded and the given
# environment, killed after LIFETIME seconds at the latest; stdout goes to
# OUTFILE, stderr to OUTFILE.err. VAR-PID gets its pid (see pp_bg).
pp_bg_preloaded() {
  local __pidvar=$1 __lib=$2 __lifetime=$3 __out=$4 __bpid
  shift 4
  local __envs=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    __envs+=("$1")
    shift
  done
  [ $# -gt 0 ] && shift
  pp_bg __bpid timeout "$__lifetime" env "${__envs[@]}" \
    LD_PRELOAD="$(pp_preload_value "$__lib")" "$@" >"$__out" 2>"$__out.err"
  printf -v "$__pidvar" '%s' "$__bpid"
}

# pp_start_preloaded PROGRAM LIFETIME VAR-PID VAR-PORT OUTFILE [ENV=VALUE...]
#   -- [PROGRAM args]
# Starts PROGRAM under libproxyproto.so ($LIBPROXYPROTO_SO, read at each
# call) with the given environment, killed after LIFETIME seconds at the
# latest, and waits until it printed "port N" (or "unix PATH"): VAR-PORT
# gets N (or PATH).
pp_start_preloaded() {
  local __program=$1 __lifetime=$2 __pidvar=$3 __portvar=$4 __out=$5 __spid __sport
  shift 5
  local __envs=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    __envs+=("$1")
    shift
  done
  [ $# -gt 0 ] && shift
  pp_bg_preloaded __spid "$LIBPROXYPROTO_SO" "$__lifetime" "$__out" \
    "${__envs[@]}" -- "$__program" "$@"
  pp_wait_for_line "$__out" '^(port [0-9]+|unix .+)$' "$PP_DEADLINE" "$__spid" ||
    pp_fatal "${__program##*/} did not start: $(cat "$__out.err" 2>/dev/null)"
  __sport=$(sed -n 's/^port \([0-9][0-9]*\)$/\1/p; s/^unix //p' "$__out" | head -n1)
  printf -v "$__pidvar" '%s' "$__spid"
  printf -v "$__portvar" '%s' "$__sport"
}

# pp_start_server VAR-PID VAR-PORT OUTFILE [ENV=VALUE...] -- [pp_server args]
# pp_server under libproxyproto.so, for at most 30 s.
pp_start_server() {
  pp_start_preloaded "$PP_HELPERS/pp_server" 30 "$@"
}
