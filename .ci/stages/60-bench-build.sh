#!/bin/bash
# Build the benchmark's programs and run one short round of every part of
# `make bench` (BENCH_QUICK=1), so that the benchmark cannot rot. The timed
# figures of such a short round mean nothing and are printed as [info]; the
# benchmark's table comes from a full `make bench` (doc/benchmark.md). The
# counted figures are deterministic and enforced (--enforce): extra system
# calls per proxied connection, extra instructions per connection, the
# instructions and system calls a preloaded process pays without accepting
# (start-up of /bin/true, an open()+close() loop), and under proxyproto-run
# the program's and the supervisor's system calls per connection and per
# getpeername(). Budget: about a minute on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."

make -j2 bench-programs
make bench BENCH_QUICK=1 BENCH_ARGS=--enforce
