#!/bin/bash
# Every function of the C interface that libproxyproto.so exports has its
# manual page: a link page doc/man3/NAME.3 that points at proxyproto(3), and
# a place in the NAME and SYNOPSIS sections of doc/proxyproto.3.md. A link
# page for a function that is not exported fails too.
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"

require_env LIBPROXYPROTO_SO PP_SRCDIR
require_tool nm awk grep sed

page=$PP_SRCDIR/doc/proxyproto.3.md
links=$PP_SRCDIR/doc/man3
exported=$(nm -D --defined-only "$LIBPROXYPROTO_SO" | awk 'NF >= 3 { print $3 }' |
  sed 's/@.*//' | grep '^proxyproto_' | sort -u)
[ -n "$exported" ] || pp_fatal "no proxyproto_* symbol exported by $LIBPROXYPROTO_SO"
name_section=$(sed -n '/^# NAME/,/^# SYNOPSIS/p' "$page")
synopsis=$(sed -n '/^# SYNOPSIS/,/^# DESCRIPTION/p' "$page")

for fn in $exported; do
  if [ "$(cat "$links/$fn.3" 2>/dev/null)" = ".so man3/proxyproto.3" ]; then
    pp_ok "$fn: link page doc/man3/$fn.3"
  else
    pp_not_ok "$fn: doc/man3/$fn.3 missing or not a link to proxyproto.3"
  fi
  if grep -qw -- "$fn" <<<"$name_section"; then
    pp_ok "$fn: named in NAME"
  else
    pp_not_ok "$fn: not named in the NAME section of doc/proxyproto.3.md"
  fi
  if grep -q -- "$fn(" <<<"$synopsis"; then
    pp_ok "$fn: in SYNOPSIS"
  else
    pp_not_ok "$fn: no prototype in the SYNOPSIS of doc/proxyproto.3.md"
  fi
done
for link in "$links"/*.3; do
  fn=$(basename "$link" .3)
  if grep -qx -- "$fn" <<<"$exported"; then
    pp_ok "$fn: link page names an exported function"
  else
    pp_not_ok "doc/man3/$fn.3 names no exported function"
  fi
done
pp_finish
