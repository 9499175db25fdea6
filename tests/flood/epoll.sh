#!/bin/bash
# An epoll server (non-blocking accept4) under floods of 200, 1,500 and
# 5,000 silent connections, opened before and after 40 legitimate clients
# whose v1 or v2 headers come 300 ms after they connect. No legitimate
# header ever reaches the application (each client gets exactly its claim
# and its own payload back), and every silent connection is passed through
# (optional) or dropped (must-use) at its own deadline, never earlier.
# With a fixed table of parked connections settling the oldest early, the
# legitimate clients saw their PROXY lines echoed from 130 silent ones on.
# shellcheck source=tests/flood/common.sh
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
flood_need_descriptors 5200

flood_start epoll 0
for n in 200 1500 5000; do
  flood_run "optional, v1, $n silent before" --silent "$n" --order before --version 1
  flood_run "optional, v2, $n silent after" --silent "$n" --order after --version 2
done
flood_stop
for n in 200 5000; do
  flood_must_use_run epoll 0 "must-use, v2, $n silent before" --silent "$n" --order before --version 2
  flood_must_use_run epoll 0 "must-use, v1, $n silent after" --silent "$n" --order after --version 1
done
pp_finish
