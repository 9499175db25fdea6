#!/bin/bash
# The fuzz target's invariants over the corpus and the saved regressions.
set -eu
: "${PP_BUILDDIR:?} ${PP_SRCDIR:?}"
exec "$PP_BUILDDIR/tests/fuzz/fuzz_replay" "$PP_SRCDIR/tests/corpus/valid" \
  "$PP_SRCDIR/tests/corpus/invalid" "$PP_SRCDIR/tests/fuzz/regressions"
