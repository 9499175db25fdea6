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

name=i386-direct
run_start pid port "$name" env LIBPROXYPROTO_GETSOCKNAME=1 "$PP_RUN" "$I386" direct
run_check_claims "$name" "$port"
pp_expect_eq "direct getsockname (LIBPROXYPROTO_GETSOCKNAME): the header's destination" \
  "$(run_field "$PP_TMP/$name-v1.reply" local)" 127.0.0.1:80
pp_expect_eq "direct accept4(..., 0): a blocking descriptor, kept across exec" \
  "$(run_field "$PP_TMP/$name-v1.reply" nb),$(run_field "$PP_TMP/$name-v1.reply" ce)" 0,0
if [ "$PP_FAIL" -ne 0 ]; then pp_dump "$PP_TMP/$name.out" "$PP_TMP/$name.out.err"; fi
pp_stop "$pid"

pp_finish
