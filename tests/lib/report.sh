#!/bin/bash
# Reading what a server or client reported (sourced by tests/lib/common.sh).
#
# pp_server prints one "conn accept=... peer=... len=... data=..." line per
# connection; load_server and load_client print "key=value" result lines
# ("summary served=N mismatches=M ...").

# pp_conn_line FILE [N]: the Nth (default 1st) "conn" line pp_server printed.
pp_conn_line() {
  grep '^conn ' "$1" | sed -n "${2:-1}p"
}

# pp_field LINE KEY: the value of KEY=... in a pp_server line (up to the next
# " key=" or end of line; accept= and peer= values contain spaces).
pp_field() {
  printf '%s\n' "$1" | sed -n "s/.* $2=\(.*\)/\1/p" |
    sed 's/ [a-z][a-z0-9]*=.*//'
}

# kv LINE KEY: the value of KEY=... in a space-separated result line.
kv() {
  printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n1
}

# kv_rest LINE KEY: the value of KEY=..., up to the next " word=" (values
# with spaces: hello=, claim=).
kv_rest() {
  printf '%s\n' "$1" | sed -n "s/.* $2=\(.*\)/\1/p" | sed 's/ [a-z_]*=.*//'
}

# ms_below DESC VALUE BOUND: ok when 0 <= VALUE < BOUND (integers).
ms_below() {
  if [ -n "$2" ] && [ "$2" -ge 0 ] 2>/dev/null && [ "$2" -lt "$3" ]; then
    pp_ok "$1 ($2 ms < $3 ms)"
  else
    pp_not_ok "$1 (got '${2}' ms, want < $3 ms)"
  fi
}

# ms_between DESC VALUE LOW HIGH: ok when LOW <= VALUE <= HIGH.
ms_between() {
  if [ -n "$2" ] && [ "$2" -ge "$3" ] 2>/dev/null && [ "$2" -le "$4" ]; then
    pp_ok "$1 ($2 ms, within $3..$4 ms)"
  else
    pp_not_ok "$1 (got '${2}' ms, want $3..$4 ms)"
  fi
}
