#!/bin/bash
# Build outputs stay out of the repository: every program the Makefile can
# build (PP_PROGRAMS, from the harness) is ignored by git, and no tracked
# file is an ELF object. A test program committed by mistake would ship in a
# clean clone, for one architecture only. Outside a git checkout (a release
# tarball, distcheck) there is nothing to check.
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"

require_env PP_SRCDIR PP_PROGRAMS
if ! command -v git >/dev/null ||
   ! git -C "$PP_SRCDIR" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "# not a git checkout: nothing to check"
  exit 77
fi
require_tool file

for program in $PP_PROGRAMS; do
  if git -C "$PP_SRCDIR" check-ignore -q --no-index "$program"; then
    pp_ok "$program is ignored by git"
  else
    pp_not_ok "$program is ignored by git (add it to .gitignore)"
  fi
done

elf=$(cd "$PP_SRCDIR" && git ls-files -z | xargs -0 -r file -N | grep -E ': *ELF ' | cut -d: -f1 || true)
pp_expect_eq "no tracked file is an ELF object" "$elf" ""
pp_finish
