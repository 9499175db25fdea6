#!/bin/bash
# Preloaded into programs that never accept or connect, the libraries must
# change nothing: no output of their own, same exit status, same output.
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"

require_env LIBPROXYPROTO_SO LIBPROXYPROTO_CONNECT_SO
require_tool timeout ls sh cmp

TRUE=/bin/true
FALSE=/bin/false
[ -x "$TRUE" ] || TRUE=$(command -v true)
[ -x "$FALSE" ] || FALSE=$(command -v false)
# The type builtins would not load anything; use the programs.
case $TRUE in /*) ;; *) pp_fatal "no true program found" ;; esac
case $FALSE in /*) ;; *) pp_fatal "no false program found" ;; esac
HAVE_PYTHON=0
if command -v python3 >/dev/null 2>&1; then
  HAVE_PYTHON=1
else
  echo "# python3 not found: its case is skipped"
fi

export LC_ALL=C

# run NAME PRELOAD [ENV=VALUE...] -- CMD...: output to $PP_TMP/NAME.out/.err,
# status to $PP_TMP/NAME.rc. PRELOAD empty: no library.
run() {
  local name=$1 preload=$2 rc=0
  shift 2
  local -a envs=()
  while [ "$1" != -- ]; do
    envs+=("$1")
    shift
  done
  shift
  if [ -n "$preload" ]; then
    envs+=(LD_PRELOAD="$(pp_preload_value "$preload")")
  fi
  timeout "$PP_DEADLINE" env "${envs[@]}" "$@" \
    >"$PP_TMP/$name.out" 2>"$PP_TMP/$name.err" || rc=$?
  echo "$rc" >"$PP_TMP/$name.rc"
}

# expect NAME DESC RC STDOUT: exit status RC, stdout exactly STDOUT (a line
# unless empty), stderr empty.
expect() {
  local name=$1 desc=$2 rc=$3 out=$4
  pp_expect_eq "$desc: exit status" "$(cat "$PP_TMP/$name.rc")" "$rc"
  if [ -n "$out" ]; then
    printf '%s\n' "$out" >"$PP_TMP/$name.want"
  else
    : >"$PP_TMP/$name.want"
  fi
  if cmp -s "$PP_TMP/$name.want" "$PP_TMP/$name.out"; then
    pp_ok "$desc: stdout is exactly '${out}'"
  else
    pp_not_ok "$desc: stdout is exactly '${out}'"
    pp_dump "$PP_TMP/$name.out"
  fi
  if [ ! -s "$PP_TMP/$name.err" ]; then
    pp_ok "$desc: nothing on stderr"
  else
    pp_not_ok "$desc: nothing on stderr"
    pp_dump "$PP_TMP/$name.err"
  fi
}

# Reference run of ls without any library.
run ls-ref "" LC_ALL=C -- ls /

for lib in "$LIBPROXYPROTO_SO" "$LIBPROXYPROTO_CONNECT_SO"; do
  [ -f "$lib" ] || pp_fatal "$lib not built"
  label=$(basename "$lib")
  # LIBPROXYPROTO_DEBUG unset (common.sh unsets every LIBPROXYPROTO_*
  # setting), then on: the programs take no decision to report either way.
  for debug in unset 1; do
    if [ "$debug" = unset ]; then
      envs=(-u LIBPROXYPROTO_DEBUG)
      tag="$label, LIBPROXYPROTO_DEBUG unset"
    else
      envs=(LIBPROXYPROTO_DEBUG=1)
      tag="$label, LIBPROXYPROTO_DEBUG=1"
    fi
    n="${label%.so}-$debug"

    run "$n-true" "$lib" "${envs[@]}" -- "$TRUE"
    expect "$n-true" "$tag: $TRUE" 0 ""

    run "$n-false" "$lib" "${envs[@]}" -- "$FALSE"
    expect "$n-false" "$tag: $FALSE" 1 ""

    run "$n-sh" "$lib" "${envs[@]}" -- sh -c 'echo hi; exit 3'
    expect "$n-sh" "$tag: sh -c 'echo hi; exit 3'" 3 hi

    run "$n-ls" "$lib" "${envs[@]}" -- ls /
    pp_expect_eq "$tag: ls / exit status as without the library" \
      "$(cat "$PP_TMP/$n-ls.rc")" "$(cat "$PP_TMP/ls-ref.rc")"
    if cmp -s "$PP_TMP/ls-ref.out" "$PP_TMP/$n-ls.out" &&
      cmp -s "$PP_TMP/ls-ref.err" "$PP_TMP/$n-ls.err"; then
      pp_ok "$tag: ls / output identical to the run without the library"
    else
      pp_not_ok "$tag: ls / output identical to the run without the library"
      diff "$PP_TMP/ls-ref.out" "$PP_TMP/$n-ls.out" | sed 's/^/#   /' || true
      diff "$PP_TMP/ls-ref.err" "$PP_TMP/$n-ls.err" | sed 's/^/#   /' || true
    fi

    if [ "$HAVE_PYTHON" = 1 ]; then
      run "$n-py" "$lib" "${envs[@]}" -- python3 -c 'print(1)'
      expect "$n-py" "$tag: python3 -c 'print(1)'" 0 1
    fi
  done
done

pp_finish
