#!/bin/bash
# The preload libraries never call their own exported functions through the
# PLT. Such a call binds to the first definition in the process: for
# getsockname() the library's own interposer instead of the C library's, for
# proxyproto_parse() and the other API functions whatever an application or
# another library defines under that name. Internal code calls the real
# function (runtime/real_calls.h) or a hidden internal name instead, so
# `readelf -r` shows no dynamic relocation naming any symbol the library
# itself defines and exports. Every relocation type counts, not only the
# PLT slot's (JUMP_SLOT on x86, arm and riscv, JMP_SLOT on s390x and ppc64)
# and the GOT's (GLOB_DAT; riscv64 and ppc64 fill the GOT with plain
# 64-bit relocations): each binds to the first definition in the process.
# The library does call the C library through its PLT, so a target whose
# relocations this script cannot read fails rather than passes.
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"

require_env LIBPROXYPROTO_SO LIBPROXYPROTO_CONNECT_SO
require_tool readelf nm awk sort comm

check_library() {
  local so=$1 label exported slots bad
  label=$(basename "$so")
  [ -f "$so" ] || pp_fatal "$so not built"
  exported=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TtWi]$/ { n = $3; sub(/@.*/, "", n); print n }' | sort -u)
  [ -n "$exported" ] || pp_fatal "$label: no exported functions found"
  # Offset Info Type Sym.Value Sym.Name(+ addend): lines with a symbol.
  slots=$(readelf -rW "$so" | awk '$1 ~ /^[0-9a-f]+$/ && $3 ~ /^R_/ && NF >= 5 {
      n = $5; sub(/@.*/, "", n); print n }' | sort -u)
  if printf '%s\n' "$slots" | grep -qx 'dlsym'; then
    pp_ok "$label: its relocations name the C library functions it calls (dlsym)"
  else
    pp_not_ok "$label: its relocations name the C library functions it calls (dlsym); read: $(printf '%s\n' "$slots" | pp_words)"
  fi
  bad=$(comm -12 <(printf '%s\n' "$exported") <(printf '%s\n' "$slots") | pp_words)
  echo "# $label: $(printf '%s\n' "$exported" | wc -l) exported functions"
  if [ -z "$bad" ]; then
    pp_ok "$label: no PLT/GOT relocation for any function it exports"
  else
    pp_not_ok "$label: no PLT/GOT relocation for any function it exports; got: $bad"
  fi
}

check_library "$LIBPROXYPROTO_SO"
check_library "$LIBPROXYPROTO_CONNECT_SO"

pp_finish
