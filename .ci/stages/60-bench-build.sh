#!/bin/bash
# Build the benchmark's programs and run one short round of every part of
# `make bench` (BENCH_QUICK=1), so that the benchmark cannot rot. The
# figures of such a short round mean nothing; the README's table comes from
# a full `make bench`. The one exception is the deterministic target,
# enforced: at most 2 extra system calls per proxied connection whose header
# arrived with it (--enforce). Budget: under a minute on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."

make -j2 bench-programs
make bench BENCH_QUICK=1 BENCH_ARGS=--enforce
