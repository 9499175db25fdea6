#!/bin/bash
# Every receive call of a UDP server under the library: see receive_calls.py.
set -eu
. "${PP_SRCDIR:?run through make check}/tests/lib/common.sh"
require_env LIBPROXYPROTO_SO PP_UDP_SERVER
require_tool python3
exec timeout $((180 * ${PP_TIME_SCALE:-1})) python3 "$PP_SRCDIR/tests/udp/receive_calls.py"
