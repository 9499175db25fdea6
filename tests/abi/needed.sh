#!/bin/bash
# The preload libraries must not depend on the C++ runtime (libstdc++,
# libgcc_s, C++ ABI symbols), must carry their SONAMEs, and must be linked
# with RELRO and a non-executable stack. Their libc functions are bound
# lazily, on first call (configure.ac says why): RELRO then covers the GOT
# of data imports, the init and fini arrays and the dynamic section, which
# is checked here section by section; a distribution's -z now still passes.
#
# Two libraries are allowed where the target needs them, each only for
# what it is there for:
#  - libgcc_s on ARM: every function's unwind table entry (.ARM.exidx)
#    refers to a personality routine, __aeabi_unwind_cpp_pr0..2, which the
#    unwinder defines; no other symbol may come from it.
#  - libatomic, where configure found that the atomics do not link without
#    it (PP_LINKS_LIBATOMIC in config.h: armel, riscv64 with gcc 12); no
#    other than __atomic_* symbols may come from it.
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"

require_env LIBPROXYPROTO_SO LIBPROXYPROTO_CONNECT_SO PP_BUILDDIR
require_tool readelf nm awk

check_library() {
  local so=$1 soname=$2 label dyn needed bad und line flags machine
  label=$(basename "$so")
  [ -f "$so" ] || pp_fatal "$so not built"
  dyn=$(readelf -d -W "$so")
  machine=$(readelf -h "$so" | sed -n 's/^ *Machine: *//p')

  needed=$(printf '%s\n' "$dyn" | sed -n 's/.*(NEEDED).*\[\(.*\)\].*/\1/p')
  echo "# $label: NEEDED: $(printf "%s\n" "$needed" | pp_words)"
  und=$(nm -D --undefined-only "$so")
  local allowed="" from_gcc from_atomic
  # The symbols bound to each, by their version (GCC_*, LIBATOMIC_*).
  from_gcc=$(printf '%s\n' "$und" | awk '{ n = $NF } n ~ /@GCC_/ { sub(/@.*/, "", n); print n }')
  from_atomic=$(printf '%s\n' "$und" | awk '{ n = $NF } n ~ /@LIBATOMIC_/ { sub(/@.*/, "", n); print n }')
  if [ "$machine" = ARM ] && printf '%s\n' "$needed" | grep -q '^libgcc_s'; then
    bad=$(printf '%s\n' "$from_gcc" | grep -v '^__aeabi_unwind_cpp_pr[012]$' | sed '/^$/d' || true)
    if [ -z "$bad" ]; then
      pp_ok "$label: ARM: libgcc_s only for the personality routines of .ARM.exidx ($(printf '%s\n' "$from_gcc" | pp_words))"
      allowed="$allowed|libgcc_s"
    else
      pp_not_ok "$label: ARM: libgcc_s only for the personality routines of .ARM.exidx; also: $(printf '%s\n' "$bad" | pp_words)"
    fi
  fi
  if printf '%s\n' "$needed" | grep -q '^libatomic'; then
    bad=$(printf '%s\n' "$from_atomic" | grep -v '^__atomic_' | sed '/^$/d' || true)
    if ! grep -q '^#define PP_LINKS_LIBATOMIC 1' "$PP_BUILDDIR/config.h"; then
      pp_not_ok "$label: libatomic only where configure found the atomics need it"
    elif [ -n "$bad" ] || [ -z "$from_atomic" ]; then
      pp_not_ok "$label: libatomic only for __atomic_* symbols; got: $(printf '%s\n' "$from_atomic" | pp_words)"
    else
      pp_ok "$label: libatomic, which configure found needed, only for $(printf '%s\n' "$from_atomic" | pp_words)"
      allowed="$allowed|libatomic"
    fi
  fi
  bad=$(printf '%s\n' "$needed" | grep -E '^(libstdc\+\+|libgcc_s|libatomic)' || true)
  if [ -n "$allowed" ]; then
    bad=$(printf '%s\n' "$bad" | grep -Ev "^(${allowed#|})\." || true)
  fi
  if [ -z "$bad" ]; then
    pp_ok "$label: NEEDED has neither libstdc++ nor libgcc_s (nor libatomic) beyond the above"
  else
    pp_not_ok "$label: NEEDED has neither libstdc++ nor libgcc_s (nor libatomic) beyond the above; got: $(printf "%s\n" "$bad" | pp_words)"
  fi

  # Undefined dynamic symbols: no C++ ABI, no unwinder (but ARM's
  # personality routines, above).
  bad=$(printf '%s\n' "$und" | awk -v arm="$([ "$machine" = ARM ] && echo 1)" '{ n = $NF; sub(/@.*/, "", n); t = (NF >= 2 ? $(NF-1) : "") }
    n ~ /^_Z/ || n ~ /^__gxx_/ || n ~ /^_Unwind_/ || n ~ /^__aeabi_unwind_cpp_pr[0-9]+$/ && !arm { print n; next }
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
  # The lazily bound PLT slots: relocated by their own type (JUMP_SLOT, or
  # JMP_SLOT on s390x and ppc64), and left writable on purpose. On x86 and
  # s390x they have a section of their own (.got.plt); on ARM and RISC-V
  # they share .got with the rest, and only the rest must be in GNU_RELRO:
  # every other relocation that lies in .got is checked one by one there.
  local relocs got_start got_end slots_in_got offset type outside
  relocs=$(readelf -rW "$so" | awk '$1 ~ /^[0-9a-f]+$/ && $3 ~ /^R_/ { print $1, $3 }')
  got_start=$(printf '%s\n' "$sections" | awk '$1 == ".got" { print $3 }')
  got_end=$(printf '%s\n' "$sections" | awk '$1 == ".got" { print $5 }')
  slots_in_got=0
  if [ -n "$got_start" ]; then
    got_start=$((0x$got_start))
    got_end=$((got_start + 0x$got_end))
    outside=""
    while read -r offset type; do
      [ -n "$offset" ] || continue
      offset=$((0x$offset))
      [ "$offset" -ge "$got_start" ] && [ "$offset" -lt "$got_end" ] || continue
      case $type in
        *_JUMP_SLOT | *_JMP_SLOT) slots_in_got=1; continue ;;
      esac
      if [ -z "$relro_start" ] || [ "$offset" -lt "$relro_start" ] ||
         [ "$offset" -ge "$relro_end" ]; then
        outside="$outside $type@$(printf '%x' "$offset")"
      fi
    done < <(printf '%s\n' "$relocs")
    if [ -z "$outside" ]; then
      pp_ok "$label: every .got entry but the lazy PLT slots is in GNU_RELRO"
    else
      pp_not_ok "$label: every .got entry but the lazy PLT slots is in GNU_RELRO; outside:$outside"
    fi
  fi
  missing=""
  for name in .got .init_array .fini_array .dynamic; do
    # .got as a whole only where the PLT slots are elsewhere (above).
    [ "$name" = .got ] && [ "$slots_in_got" = 1 ] && continue
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
    pp_ok "$label: $([ "$slots_in_got" = 1 ] || printf '.got, ').init_array, .fini_array and .dynamic are read-only after relocation (in GNU_RELRO)"
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
