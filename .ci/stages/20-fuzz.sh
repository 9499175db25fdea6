#!/bin/bash
# libFuzzer on the core for FUZZ_SECONDS (default 90), seeded with the corpus
# and tests/fuzz/regressions, in a build of its own configured with
# --enable-fuzzing. Prints the number of executions; any crash or broken
# invariant fails the stage and leaves the input under tests/fuzz/artifacts/
# of that build (printed). Budget: 3 minutes with the build.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
seconds=${FUZZ_SECONDS:-90}

tarball=$(ls -t libproxyproto-*.tar.xz 2>/dev/null | head -n1 || true)
if [ -z "$tarball" ]; then
  make dist >/dev/null
  tarball=$(ls -t libproxyproto-*.tar.xz | head -n1)
fi
work=$(mktemp -d /tmp/pp-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xJf "$tarball"
cd "$work"/libproxyproto-*/
./configure --enable-fuzzing >configure.log 2>&1 || { cat configure.log; exit 1; }
status=0
make fuzz-run FUZZ_SECONDS="$seconds" >fuzz.log 2>&1 || status=1
grep -E '^(stat::|INFO: Seed|#[0-9]+ *DONE)' fuzz.log || true
if [ $status -ne 0 ]; then
  tail -n 60 fuzz.log
  for a in tests/fuzz/artifacts/*; do
    [ -e "$a" ] && { echo "==== $a"; od -An -tx1 "$a" | head -n 20; }
  done
fi
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' fuzz.log | tail -n1)
echo "fuzz stage: ${execs:-0} executions in ${seconds} s; $(( $(date +%s) - start )) s in all"
exit $status
