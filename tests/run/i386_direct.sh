#!/bin/bash
# An i386 program that makes the socket calls directly (Linux 4.3 and
# later: accept4 364, getsockname 367, getpeername 368), not through
# socketcall(2) as glibc and musl do there: run_server.c's mode "direct",
# built statically with i686-linux-gnu-gcc, under the launcher. As with
# socketcall (socketcall.sh): accept() and getpeername() give the v1 and v2
# headers' clients, the program reads the data, not the header, and under
# LIBPROXYPROTO_GETSOCKNAME getsockname() gives the header's destination.
#
# Before the launcher asked libseccomp for the direct numbers (filter.cc,
# learn_numbers), it trapped these calls but took them for others and let
# the kernel run them unsupervised: the program saw the proxy's address and
# the header as data.
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/run/run_lib.sh
. "$(dirname "$0")/run_lib.sh"
require_openbsd_nc
run_i386_server I386

V1='PROXY TCP4 203.0.113.7 127.0.0.1 4321 80\r\n'
# v2, PROXY, TCP over IPv4, 198.51.100.9:5555 -> 127.0.0.1:80
V2='\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c\xc6\x33\x64\x09\x7f\x00\x00\x01\x15\xb3\x00\x50'

name=i386-direct
run_start pid port "$name" env LIBPROXYPROTO_GETSOCKNAME=1 "$PP_RUN" "$I386" direct
run_client "$name-v1" "$port" "${V1}hello v1\n"
pp_expect_eq "direct accept4: the v1 header's client" \
  "$(run_field "$PP_TMP/$name-v1.reply" accept)" 203.0.113.7:4321
pp_expect_eq "direct getpeername: the v1 header's client" \
  "$(run_field "$PP_TMP/$name-v1.reply" peer)" 203.0.113.7:4321
pp_expect_eq "direct getsockname (LIBPROXYPROTO_GETSOCKNAME): the header's destination" \
  "$(run_field "$PP_TMP/$name-v1.reply" local)" 127.0.0.1:80
pp_expect_eq "direct accept4: the program reads the data, not the header" \
  "$(run_field "$PP_TMP/$name-v1.reply" data)" hello
run_client "$name-v2" "$port" "${V2}hello v2\n"
pp_expect_eq "direct accept4 and getpeername: the v2 header's client" \
  "$(run_field "$PP_TMP/$name-v2.reply" accept) $(run_field "$PP_TMP/$name-v2.reply" peer)" \
  "198.51.100.9:5555 198.51.100.9:5555"
pp_expect_eq "direct accept4: after a v2 header, the data" \
  "$(run_field "$PP_TMP/$name-v2.reply" data)" hello
run_client "$name-plain" "$port" "plain data\n"
pp_expect_match "direct accept4: no header: the real peer, the data intact" \
  "$(run_field "$PP_TMP/$name-plain.reply" peer) $(run_field "$PP_TMP/$name-plain.reply" data)" \
  '^127\.0\.0\.1:[0-9]+ plain$'
pp_expect_eq "direct accept4(..., 0): a blocking descriptor, kept across exec" \
  "$(run_field "$PP_TMP/$name-v1.reply" nb),$(run_field "$PP_TMP/$name-v1.reply" ce)" 0,0
if [ "$PP_FAIL" -ne 0 ]; then pp_dump "$PP_TMP/$name.out" "$PP_TMP/$name.out.err"; fi
pp_stop "$pid"

pp_finish
