#!/bin/bash
# A server blocked in accept() (its connections served by another thread)
# under floods of 200, 1,500 and 5,000 silent connections, opened before
# and after 40 legitimate clients whose headers come 300 ms late: as
# epoll.sh, for the accept() that waits on the listener and the parked
# connections' readiness together; then four threads blocked in accept() on
# the one listener, which claim the same parked connections' reports.
# shellcheck source=tests/flood/common.sh
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
flood_need_descriptors 5200

flood_start blocking 0
for n in 200 1500 5000; do
  flood_run "optional, v2, $n silent before" --silent "$n" --order before --version 2
  flood_run "optional, v1, $n silent after" --silent "$n" --order after --version 1
done
flood_stop
for n in 1500 5000; do
  flood_must_use_run blocking 0 "must-use, v1, $n silent before" --silent "$n" --order before --version 1
  flood_must_use_run blocking 0 "must-use, v2, $n silent after" --silent "$n" --order after --version 2
done
flood_start blocking/4 0
flood_run "4 threads, optional, v2, 5000 silent after" --silent 5000 --order after \
  --version 2
flood_run "4 threads, optional, v1, 1500 silent before" --silent 1500 --order before \
  --version 1
flood_stop
flood_must_use_run blocking/4 0 "4 threads, must-use, v1, 1500 silent after" \
  --silent 1500 --order after --version 1
pp_finish
