#!/bin/bash
# dnsdist, dnsmasq, dig and pdns-recursor around PROXY v2 over UDP: see dns.py.
set -eu
. "${PP_SRCDIR:?run through make check}/tests/lib/common.sh"
require_env LIBPROXYPROTO_SO LIBPROXYPROTO_CONNECT_SO
require_tool python3 dnsdist dnsmasq dig pdns_recursor
exec timeout $((180 * ${PP_TIME_SCALE:-1})) python3 "$PP_SRCDIR/tests/udp/dns.py"
