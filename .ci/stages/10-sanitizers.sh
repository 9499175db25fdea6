#!/bin/bash
# The unit, preload and integration tests with AddressSanitizer and
# UndefinedBehaviorSanitizer: a build from the release tarball, in its own
# directory, configured with --enable-sanitizers. Any sanitizer report (they
# go to files, see tests/fuzz/local.mk) fails the stage. Budget: 7 minutes.
#
# PP_SANITIZER_SKIP names tests left out (space separated), by default:
#   tests/abi/needed.sh    ASan builds need libasan at run time by design.
#   tests/abi/sections.sh  ASan gives every global a redzone, and the
#                          instrumented globals land in .data: the cap on
#                          .data holds for the real build only.
#   tests/abi/cancel.sh    ASan's runtime aborts on a CHECK of its own
#                          (asan_thread.cpp, "kCurrentStackFrameMagic") when
#                          a cancelled thread unwinds through instrumented
#                          frames; the test runs in every plain make check.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
skip=${PP_SANITIZER_SKIP:-tests/abi/needed.sh tests/abi/sections.sh tests/abi/cancel.sh}

tarball=$(ls -t libproxyproto-*.tar.xz 2>/dev/null | head -n1 || true)
if [ -z "$tarball" ]; then
  make dist >/dev/null
  tarball=$(ls -t libproxyproto-*.tar.xz | head -n1)
fi
work=$(mktemp -d /tmp/pp-sanitizers.XXXXXX)
trap 'rm -rf "$work"' EXIT
# Tests run set-group-ID copies of programs as nobody (tests/exec/secure.sh):
# the build tree must be readable to them, as a checkout is.
chmod 755 "$work"
tar -C "$work" -xJf "$tarball"
cd "$work"/libproxyproto-*/
./configure --enable-sanitizers --enable-werror >configure.log 2>&1 ||
  { cat configure.log; exit 1; }
make -j2 >build.log 2>&1 || { tail -n 50 build.log; exit 1; }

tests=()
for t in $(make -s pp-print-tests); do
  case " $skip " in *" $t "*) echo "skipped: $t" ;; *) tests+=("$t") ;; esac
done
status=0
make -j2 check TESTS="${tests[*]}" || status=1
if [ $status -ne 0 ]; then
  cat test-suite.log || true
fi
bash tests/fuzz/sanitizer_reports.sh "$PWD/sanitizer-reports" || status=1
echo "sanitizers stage: $(( $(date +%s) - start )) s, ${#tests[@]} tests"
exit $status
