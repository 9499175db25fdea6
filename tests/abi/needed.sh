#!/bin/bash
# The preload libraries must not depend on the C++ runtime (libstdc++,
# libgcc_s, C++ ABI symbols), must carry their SONAMEs, and must be linked
# with RELRO and a non-executable stack. Their libc functions are bound
# lazily, on first call (configure.ac says why): RELRO then covers the GOT
# of data imports, the init and fini arrays and the dynamic section, which
# is checked here section by section; a distribution's -z now still passes.
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"

require_env LIBPROXYPROTO_SO LIBPROXYPROTO_CONNECT_SO
require_tool readelf nm awk

check_library() {
  local so=$1 soname=$2 label dyn needed bad und line flags
  label=$(basename "$so")
  [ -f "$so" ] || pp_fatal "$so not built"
  dyn=$(readelf -d -W "$so")

  needed=$(printf '%s\n' "$dyn" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p')
  echo "# $label: NEEDED: $(printf "%s\n" "$needed" | pp_words)"
  bad=$(printf '%s\n' "$needed" | grep -E '^(libstdc\+\+|libgcc_s)' || true)
  if [ -z "$bad" ]; then
    pp_ok "$label: NEEDED has neither libstdc++ nor libgcc_s"
  else
    pp_not_ok "$label: NEEDED has neither libstdc++ nor libgcc_s; got: $(printf "%s\n" "$bad" | pp_words)"
  fi

  # Undefined dynamic symbols: no C++ ABI, no unwinder.
  und=$(nm -D --undefined-only "$so")
  bad=$(printf '%s\n' "$und" | awk '{ n = $NF; sub(/@.*/, "", n); t = (NF >= 2 ? $(NF-1) : "") }
    n ~ /^_Z/ || n ~ /^__gxx_/ || n ~ /^_Unwind_/ { print n; next }
    n ~ /^__cxa_/ && !(n == "__cxa_finalize" && t == "w") { print n }')
  if [ -z "$bad" ]; then
    pp_ok "$label: no undefined _Z*, __cxa_* (but weak __cxa_finalize), __gxx_*, _Unwind_* symbols"
  else
    pp_not_ok "$label: no undefined _Z*, __cxa_*, __gxx_*, _Unwind_* symbols; got: $(printf "%s\n" "$bad" | pp_words)"
  fi
  # The defined ones, too: no C++ symbol may leak out either.
  bad=$(nm -D --defined-only "$so" | awk '{ n = $NF } n ~ /^(_Z|__cxa_|__gxx_)/ { print n }')
  if [ -z "$bad" ]; then
    pp_ok "$label: defines no C++ ABI symbols"
  else
    pp_not_ok "$label: defines no C++ ABI symbols; got: $(printf "%s\n" "$bad" | pp_words)"
  fi

  line=$(printf '%s\n' "$dyn" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
  pp_expect_eq "$label: SONAME is $soname" "$line" "$soname"

  local phdrs sections relro_start relro_end name start size missing
  phdrs=$(readelf -l -W "$so")
  if printf '%s\n' "$phdrs" | grep -Eq '^[[:space:]]*GNU_RELRO[[:space:]]'; then
    pp_ok "$label: has a GNU_RELRO segment (-z relro)"
  else
    pp_not_ok "$label: has a GNU_RELRO segment (-z relro)"
  fi
  # GNU_RELRO: Type Offset VirtAddr PhysAddr FileSiz MemSiz Flg Align
  relro_start=$(printf '%s\n' "$phdrs" | awk '$1 == "GNU_RELRO" { print $3 }')
  relro_end=$(printf '%s\n' "$phdrs" | awk '$1 == "GNU_RELRO" { print $6 }')
  if [ -n "$relro_start" ]; then
    relro_start=$((relro_start))
    relro_end=$((relro_start + relro_end))
  fi
  sections=$(readelf -S -W "$so" | sed 's/^ *\[ *[0-9]*\] *//')
  missing=""
  for name in .got .init_array .fini_array .dynamic; do
    # Name Type Address Off Size ...
    start=$(printf '%s\n' "$sections" | awk -v n="$name" '$1 == n { print $3 }')
    size=$(printf '%s\n' "$sections" | awk -v n="$name" '$1 == n { print $5 }')
    [ -n "$start" ] || continue  # a section the library does not have
    start=$((0x$start))
    size=$((0x$size))
    if [ -z "$relro_start" ] || [ "$start" -lt "$relro_start" ] ||
       [ $((start + size)) -gt "$relro_end" ]; then
      missing="$missing $name"
    fi
  done
  if [ -z "$missing" ]; then
    pp_ok "$label: .got, .init_array, .fini_array and .dynamic are read-only after relocation (in GNU_RELRO)"
  else
    pp_not_ok "$label: outside GNU_RELRO:$missing"
  fi

  # GNU_STACK: Type Offset VirtAddr PhysAddr FileSiz MemSiz Flg... Align
  flags=$(printf '%s\n' "$phdrs" | awk '$1 == "GNU_STACK" {
      f = ""; for (i = 7; i < NF; i++) f = f $i; print f }')
  if [ -z "$flags" ]; then
    pp_not_ok "$label: has a GNU_STACK header (else the stack may be executable)"
  else
    case $flags in
      *E*) pp_not_ok "$label: stack is not executable (GNU_STACK flags: $flags)" ;;
      *) pp_ok "$label: stack is not executable (GNU_STACK flags: $flags)" ;;
    esac
  fi
}

check_library "$LIBPROXYPROTO_SO" libproxyproto.so.0
check_library "$LIBPROXYPROTO_CONNECT_SO" libproxyproto_connect.so.0

pp_finish
