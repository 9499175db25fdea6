#!/bin/bash
# 8 threads blocked in accept() on one listener, thousands of proxied
# connections (see flood_body.sh).
set -eu
N=${PP_THREADS_CONNECTIONS:-4000}
SERVER_ARGS=(--mode threads --threads 8)
# shellcheck source=tests/servers/flood_body.sh
. "$(cd "$(dirname "$0")" && pwd)/flood_body.sh"
