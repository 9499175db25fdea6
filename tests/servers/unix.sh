#!/bin/bash
# AF_UNIX stream listeners: a client that writes a v1 or v2 header with an
# IPv4 or IPv6 source to a local socket; the application's accept() must
# get that AF_INET/AF_INET6 address (its buffer is a sockaddr_storage) and
# getpeername() must agree. Blocking and epoll servers.
# Expected to FAIL on a library that leaves AF_UNIX listeners alone.
# spid, spath are set through ls_start.
# shellcheck disable=SC2154
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/lib/servers.sh
. "$PP_LIB_DIR/servers.sh"

for mode in blocking epoll; do
  out=$PP_TMP/$mode.out
  # 4 connections: v2 IPv4, v1 IPv4, v2 IPv6, v1 IPv6.
  ls_start spid spath "$out" LIBPROXYPROTO_TIMEOUT=1000 -- \
    --mode "$mode" --unix "$PP_TMP/$mode.sock" --count 4 --read-timeout 2
  res=$(timeout 30 "$LOAD_CLIENT" --unix "$spath" --flood 4 --concurrency 1 \
    --max-wait-ms 4000 2>"$PP_TMP/$mode.cerr" || true)
  echo "# $mode: $res"
  summary=$(ls_summary "$out" "$spid")
  echo "# $mode server: $summary"
  pp_expect_eq "$mode AF_UNIX: v1/v2, IPv4/IPv6 sources reported by accept and getpeername" \
    "$(kv "$res" ok)" 4
  pp_expect_eq "$mode AF_UNIX: server counted 0 mismatches" \
    "$(kv "$summary" mismatches)" 0
  [ "$PP_FAIL" -eq 0 ] || pp_dump "$out" "$PP_TMP/$mode.cerr"
done
pp_finish
