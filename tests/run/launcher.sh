#!/bin/bash
# proxyproto-run as a launcher, before any connection: the program's exit
# status (128+N for signal N), standard input, output and error passed
# through, signals forwarded, the program killed with a dying launcher,
# a clear failure (126) where the filter cannot be installed, and
# io_uring_setup failing with ENOSYS unless LIBPROXYPROTO_IO_URING allows it.
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/run/run_lib.sh
. "$(dirname "$0")/run_lib.sh"
require_tool python3

status_of() { local rc=0; "$@" >/dev/null 2>&1 || rc=$?; echo "$rc"; }

pp_expect_eq "exit status 0 passed on" "$(status_of "$PP_RUN" true)" 0
pp_expect_eq "exit status 7 passed on" "$(status_of "$PP_RUN" sh -c 'exit 7')" 7
pp_expect_eq "'--' ends the launcher's options" "$(status_of "$PP_RUN" -- sh -c 'exit 3')" 3
pp_expect_eq "a program killed by SIGTERM: 143" \
  "$(status_of "$PP_RUN" sh -c 'kill -TERM $$')" 143
pp_expect_eq "a program killed by SIGKILL: 137" \
  "$(status_of "$PP_RUN" sh -c 'kill -KILL $$')" 137
pp_expect_eq "a command that does not exist: 127" "$(status_of "$PP_RUN" /nonexistent/cmd)" 127
pp_expect_eq "no command: usage, 125" "$(status_of "$PP_RUN")" 125

pp_expect_eq "standard input reaches the program" "$(printf 'in put\n' | "$PP_RUN" cat)" "in put"
out=$("$PP_RUN" sh -c 'echo to-out; echo to-err >&2' 2>"$PP_TMP/err")
pp_expect_eq "standard output passed through" "$out" to-out
pp_expect_eq "standard error passed through" "$(cat "$PP_TMP/err")" to-err

# Signals sent to the launcher reach the program, which decides.
for sig in TERM HUP INT; do
  pp_bg lpid run_exec_to "$PP_TMP/sig$sig.out" "$PP_RUN" python3 -c "
import signal, sys, time
signal.signal(signal.SIG$sig, lambda *a: (print('got $sig', flush=True), sys.exit(42)))
print('ready', flush=True)
time.sleep(30)"
  pp_wait_for_line "$PP_TMP/sig$sig.out" '^ready' 10 "$lpid" || pp_fatal "python3 did not start"
  kill -"$sig" "$lpid"
  rc=0; wait "$lpid" || rc=$?; pp_forget "$lpid"
  pp_expect_eq "SIG$sig forwarded: the program's handler ran" "$(tail -n1 "$PP_TMP/sig$sig.out")" "got $sig"
  pp_expect_eq "SIG$sig forwarded: the launcher exits with the program's status" "$rc" 42
done

# A dying launcher takes the program with it (PR_SET_PDEATHSIG).
pp_bg lpid run_exec_to "$PP_TMP/orphan.out" "$PP_RUN" sh -c 'echo "pid $$"; exec sleep 60'
pp_wait_for_line "$PP_TMP/orphan.out" '^pid [0-9]+' 10 "$lpid" || pp_fatal "sh did not start"
child=$(sed -n 's/^pid //p' "$PP_TMP/orphan.out")
kill -KILL "$lpid"
wait "$lpid" 2>/dev/null || true
pp_forget "$lpid"
gone=no
for _ in $(seq 1 100); do
  if ! kill -0 "$child" 2>/dev/null; then gone=yes; break; fi
  sleep 0.05
done
pp_expect_eq "the program dies with the launcher" "$gone" yes

# The program's orphans are stopped when it exits (they would run on with
# their accept() failing): SIGTERM, SIGKILL after 3 s.
start=$SECONDS
rc=0
"$PP_RUN" sh -c 'sleep 60 & echo "orphan $!"; exit 5' >"$PP_TMP/orphans.out" || rc=$?
orphan=$(sed -n 's/^orphan //p' "$PP_TMP/orphans.out")
pp_expect_eq "a program that leaves a child behind: its own status" "$rc" 5
pp_check "... its orphan was stopped" sh -c "! kill -0 $orphan 2>/dev/null"
pp_check "... within the grace period ($((SECONDS - start)) s)" [ $((SECONDS - start)) -le 5 ]

# Where the filter cannot be installed, the program never runs: here a
# second launcher inside the first (a process under a listener cannot get
# another, EBUSY).
rc=0
"$PP_RUN" "$PP_RUN" sh -c 'echo ran' >"$PP_TMP/nested.out" 2>"$PP_TMP/nested.err" || rc=$?
pp_expect_eq "no seccomp user notification: exit status 126" "$rc" 126
pp_expect_eq "no seccomp user notification: the program did not run" "$(cat "$PP_TMP/nested.out")" ""
pp_expect_match "no seccomp user notification: a clear message" "$(cat "$PP_TMP/nested.err")" \
  'proxyproto-run: .*not running sh'

# io_uring: ENOSYS by default, allowed on request.
pp_expect_eq "io_uring_setup fails with ENOSYS under the launcher" \
  "$("$PP_RUN" "$PP_RUN_DIR/run_server" io_uring)" "io_uring_setup errno=38"
got=$(LIBPROXYPROTO_IO_URING=1 "$PP_RUN" "$PP_RUN_DIR/run_server" io_uring)
pp_expect_match "LIBPROXYPROTO_IO_URING=1: io_uring_setup is not refused with ENOSYS" "$got" \
  '^io_uring_setup errno=([0-9]|[1-2][0-9]|3[0-79]|[4-9][0-9]+)$'
printf 'io_uring = 1\n' >"$PP_TMP/io_uring.conf"
got=$(LIBPROXYPROTO_CONFIG="$PP_TMP/io_uring.conf" "$PP_RUN" "$PP_RUN_DIR/run_server" io_uring)
pp_expect_match "the configuration file's io_uring key allows it too" "$got" \
  '^io_uring_setup errno=([0-9]|[1-2][0-9]|3[0-79]|[4-9][0-9]+)$'

pp_finish
