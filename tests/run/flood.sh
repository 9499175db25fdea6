#!/bin/bash
# The flood tests' guarantees under proxyproto-run: floods of 1,500 silent
# connections opened before and after 40 legitimate clients whose v1 or v2
# headers come 300 ms late, against flood_server (the program knows
# nothing of the protocol) in each accept shape the supervisor handles
# differently: epoll with non-blocking accept4 (EAGAIN at once, wake-up
# connections), four threads blocked in accept() (calls held in the
# supervisor) and four pre-forked epoll workers sharing the listener. Each
# legitimate client gets its claim and only its payload; each silent one is
# passed through (optional) or dropped (must-use) at its own deadline,
# never earlier, at most the bound later (tests/flood/common.sh judges).
set -eu
# shellcheck source=tests/flood/common.sh
. "$(cd "$(dirname "$0")/../flood" && pwd)/common.sh"
require_env PP_RUN
[ -x "$PP_RUN" ] || pp_fatal "$PP_RUN not built"
FLOOD_LAUNCHER=$PP_RUN
flood_need_descriptors 1700

for shape in "epoll 0" "blocking/4 0" "epoll 4"; do
  # shellcheck disable=SC2086
  flood_start $shape
  flood_run "$shape: optional, v1, 1500 silent before" --silent 1500 --order before --version 1
  flood_run "$shape: optional, v2, 1500 silent after" --silent 1500 --order after --version 2
  flood_stop
done
flood_must_use_run epoll 0 "epoll: must-use, v2, 1500 silent before" \
  --silent 1500 --order before --version 2
pp_finish
