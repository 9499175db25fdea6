#!/bin/bash
# The dynamic symbols each preload library defines must be exactly the names
# listed under "global:" in its version script, and none may carry a symbol
# version: a versioned definition (accept@@SOMETHING) would not interpose on
# the program's accept@GLIBC_2.2.5.
#
# The version scripts also list glibc's __*64 names (__ppoll64, ...), which
# exist only where time_t was 32 bits (lib/runtime/time_layouts.h): there
# the library must define them too, and elsewhere it must not.
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"

require_env LIBPROXYPROTO_SO LIBPROXYPROTO_CONNECT_SO PP_SRCDIR
require_tool nm readelf sed sort comm

# sym_globals FILE: the names in the global: section of a version script.
sym_globals() {
  # Drop /* ... */ comments (also across lines) and // comments, then keep
  # what lies between "global:" and "local:" or the closing brace.
  sed -e ':a' -e '/\/\*/{' -e '/\*\//!{N;ba' -e '}' -e 's:/\*.*\*/::' -e 'ba' -e '}' \
    -e 's://.*$::' "$1" |
    tr '\n' ' ' |
    sed -n 's/.*global:\(.*\)/\1/p' |
    sed -e 's/local:.*//' -e 's/}.*//' |
    tr ';' '\n' | tr -d ' \t' | sed '/^$/d' | sort -u
}

# dyn_syms SO: readelf --dyn-syms, with the fields in the same columns on
# every target: ppc64 adds "[<localentry>: 8]" between Vis and Ndx.
dyn_syms() {
  readelf --dyn-syms -W "$1" | sed -E 's/\[<localentry>: [0-9]+\] *//'
}

# two_time_names SO: whether the library's target has glibc's __*64 names:
# an ELF32 library, but not x32 (an ELF32 x86-64, whose time_t is 64 bits).
two_time_names() {
  local header
  header=$(readelf -h "$1")
  printf '%s\n' "$header" | grep -Eq 'Class:[[:space:]]+ELF32' &&
    ! printf '%s\n' "$header" | grep -q 'Machine:.*X86-64'
}

# defined_dynamic SO: names of the defined dynamic symbols (with any @VER).
defined_dynamic() {
  nm -D --defined-only "$1" | awk 'NF >= 3 { print $3 }' |
    grep -Ev '^(_init|_fini|_edata|_end|__bss_start)(@.*)?$' | sort -u || true
}

check_library() {
  local so=$1 sym=$2 label want got extra missing versioned line
  label=$(basename "$so")
  if [ ! -f "$so" ]; then
    pp_fatal "$so not built"
  fi
  if [ ! -f "$sym" ]; then
    pp_fatal "$sym not found"
  fi
  want=$(sym_globals "$sym")
  if two_time_names "$so"; then
    echo "# $label: a target where time_t was 32 bits: the __*64 names are expected"
    printf '%s\n' "$want" | grep -q '^__[a-z]*64$' ||
      pp_not_ok "$label: the version script lists glibc's __*64 names"
  else
    echo "# $label: a 64-bit time_t only: the __*64 names of the script do not apply"
    want=$(printf '%s\n' "$want" | grep -v '^__[a-z]*64$' || true)
  fi
  got=$(defined_dynamic "$so")
  echo "# $label: version script global: $(printf "%s\n" "$want" | pp_words)"
  echo "# $label: nm -D --defined-only:   $(printf "%s\n" "$got" | pp_words)"

  if [ -n "$want" ]; then
    pp_ok "$label: the version script lists some global symbols"
  else
    pp_not_ok "$label: the version script lists some global symbols (parse failed?)"
  fi

  # Compare names without any version suffix; versions are checked below.
  local got_names
  got_names=$(printf '%s\n' "$got" | sed 's/@.*//' | sed '/^$/d' | sort -u)
  extra=$(comm -13 <(printf '%s\n' "$want") <(printf '%s\n' "$got_names") | sed '/^$/d')
  missing=$(comm -23 <(printf '%s\n' "$want") <(printf '%s\n' "$got_names") | sed '/^$/d')
  if [ -z "$extra" ]; then
    pp_ok "$label: exports nothing beyond the version script"
  else
    pp_not_ok "$label: exports nothing beyond the version script; extra: $(printf "%s\n" "$extra" | pp_words)"
  fi
  if [ -z "$missing" ]; then
    pp_ok "$label: defines every symbol of the version script"
  else
    pp_not_ok "$label: defines every symbol of the version script; missing: $(printf "%s\n" "$missing" | pp_words)"
  fi

  # Versions, as nm shows them ...
  versioned=$(printf '%s\n' "$got" | grep '@' || true)
  if [ -z "$versioned" ]; then
    pp_ok "$label: nm -D shows no versioned definition"
  else
    pp_not_ok "$label: nm -D shows no versioned definition; got: $(printf "%s\n" "$versioned" | pp_words)"
  fi
  # ... and as readelf shows them (Ndx is not UND for a definition).
  versioned=$(dyn_syms "$so" |
    awk '$1 ~ /^[0-9]+:$/ && $7 != "UND" && NF >= 8 && $8 ~ /@/ { print $8 }')
  if [ -z "$versioned" ]; then
    pp_ok "$label: readelf --dyn-syms shows no versioned definition"
  else
    pp_not_ok "$label: readelf --dyn-syms shows no versioned definition; got: $(printf "%s\n" "$versioned" | pp_words)"
  fi
  if readelf -V -W "$so" | grep -q "Version definition section"; then
    pp_not_ok "$label: has no version definitions (.gnu.version_d)"
    readelf -V -W "$so" | sed -n '/Version definition/,/^$/p' | sed 's/^/#   /'
  else
    pp_ok "$label: has no version definitions (.gnu.version_d)"
  fi

  # Each exported symbol is a global, default-visibility function.
  local name bad=
  for name in $want; do
    line=$(dyn_syms "$so" |
      awk -v n="$name" '$1 ~ /^[0-9]+:$/ && $7 != "UND" && ($8 == n || $8 ~ "^" n "@") { print $4, $5, $6 }')
    if [ "$line" != "FUNC GLOBAL DEFAULT" ]; then
      bad="$bad $name(${line:-absent})"
    fi
  done
  if [ -z "$bad" ]; then
    pp_ok "$label: every exported symbol is a FUNC GLOBAL DEFAULT definition"
  else
    pp_not_ok "$label: every exported symbol is a FUNC GLOBAL DEFAULT definition;$bad"
  fi
}

check_library "$LIBPROXYPROTO_SO" "$PP_SRCDIR/lib/libproxyproto.sym"
check_library "$LIBPROXYPROTO_CONNECT_SO" "$PP_SRCDIR/connect/libproxyproto_connect.sym"

pp_finish
