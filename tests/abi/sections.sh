#!/bin/bash
# What every process the library is preloaded into pays for: the writable
# data it maps from the file. Static tables (the pending pool, the
# descriptor tables) must be zero-initialised so that they lie in .bss,
# which costs nothing until touched; .data holds only the few non-zero
# globals. And the unwind tables that thread cancellation needs are there
# (tests/abi/cancel.sh shows what they are for). ARM's EHABI unwinds through
# its own index, .ARM.exidx (8 bytes a function), not .eh_frame: there the
# index must have at least one entry per exported function.
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"

require_env LIBPROXYPROTO_SO LIBPROXYPROTO_CONNECT_SO
require_tool readelf nm awk

DATA_LIMIT=8192

# section_size SO NAME: the section's size in bytes (0 when absent).
section_size() {
  readelf -SW "$1" | awk -v n="$2" '{
      for (i = 1; i < NF; i++) if ($i == n) { print $(i + 4); found = 1; exit } }
    END { if (!found) print 0 }' | { read -r hex; echo $((16#$hex)); }
}

for so in "$LIBPROXYPROTO_SO" "$LIBPROXYPROTO_CONNECT_SO"; do
  label=$(basename "$so")
  [ -f "$so" ] || pp_fatal "$so not built"
  data=$(section_size "$so" .data)
  bss=$(section_size "$so" .bss)
  eh=$(section_size "$so" .eh_frame)
  exidx=$(section_size "$so" .ARM.exidx)
  echo "# $label: .data $data bytes, .bss $bss bytes, .eh_frame $eh bytes, .ARM.exidx $exidx bytes"
  if [ "$data" -le "$DATA_LIMIT" ]; then
    pp_ok "$label: .data is at most $DATA_LIMIT bytes ($data)"
  else
    pp_not_ok "$label: .data is at most $DATA_LIMIT bytes ($data)"
  fi
  if readelf -h "$so" | grep -Eq 'Machine:[[:space:]]+ARM$'; then
    exported=$(nm -D --defined-only "$so" | awk '$2 == "T"' | wc -l)
    if [ "$exported" -gt 0 ] && [ "$exidx" -ge $((8 * exported)) ]; then
      pp_ok "$label: ARM: has unwind tables (.ARM.exidx $exidx bytes, $exported exported functions)"
    else
      pp_not_ok "$label: ARM: has unwind tables (.ARM.exidx $exidx bytes, $exported exported functions)"
    fi
  elif [ "$eh" -gt 1024 ]; then
    pp_ok "$label: has unwind tables (.eh_frame $eh bytes)"
  else
    pp_not_ok "$label: has unwind tables (.eh_frame $eh bytes)"
  fi
done

pp_finish
