#!/bin/bash
# libFuzzer on the core for FUZZ_SECONDS (default 90), seeded with the corpus
# and tests/fuzz/regressions, in a build of its own configured with
# --enable-fuzzing. Prints the number of executions; any crash or broken
# invariant fails the stage and leaves the input under tests/fuzz/artifacts/
# of that build (printed). Budget: 3 minutes with the build.
# The fuzzer's time goes to new inputs, not to re-checking old ones: the
# stage also fails when it ran fewer than FUZZ_MIN_EXECS executions (at
# least 1.2 million in 90 s; about 2.4 million is usual on one core of CI's
# machine, and a full prefix walk of every input fell to 650,000), scaled
# to FUZZ_SECONDS.
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
edges=$(grep -o 'cov: [0-9]* ft: [0-9]*' fuzz.log | tail -n1 || true)
echo "fuzz stage: ${execs:-0} executions in ${seconds} s ($(( ${execs:-0} / seconds ))/s), ${edges:-no coverage line}; $(( $(date +%s) - start )) s in all"
min_execs=${FUZZ_MIN_EXECS:-$(( 1200000 * seconds / 90 ))}
if [ "${execs:-0}" -lt "$min_execs" ]; then
  echo "fuzz stage: fewer than $min_execs executions: the fuzzer's time goes elsewhere than to new inputs"
  status=1
fi
exit $status
