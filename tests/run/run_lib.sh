#!/bin/bash
# Helpers of the tests/run/ scripts (sourced after tests/lib/common.sh):
#   run_start VAR-PID VAR-PORT NAME CMD...  start CMD (usually under the
#       launcher) with its output in $PP_TMP/NAME.out (.err), and wait for
#       its "port N" line
#   run_client NAME PORT FORMAT [DELAY]  send printf FORMAT to the port with
#       nc, after DELAY seconds; what came back in $PP_TMP/NAME.reply
#   run_field FILE KEY     the value of KEY=... in FILE's last line
#   run_check_claims NAME PORT   a v1 header, a v2 header and none, each on
#       its own connection to run_server (any mode) under the launcher:
#       accept() and getpeername() give the header's client (the real peer
#       without one), the program reads the data, never the header; the
#       replies stay in $PP_TMP/NAME-{v1,v2,plain}.reply
# V1 and V2: headers from 203.0.113.7:4321 and 198.51.100.9:5555.
#   run_static_server [VAR]  build tests/run/run_server.c with musl-gcc
#                          -static; its path into VAR (or printed)
#   run_i386_server [VAR]  build it for i386 with i686-linux-gnu-gcc -static,
#                          checked to be an i386 program that this machine
#                          runs; its path into VAR (or printed)
#   run_go_server static|dynamic|386 [VAR]  build tests/run/go_server.go
#                          (386: static, for i386); its path into VAR (or
#                          printed)
# A missing musl-gcc, i686-linux-gnu-gcc (or its static C library) or go
# skips the test, or fails it under CI=true (run_missing). A kernel that
# cannot run i386 programs skips it even then: that is the kernel's
# property, not a missing tool. Call them with VAR, in the script's own
# shell: in a command substitution, their skip (exit 77) would only end the
# subshell, and the script's ERR trap would make a hard error of it.
# shellcheck disable=SC2034

require_env PP_RUN PP_RUN_DIR PP_SRCDIR

V1='PROXY TCP4 203.0.113.7 127.0.0.1 4321 80\r\n'
# v2, PROXY, TCP over IPv4, 198.51.100.9:5555 -> 127.0.0.1:80
V2='\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0c\xc6\x33\x64\x09\x7f\x00\x00\x01\x15\xb3\x00\x50'
[ -x "$PP_RUN" ] || pp_fatal "$PP_RUN not built"

# Starts CMD with exec, so that the recorded pid is CMD's own.
run_exec_to() {
  local out=$1
  shift
  exec "$@" >"$out" 2>"$out.err"
}

run_start() {
  local __pidvar=$1 __portvar=$2 name=$3 rs_pid rs_port
  shift 3
  pp_bg rs_pid run_exec_to "$PP_TMP/$name.out" "$@"
  if ! pp_wait_for_line "$PP_TMP/$name.out" '^port [0-9]+' 20 "$rs_pid"; then
    pp_dump "$PP_TMP/$name.out" "$PP_TMP/$name.out.err"
    pp_fatal "$name did not start"
  fi
  rs_port=$(sed -n 's/^port //p' "$PP_TMP/$name.out" | head -n1)
  printf -v "$__pidvar" '%s' "$rs_pid"
  printf -v "$__portvar" '%s' "$rs_port"
}

run_client() {
  { sleep "${4:-0}"; printf "$3"; } |
    timeout 10 nc -N 127.0.0.1 "$2" >"$PP_TMP/$1.reply" 2>"$PP_TMP/$1.cerr" || true
}

run_field() {
  tail -n1 "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n1
}

# run_result VAR VALUE: VALUE into VAR, or on standard output without VAR.
run_result() {
  if [ -n "$1" ]; then printf -v "$1" '%s' "$2"; else echo "$2"; fi
}

run_check_claims() {
  local name=$1 port=$2
  run_client "$name-v1" "$port" "${V1}hello v1\n"
  pp_expect_eq "$name: accept() and getpeername() give the v1 header's client" \
    "$(run_field "$PP_TMP/$name-v1.reply" accept) $(run_field "$PP_TMP/$name-v1.reply" peer)" \
    "203.0.113.7:4321 203.0.113.7:4321"
  pp_expect_eq "$name: the program reads the data, not the header" \
    "$(run_field "$PP_TMP/$name-v1.reply" data)" hello
  run_client "$name-v2" "$port" "${V2}hello v2\n"
  pp_expect_eq "$name: accept() and getpeername() give the v2 header's client" \
    "$(run_field "$PP_TMP/$name-v2.reply" accept) $(run_field "$PP_TMP/$name-v2.reply" peer)" \
    "198.51.100.9:5555 198.51.100.9:5555"
  pp_expect_eq "$name: after a v2 header, the data" \
    "$(run_field "$PP_TMP/$name-v2.reply" data)" hello
  run_client "$name-plain" "$port" "plain data\n"
  pp_expect_match "$name: no header: the real peer, from accept() and getpeername()" \
    "$(run_field "$PP_TMP/$name-plain.reply" accept) $(run_field "$PP_TMP/$name-plain.reply" peer)" \
    '^127\.0\.0\.1:[0-9]+ 127\.0\.0\.1:[0-9]+$'
  pp_expect_eq "$name: no header: the data intact" \
    "$(run_field "$PP_TMP/$name-plain.reply" data)" plain
}

run_static_server() {
  require_tool musl-gcc
  local out=$PP_TMP/run_server_static
  if [ ! -x "$out" ]; then
    musl-gcc -static -O2 -o "$out" "$PP_SRCDIR/tests/run/run_server.c" >&2 ||
      pp_fatal "musl-gcc could not build run_server.c"
  fi
  run_result "${1:-}" "$out"
}

# run_missing WHAT: as require_tool, for something that is not a command.
run_missing() {
  if [ "${CI:-}" = true ]; then
    echo "## ERROR: missing: $1 (CI=true: a hard error, not a skip)" >&2
    echo "Bail out! missing: $1 (CI=true)"
    exit 99
  fi
  echo "SKIP: missing: $1"
  exit 77
}

# Warnings are errors: run_server.c is -Wall -Wextra clean for i386 too.
run_i386_server() {
  # Elsewhere than on x86 an i386 program could only run under qemu-user
  # (binfmt_misc), which makes native system calls of its own.
  case $(uname -m) in
    x86_64 | i?86) ;;
    *)
      echo "SKIP: i386 programs run natively only on x86 (this is $(uname -m))"
      exit 77
      ;;
  esac
  require_tool i686-linux-gnu-gcc file
  local out=$PP_TMP/run_server_i386 libc info
  libc=$(i686-linux-gnu-gcc -print-file-name=libc.a)
  [ -f "$libc" ] || run_missing "the i386 static C library (libc6-dev-i386-cross)"
  if [ ! -x "$out" ]; then
    i686-linux-gnu-gcc -static -O2 -std=gnu11 -Wall -Wextra -Werror -o "$out" \
      "$PP_SRCDIR/tests/run/run_server.c" >&2 ||
      pp_fatal "i686-linux-gnu-gcc could not build run_server.c"
  fi
  case $(file -b "$out") in
    "ELF 32-bit LSB executable, Intel 80386,"*"statically linked"*) ;;
    *) pp_fatal "$out is not a static i386 program: $(file -b "$out")" ;;
  esac
  # The kernel may lack IA32 emulation (CONFIG_IA32_EMULATION, or
  # ia32_emulation=0): exec fails with ENOEXEC, which the shell reports
  # with status 126.
  local rc=0
  info=$("$out" info 2>"$PP_TMP/run_server_i386.err") || rc=$?
  if [ "$rc" = 126 ] && grep -qi 'exec format error' "$PP_TMP/run_server_i386.err"; then
    echo "SKIP: this kernel does not run i386 programs (no IA32 emulation)"
    exit 77
  fi
  if [ "$rc" != 0 ] || [ "$info" != "bits=32 socketcall=1" ]; then
    pp_fatal "the i386 run_server did not run: status $rc, '$info'," \
      "$(head -c 300 "$PP_TMP/run_server_i386.err")"
  fi
  run_result "${1:-}" "$out"
}

# Go's build cache lives in the build tree (tests/run/gocache, removed by
# make clean), so that only the first run compiles the standard library.
run_go_server() {
  require_tool go
  local kind=$1 out=$PP_TMP/go_server_$1 cgo=0 arch=()
  [ "$kind" = dynamic ] && cgo=1
  [ "$kind" = 386 ] && arch=(GOARCH=386)
  if [ ! -x "$out" ]; then
    (cd "$PP_TMP" && env GOCACHE="$PP_RUN_DIR/gocache" GOPATH="$PP_TMP/gopath" \
      GO111MODULE=off GOFLAGS= CGO_ENABLED=$cgo "${arch[@]}" go build -o "$out" \
      "$PP_SRCDIR/tests/run/go_server.go") >&2 ||
      pp_fatal "go build of go_server.go ($kind) failed"
  fi
  run_result "${2:-}" "$out"
}
