#!/bin/bash
# Pre-forked workers sharing one listener, under floods of 200, 1,500 and
# 5,000 silent connections before and after 40 legitimate clients whose
# headers come 300 ms late: four workers blocked in accept(), then four
# epoll workers. Each parked connection belongs to the worker that parked
# it, and none is settled before its own deadline.
# shellcheck source=tests/flood/common.sh
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
flood_need_descriptors 5200

flood_start blocking 4
for n in 200 1500 5000; do
  flood_run "blocking workers, optional, v1, $n silent before" --silent "$n" \
    --order before --version 1
done
flood_run "blocking workers, optional, v2, 5000 silent after" --silent 5000 \
  --order after --version 2
flood_stop
flood_must_use_run blocking 4 "blocking workers, must-use, v2, 1500 silent after" \
  --silent 1500 --order after --version 2
flood_start epoll 4
flood_run "epoll workers, optional, v2, 1500 silent before" --silent 1500 \
  --order before --version 2
flood_stop
flood_must_use_run epoll 4 "epoll workers, must-use, v1, 5000 silent after" \
  --silent 5000 --order after --version 1
flood_must_use_run epoll 4 "epoll workers, must-use, v2, 200 silent before" \
  --silent 200 --order before --version 2
pp_finish
