#!/bin/bash
# Descriptors passed between processes (SCM_RIGHTS), both under the library:
# the receiving process must report the client address the sending process
# learnt from the header, whether it was forked before the accept or is an
# unrelated program on a named socket, for several descriptors in one
# message, with recvmmsg() and MSG_CMSG_CLOEXEC, and back to the sender. A
# descriptor without a record, given a number that held a proxied one, has
# its real peer. Records pass from root to any user, never between two
# other users.
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"

require_env LIBPROXYPROTO_SO PP_PASSING
require_openbsd_nc
PASSER=$PP_PASSING/fd_passer
[ -x "$PASSER" ] || pp_fatal "$PASSER not built"
# Channels live where the other users of the cross-user cases may bind.
chmod 755 "$PP_TMP"
mkdir -m 1777 "$PP_TMP/channels"

# clients PORT N: N clients, each claiming 203.0.113.I:4321 and sending
# "helloI"; they wait for the server to close.
clients() {
  local i
  for ((i = 1; i <= $2; i++)); do
    printf 'PROXY TCP4 203.0.113.%d 127.0.0.1 4321 80\r\nhello%d' "$i" "$i" |
      timeout 10 nc -N 127.0.0.1 "$1" >/dev/null 2>&1 &
  done
  wait
}

# expect_conns LABEL OUTFILE N CLOEXEC [batched]: N lines "conn inet
# 203.0.113.I 4321", each with its own data, then the plain descriptor with
# its real peer, on a number a proxied connection had before (unless
# batched: recvmmsg() may take it while those are still open).
expect_conns() {
  local label=$1 out=$2 n=$3 cloexec=$4 batched=${5:-} i got
  for ((i = 1; i <= n; i++)); do
    got=$(grep -c "^conn inet 203\.0\.113\.$i 4321 cloexec=$cloexec data=hello$i " "$out" || true)
    pp_expect_eq "$label: connection $i reported with its claimed address" "$got" 1
  done
  got=$(grep '^plain ' "$out" | cut -d' ' -f2- || true)
  pp_expect_match "$label: a descriptor without a record reports its real peer" \
    "$got" '^family 1 fd=[0-9]+$'
  [ -z "$batched" ] || return 0
  # The plain descriptor took a number a proxied connection had before.
  local fd=${got##*fd=}
  pp_expect_match "$label: its number was a proxied connection's before" \
    "$(grep -c "^conn .* fd=$fd\$" "$out" || true)" '^[1-9]'
}

# run_pair LABEL N BATCH RECEIVER-ARGS [--as-receiver USER] [--as-sender USER]
run_pair() {
  local label=$1 n=$2 batch=$3 rargs=$4 ruser=${5:-} suser=${6:-} chan rpid spid port
  chan=$PP_TMP/channels/$RANDOM.sock
  local rcmd=("$PASSER" receive "$chan" "$n") scmd=("$PASSER" send "$chan" "$n" "$batch")
  # shellcheck disable=SC2206
  rcmd+=($rargs)
  [[ $rargs == *back* ]] && scmd+=(back)
  [ -z "$ruser" ] || rcmd=(setpriv --reuid="$ruser" --regid="$ruser" --clear-groups "${rcmd[@]}")
  [ -z "$suser" ] || scmd=(setpriv --reuid="$suser" --regid="$suser" --clear-groups "${scmd[@]}")
  pp_bg_preloaded rpid "$LIBPROXYPROTO_SO" 30 "$PP_TMP/r.out" LIBPROXYPROTO_TIMEOUT=2000 -- "${rcmd[@]}"
  pp_wait_for_line "$PP_TMP/r.out" '^unix ' 10 "$rpid" || pp_fatal "receiver did not start: $(cat "$PP_TMP/r.out.err")"
  pp_bg_preloaded spid "$LIBPROXYPROTO_SO" 30 "$PP_TMP/s.out" LIBPROXYPROTO_TIMEOUT=2000 -- "${scmd[@]}"
  pp_wait_for_line "$PP_TMP/s.out" '^port ' 10 "$spid" || pp_fatal "sender did not start: $(cat "$PP_TMP/s.out.err")"
  port=$(sed -n 's/^port //p' "$PP_TMP/s.out")
  clients "$port" "$n"
  pp_wait_exit "$rpid" 15 || pp_not_ok "$label: the receiver finished"
  pp_wait_exit "$spid" 15 || pp_not_ok "$label: the sender finished"
  echo "# $label: receiver:"; sed 's/^/#   /' "$PP_TMP/r.out"
  [ ! -s "$PP_TMP/r.out.err" ] || sed "s/^/#   receiver: /" "$PP_TMP/r.out.err"
  [ ! -s "$PP_TMP/s.out.err" ] || sed 's/^/#   sender: /' "$PP_TMP/s.out.err"
}

run_pair "named socket, one per message" 3 1 ""
expect_conns "named socket, one per message" "$PP_TMP/r.out" 3 0

run_pair "named socket, three in one message" 3 3 ""
expect_conns "named socket, three in one message" "$PP_TMP/r.out" 3 0

run_pair "recvmmsg, MSG_CMSG_CLOEXEC" 4 2 "mmsg cloexec"
expect_conns "recvmmsg, MSG_CMSG_CLOEXEC" "$PP_TMP/r.out" 4 1 batched

run_pair "passed back to the sender" 2 1 "back"
expect_conns "passed back to the sender" "$PP_TMP/r.out" 2 0
for i in 1 2; do
  pp_expect_eq "passed back: connection $i reported by the sender with its claim" \
    "$(grep -c "^back inet 203\.0\.113\.$i 4321\$" "$PP_TMP/s.out" || true)" 1
done

# Forked before the accept, over a socketpair.
pp_bg_preloaded fpid "$LIBPROXYPROTO_SO" 30 "$PP_TMP/f.out" LIBPROXYPROTO_TIMEOUT=2000 -- \
  "$PASSER" fork 3 2
pp_wait_for_line "$PP_TMP/f.out" '^port ' 10 "$fpid" || pp_fatal "fork mode did not start"
clients "$(sed -n 's/^port //p' "$PP_TMP/f.out")" 3
pp_wait_exit "$fpid" 15 || pp_not_ok "forked receiver: finished"
expect_conns "forked before the accept" "$PP_TMP/f.out" 3 0

# Users: from root to another user the record passes; between two other
# users it does not (the receiver reports the proxy, its real peer).
if [ "$(id -u)" -eq 0 ]; then
  require_tool setpriv
  run_pair "root to nobody" 2 1 "" 65534
  expect_conns "root to nobody" "$PP_TMP/r.out" 2 0
  run_pair "nobody to uid 65533" 2 1 "" 65533 65534
  for i in 1 2; do
    pp_expect_eq "nobody to uid 65533: connection $i reports the real peer, not the claim" \
      "$(grep -c "^conn inet 127\.0\.0\.1 [0-9]* cloexec=0 data=hello$i " "$PP_TMP/r.out" || true)" 1
  done
elif [ "${CI:-}" = true ]; then
  pp_fatal "the cross-user cases need root (CI=true: not skipping)"
fi
pp_finish
