#!/bin/bash
# Sanitizer builds: fails if any process started by the tests wrote an ASan
# or UBSan report (reports go to files, since a server's stderr is often
# thrown away). Run after the tests: sanitizer_reports.sh DIR
set -u
dir=${1:-${PP_SANITIZER_REPORTS:?}}
shopt -s nullglob
reports=("$dir"/asan* "$dir"/ubsan*)
if ((${#reports[@]} == 0)); then
  echo "no sanitizer report in $dir"
  exit 0
fi
for r in "${reports[@]}"; do
  echo "==== $r"
  cat "$r"
done
exit 1
