#!/bin/bash
# A 32-bit (i386) program under the 64-bit launcher. On i386 the socket
# calls come two ways: multiplexed through socketcall(2), with the call's
# arguments in an array in the program's memory, and (Linux 4.3 and later)
# as direct system calls of their own. The server is run_server.c built
# statically with i686-linux-gnu-gcc (its C library, glibc, goes through
# socketcall), in its ordinary modes (blocking accept, epoll with accept4)
# and in modes that make the calls by hand: socketcall(SYS_ACCEPT),
# socketcall(SYS_ACCEPT4) with SOCK_NONBLOCK|SOCK_CLOEXEC,
# socketcall(SYS_GETPEERNAME) and (SYS_GETSOCKNAME). For each: accept() and
# getpeername() give the v1 and v2 headers' clients, the data arrives
# intact, a connection without a header keeps its real peer, and the
# descriptor has the flags asked for; under LIBPROXYPROTO_GETSOCKNAME,
# getsockname() gives the header's destination. A socketcall whose array
# pointer, or whose addr, the program cannot read or write fails with
# EFAULT, as from the kernel, and the server goes on serving; an accept
# interrupted by a signal loses no connection. Then a Go net/http server
# built for 386, whose runtime makes its own socketcall(SYS_ACCEPT4) on a
# non-blocking listener from many threads. The direct calls are
# i386_direct.sh's.
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/run/run_lib.sh
. "$(dirname "$0")/run_lib.sh"
require_openbsd_nc
run_i386_server I386
echo "# $(file -b "$I386" | cut -d, -f1-2)"

# check MODE NB,CE: the i386 server in MODE under the launcher.
check() {
  local mode=$1 flags=$2 name=i386-$1 pid port failed=$PP_FAIL
  run_start pid port "$name" "$PP_RUN" "$I386" "$mode"
  run_check_claims "$name" "$port"
  pp_expect_eq "$name: the descriptor's O_NONBLOCK,FD_CLOEXEC as asked" \
    "$(run_field "$PP_TMP/$name-v1.reply" nb),$(run_field "$PP_TMP/$name-v1.reply" ce)" "$flags"
  if [ "$PP_FAIL" -ne "$failed" ]; then pp_dump "$PP_TMP/$name.out" "$PP_TMP/$name.out.err"; fi
  pp_stop "$pid"
}

# glibc's accept() and getpeername(): socketcall(SYS_ACCEPT), (SYS_GETPEERNAME).
check blocking 0,0
# glibc's accept4(SOCK_NONBLOCK|SOCK_CLOEXEC) on a non-blocking listener.
check epoll 1,1
# By hand: syscall(SYS_socketcall, SYS_ACCEPT or SYS_ACCEPT4, args).
check socketcall 0,0
check socketcall4 1,1

# ---- getsockname() under LIBPROXYPROTO_GETSOCKNAME: glibc's and by hand,
# socketcall(SYS_GETSOCKNAME).
for mode in blocking socketcall; do
  name=i386-getsockname-$mode
  run_start pid port "$name" env LIBPROXYPROTO_GETSOCKNAME=1 "$PP_RUN" "$I386" "$mode"
  run_client "$name-v1" "$port" "${V1}hello\n"
  pp_expect_eq "$name: getsockname() gives the header's destination" \
    "$(run_field "$PP_TMP/$name-v1.reply" local)" 127.0.0.1:80
  run_client "$name-plain" "$port" "plain\n"
  pp_expect_eq "$name: without a header, the real local address" \
    "$(run_field "$PP_TMP/$name-plain.reply" local)" "127.0.0.1:$port"
  pp_stop "$pid"
done

# ---- EFAULT: socketcall(SYS_ACCEPT, (unsigned long *) 8), then an accept
# with a readable array whose addr is 8 (it waits for the connection, which
# stays for the next call), then on the first connection the same two for
# SYS_GETPEERNAME; then two clients served.
name=i386-socketcall-efault failed=$PP_FAIL
run_start pid port "$name" "$PP_RUN" "$I386" socketcall-efault
run_client "$name-1" "$port" 'PROXY TCP4 203.0.113.8 127.0.0.1 888 80\r\nhello\n'
run_client "$name-2" "$port" "${V2}again\n"
pp_expect_eq "socketcall(SYS_ACCEPT) with a bad args pointer fails with EFAULT" \
  "$(grep '^efault-args' "$PP_TMP/$name.out")" "efault-args fd=-1 errno=14"
pp_expect_eq "socketcall(SYS_ACCEPT) with a bad addr fails with EFAULT" \
  "$(grep '^efault ' "$PP_TMP/$name.out")" "efault fd=-1 errno=14"
pp_expect_eq "... and the connection is the next accept()'s, with its client" \
  "$(run_field "$PP_TMP/$name-1.reply" accept),$(run_field "$PP_TMP/$name-1.reply" data)" \
  203.0.113.8:888,hello
pp_expect_eq "socketcall(SYS_GETPEERNAME) with a bad args pointer fails with EFAULT" \
  "$(grep '^efault-peer-args' "$PP_TMP/$name.out")" "efault-peer-args ret=-1 errno=14"
pp_expect_eq "socketcall(SYS_GETPEERNAME) with a bad addr fails with EFAULT" \
  "$(grep '^efault-peer-addr' "$PP_TMP/$name.out")" "efault-peer-addr ret=-1 errno=14"
pp_expect_eq "... and getpeername() by socketcall then gives the claimed client" \
  "$(run_field "$PP_TMP/$name-1.reply" peer)" 203.0.113.8:888
pp_expect_eq "the server goes on serving: the next client's v2 header" \
  "$(run_field "$PP_TMP/$name-2.reply" peer),$(run_field "$PP_TMP/$name-2.reply" data)" \
  198.51.100.9:5555,again
pp_expect_eq "the program saw two connections" "$(grep -c '^accept=' "$PP_TMP/$name.out")" 2
if [ "$PP_FAIL" -ne "$failed" ]; then pp_dump "$PP_TMP/$name.out" "$PP_TMP/$name.out.err"; fi
pp_stop "$pid"

# ---- An accept (glibc: socketcall) interrupted at 1 s while the supervisor
# holds it for a late header (1.4 s); the program calls accept() again at 2 s.
name=i386-eintr
run_start pid port "$name" "$PP_RUN" "$I386" eintr
run_client "$name" "$port" 'PROXY TCP4 203.0.113.9 127.0.0.1 999 80\r\nhello\n' 1.4
pp_expect_eq "i386: the interrupted accept() returned EINTR to the program" \
  "$(grep '^eintr' "$PP_TMP/$name.out")" "eintr fd=-1 errno=4"
pp_expect_eq "i386: the connection of the abandoned call went to the next accept()" \
  "$(run_field "$PP_TMP/$name.reply" peer)" 203.0.113.9:999
pp_stop "$pid"

# ---- Go for 386 (GOARCH=386, static). Without go, only this part is
# skipped (run_go_server fails the test under CI=true).
if ! command -v go >/dev/null 2>&1 && [ "${CI:-}" != true ]; then
  echo "# SKIP: go missing: no Go 386 server"
else
  run_go_server 386 GO386
  pp_expect_match "the Go server is an i386 program" "$(file -b "$GO386")" \
    '^ELF 32-bit LSB executable, Intel 80386,.*statically linked'
  run_start pid port go386 "$PP_RUN" "$GO386"
  run_client go386-v1 "$port" "${V1}GET / HTTP/1.0\r\n\r\n"
  pp_expect_eq "Go 386: r.RemoteAddr is the v1 header's client" \
    "$(run_field "$PP_TMP/go386-v1.reply" peer)" 203.0.113.7:4321
  run_client go386-v2 "$port" "${V2}GET / HTTP/1.0\r\n\r\n"
  pp_expect_eq "Go 386: r.RemoteAddr is the v2 header's client" \
    "$(run_field "$PP_TMP/go386-v2.reply" peer)" 198.51.100.9:5555
  run_client go386-plain "$port" "GET / HTTP/1.0\r\n\r\n"
  pp_expect_match "Go 386: no header: the real peer" \
    "$(run_field "$PP_TMP/go386-plain.reply" peer)" '^127\.0\.0\.1:[0-9]+$'
  clients=()
  for i in $(seq 1 20); do
    run_client "go386-$i" "$port" "PROXY TCP4 198.51.100.$i 127.0.0.1 $((7000 + i)) 80\r\nGET / HTTP/1.0\r\n\r\n" &
    clients+=($!)
  done
  wait "${clients[@]}" || true
  bad=0
  for i in $(seq 1 20); do
    [ "$(run_field "$PP_TMP/go386-$i.reply" peer)" = "198.51.100.$i:$((7000 + i))" ] || bad=$((bad + 1))
  done
  pp_expect_eq "Go 386: 20 clients at once, each with its own address" "$bad" 0
  pp_stop "$pid"
fi

pp_finish
