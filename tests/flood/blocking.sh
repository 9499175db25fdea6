#!/bin/bash
# A server blocked in accept() (its connections served by another thread)
# under floods of 200, 1,500 and 5,000 silent connections, opened before
# and after 40 legitimate clients whose headers come 300 ms late: as
# epoll.sh, for the accept() that waits on the listener and the parked
# connections' readiness together.
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
pp_finish
