#!/bin/bash
# 2,000 legitimate connections opened within a second, each sending its
# header 500 ms after connecting (every one of them parked, 1,000 or so at
# once): all are served with their claims and only their payloads, within
# a bound, in the epoll, blocking and pre-forked shapes, v1 and v2.
# shellcheck source=tests/flood/common.sh
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
flood_need_descriptors 2200

for shape in "epoll 0" "blocking 0" "epoll 4"; do
  set -- $shape
  flood_start "$1" "$2"
  flood_run "$1, $2 workers: 2000 clients, v1 headers 500 ms late" --legit 2000 \
    --spread-ms 1000 --header-delay-ms 500 --version 1
  flood_run "$1, $2 workers: 2000 clients, v2 headers 500 ms late" --legit 2000 \
    --spread-ms 1000 --header-delay-ms 500 --version 2
  flood_stop
done
pp_finish
