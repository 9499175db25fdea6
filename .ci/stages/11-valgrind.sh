#!/bin/bash
# The integration server (pp_server under libproxyproto.so) run by valgrind
# over real connections: v1, v2, a 60000-byte TLV in pieces, hostile bytes
# (tests/fuzz/valgrind.sh). Uses the tree CI has just built. Budget: 2 min.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
make -j2 check-valgrind
echo "valgrind stage: $(( $(date +%s) - start )) s"
