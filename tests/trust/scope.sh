#!/bin/bash
# LIBPROXYPROTO_PORTS: with two TCP listeners in one process, only the one
# on a listed port is served; the other is untouched even under must-use.
# An invalid list serves nothing and is reported once.
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/lib/trust.sh
. "$PP_LIB_DIR/trust.sh"

# two_listeners NAME PORTS-VALUE PAYLOAD [ENV...]: pp_server with two
# listeners on free ports FIRST and SECOND (the words in PORTS-VALUE are
# replaced by them), PAYLOAD sent to each in turn; the server exits after
# TR_COUNT (default 2) connections. Sets FIRST_OUT and
# SECOND_OUT to what the application saw on each (tr_outcome), "unseen"
# when it saw nothing.
two_listeners() {
  local name=$1 value=$2 payload=$3 spid sport port2 out line n try
  shift 3
  out="$PP_TMP/$name"
  for try in 1 2 3; do
    FIRST=$(pp_free_port)
    SECOND=$(pp_free_port)
    [ "$FIRST" != "$SECOND" ] && break
  done
  value=${value//FIRST/$FIRST}
  value=${value//SECOND/$SECOND}
  pp_start_server spid sport "$out" "${TR_CLEAN[@]}" "LIBPROXYPROTO_PORTS=$value" \
    "$@" -- --count "${TR_COUNT:-2}" --port "$FIRST" --extra-port "$SECOND"
  port2=$(sed -n 's/^port2 //p' "$out")
  pp_expect_eq "$name: listeners on the chosen ports" "$sport $port2" "$FIRST $SECOND"
  pp_run_client "$name-1" "$payload" nc -N 127.0.0.1 "$FIRST"
  # Wait until the first connection was served or dropped.
  for _ in $(seq 100); do
    grep -q '^conn ' "$out" && break
    grep -q 'dropped' "$out.err" 2>/dev/null && break
    sleep 0.05
  done
  pp_run_client "$name-2" "$payload" nc -N 127.0.0.1 "$SECOND"
  pp_wait_exit "$spid" 5 || true
  FIRST_OUT=unseen
  SECOND_OUT=unseen
  for n in 1 2; do
    line=$(pp_conn_line "$out" "$n")
    case $line in
      *" lport=$FIRST") FIRST_OUT=$(tr_outcome "$out" "$n") ;;
      *" lport=$SECOND") SECOND_OUT=$(tr_outcome "$out" "$n") ;;
    esac
  done
}

two_listeners control "" "$TR_HEADER"
pp_expect_eq "no ports: first listener served" "$FIRST_OUT" proxied
pp_expect_eq "no ports: second listener served" "$SECOND_OUT" proxied

two_listeners second SECOND "$TR_HEADER"
pp_expect_eq "ports=SECOND: first listener untouched" "$FIRST_OUT" passed
pp_expect_eq "ports=SECOND: second listener served" "$SECOND_OUT" proxied

two_listeners both "FIRST, SECOND" "$TR_HEADER"
pp_expect_eq "ports=FIRST,SECOND: first listener served" "$FIRST_OUT" proxied
pp_expect_eq "ports=FIRST,SECOND: second listener served" "$SECOND_OUT" proxied

two_listeners range "1-1023, FIRST-FIRST" "$TR_HEADER"
pp_expect_eq "ports=range with FIRST: first listener served" "$FIRST_OUT" proxied
pp_expect_eq "ports=range with FIRST: second listener untouched" "$SECOND_OUT" passed

# Under must-use, a listener outside ports is still untouched: a client
# without a header reaches the application there, and is dropped on the
# served one.
TR_COUNT=1 two_listeners mustuse FIRST "plain" \
  LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER=1 LIBPROXYPROTO_DEBUG=1
pp_expect_eq "must-use, ports=FIRST: plain client dropped on FIRST" \
  "$FIRST_OUT" unseen
case $(pp_conn_line "$PP_TMP/mustuse" 1) in
  *"data=706c61696e lport=$SECOND") pp_ok "must-use, ports=FIRST: plain client reaches the application on SECOND" ;;
  *) pp_not_ok "must-use, ports=FIRST: plain client reaches the application on SECOND"
     pp_dump "$PP_TMP/mustuse" ;;
esac

# An invalid list matches nothing, and is reported once.
two_listeners invalid "FIRST,0" "$TR_HEADER" LIBPROXYPROTO_DEBUG=1
pp_expect_eq "ports=\"FIRST,0\": first listener untouched" "$FIRST_OUT" passed
pp_expect_eq "ports=\"FIRST,0\": second listener untouched" "$SECOND_OUT" passed
pp_expect_eq "ports=\"FIRST,0\": reported exactly once" \
  "$(grep -c 'LIBPROXYPROTO_PORTS=.* is not a list of ports' "$PP_TMP/invalid.err")" 1

pp_finish
