#!/bin/bash
# LIBPROXYPROTO_ALLOW: a header is honoured only from a peer in the list;
# from any other peer the connection passes through untouched (the header
# bytes reach the application), or is dropped under must-use. Invalid lists
# trust nobody and are reported once.
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/lib/trust.sh
. "$PP_LIB_DIR/trust.sh"

# IPv4: the client binds 127.0.0.1 or 127.0.0.2 (both loopback on Linux).
tr_case "no allow: every peer trusted" proxied 127.0.0.1
tr_case "allow=127.0.0.1, peer 127.0.0.1" proxied 127.0.0.1 \
  LIBPROXYPROTO_ALLOW=127.0.0.1
tr_case "allow=127.0.0.1, peer 127.0.0.2" passed 127.0.0.2 \
  LIBPROXYPROTO_ALLOW=127.0.0.1
tr_case "allow=10.0.0.0/8, peer 127.0.0.1" passed 127.0.0.1 \
  LIBPROXYPROTO_ALLOW=10.0.0.0/8
tr_case "allow=10.0.0.0/8,127.0.0.0/8, peer 127.0.0.2" proxied 127.0.0.2 \
  "LIBPROXYPROTO_ALLOW=10.0.0.0/8, 127.0.0.0/8"
tr_case "allow=127.0.0.2/31, peer 127.0.0.3" proxied 127.0.0.3 \
  LIBPROXYPROTO_ALLOW=127.0.0.2/31
tr_case "allow=127.0.0.2/31, peer 127.0.0.1" passed 127.0.0.1 \
  LIBPROXYPROTO_ALLOW=127.0.0.2/31
tr_case "allow=0.0.0.0/0, peer 127.0.0.2" proxied 127.0.0.2 \
  LIBPROXYPROTO_ALLOW=0.0.0.0/0
tr_case "allow=unix only, TCP peer 127.0.0.1" passed 127.0.0.1 \
  LIBPROXYPROTO_ALLOW=unix

# Must-use: an untrusted peer is dropped, a trusted one still served.
tr_case "must-use, allow=127.0.0.2, peer 127.0.0.1" dropped 127.0.0.1 \
  LIBPROXYPROTO_ALLOW=127.0.0.2 LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER=1 \
  LIBPROXYPROTO_DEBUG=1
tr_case "must-use, allow=127.0.0.2, peer 127.0.0.2" proxied 127.0.0.2 \
  LIBPROXYPROTO_ALLOW=127.0.0.2 LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER=1

# IPv6 ::1.
if pp_require_ipv6; then
  tr_case "IPv6: allow=::1" proxied ::1 LIBPROXYPROTO_ALLOW=::1 -- --family 6
  tr_case "IPv6: allow=::1/128, 127.0.0.1" proxied ::1 \
    "LIBPROXYPROTO_ALLOW=127.0.0.1, ::1/128" -- --family 6
  tr_case "IPv6: allow=2001:db8::/32" passed ::1 \
    LIBPROXYPROTO_ALLOW=2001:db8::/32 -- --family 6
  tr_case "IPv6: allow=127.0.0.1 (IPv4 only)" passed ::1 \
    LIBPROXYPROTO_ALLOW=127.0.0.1 -- --family 6
  # An IPv4 client of an AF_INET6 listener is ::ffff:127.0.0.1: it matches
  # IPv4 prefixes.
  tr_case "mapped peer ::ffff:127.0.0.1, allow=127.0.0.0/8" proxied 127.0.0.1 \
    LIBPROXYPROTO_ALLOW=127.0.0.0/8 -- --family mapped
  tr_case "mapped peer ::ffff:127.0.0.1, allow=127.0.0.2" passed 127.0.0.1 \
    LIBPROXYPROTO_ALLOW=127.0.0.2 -- --family mapped
  tr_case "mapped peer ::ffff:127.0.0.1, allow=::1" passed 127.0.0.1 \
    LIBPROXYPROTO_ALLOW=::1 -- --family mapped
fi

# AF_UNIX stream listeners: handled only when allow holds the word unix and
# no ports are set; otherwise out of scope, under must-use too.
unix_case() {
  local desc=$1 want=$2 spid sport got out sock
  shift 2
  TR_N=$((TR_N + 1))
  out="$PP_TMP/case$TR_N"
  sock="$PP_TMP/case$TR_N.sock"
  pp_start_server spid sport "$out" "${TR_CLEAN[@]}" "$@" -- --count 1 --unix "$sock"
  pp_run_client "case$TR_N" "$TR_HEADER" nc -N -U "$sock"
  pp_wait_exit "$spid" || true
  got=$(tr_outcome "$out")
  # A header over AF_UNIX reports its TCP source like any other.
  pp_expect_eq "$desc" "$got" "$want"
  [ "$got" = "$want" ] || pp_dump "$out" "$out.err"
}
unix_case "AF_UNIX, no allow" passed LIBPROXYPROTO_DEBUG=1
unix_case "AF_UNIX, no allow, must-use" passed LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER=1
unix_case "AF_UNIX, allow=unix" proxied LIBPROXYPROTO_ALLOW=unix
unix_case "AF_UNIX, allow=127.0.0.1" passed LIBPROXYPROTO_ALLOW=127.0.0.1
unix_case "AF_UNIX, allow=127.0.0.1,unix" proxied "LIBPROXYPROTO_ALLOW=127.0.0.1,unix"
unix_case "AF_UNIX, allow=unix, ports set" passed LIBPROXYPROTO_ALLOW=unix LIBPROXYPROTO_PORTS=80

# An invalid list trusts nobody, and says so once (on stderr under debug),
# however many connections follow.
for bad in 10.0.0.0/33 127.0.0.1/8 "127.0.0.1,," localhost; do
  TR_N=$((TR_N + 1))
  out="$PP_TMP/case$TR_N"
  pp_start_server spid sport "$out" "${TR_CLEAN[@]}" "LIBPROXYPROTO_ALLOW=$bad" \
    LIBPROXYPROTO_DEBUG=1 -- --count 2
  tr_send "case$TR_N-a" "$sport"
  tr_send "case$TR_N-b" "$sport"
  pp_wait_exit "$spid" || true
  pp_expect_eq "allow=\"$bad\": first connection passes through" \
    "$(tr_outcome "$out" 1)" passed
  pp_expect_eq "allow=\"$bad\": second connection passes through" \
    "$(tr_outcome "$out" 2)" passed
  pp_expect_eq "allow=\"$bad\": reported exactly once" \
    "$(grep -c 'LIBPROXYPROTO_ALLOW=.* is not a list of addresses' "$out.err")" 1
done

pp_finish
