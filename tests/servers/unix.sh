#!/bin/bash
# AF_UNIX stream listeners: a client that writes a v1 or v2 header with an
# IPv4 or IPv6 source to a local socket; the application's accept() must
# get that AF_INET/AF_INET6 address (its buffer is a sockaddr_storage) and
# getpeername() must agree, when LIBPROXYPROTO_ALLOW holds `unix`. Blocking
# and epoll servers. Without `unix` in the list, a Unix socket is out of
# scope: a server that speaks first (Postfix's and Dovecot's internal
# services) answers at once, not after LIBPROXYPROTO_TIMEOUT, and a header
# sent there is the application's data.
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
  ls_start spid spath "$out" LIBPROXYPROTO_TIMEOUT=1000 LIBPROXYPROTO_ALLOW=unix -- \
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

require_tool socat python3
# A server that speaks first, with a long timeout: the client waits for its
# greeting before it sends anything, and the greeting must come at once. A
# header the client sends next is plain data, echoed back as sent.
speak_first_client() {
  timeout 15 python3 - "$1" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
start = time.monotonic()
s.connect(sys.argv[1])
f = s.makefile("rb")
greeting = f.readline().decode().strip()
ms = int((time.monotonic() - start) * 1000)
s.sendall(b"PROXY TCP4 203.0.113.7 127.0.0.1 4321 25\r\n")
echo = f.readline().decode().strip()
print(f"{greeting}|{echo} {ms}")
PY
}
for allow in unset 127.0.0.1 "127.0.0.1,10.0.0.0/8"; do
  sock=$PP_TMP/banner.sock
  envs=(LIBPROXYPROTO_TIMEOUT=5000)
  [ "$allow" = unset ] || envs+=(LIBPROXYPROTO_ALLOW="$allow")
  for must in 0 1; do
    rm -f "$sock"
    pp_bg_preloaded bpid "$LIBPROXYPROTO_SO" 30 "$PP_TMP/banner.out" "${envs[@]}" \
      LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER=$must -- \
      socat UNIX-LISTEN:"$sock",fork SYSTEM:'echo 220 ready; head -n 1'
    for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
    res=$(speak_first_client "$sock" 2>&1 | tr -d '\r' || true)
    echo "# allow=$allow must-use=$must: $res"
    pp_expect_eq "allow=$allow must-use=$must: a Unix server's greeting, then the header as data" \
      "${res% *}" "220 ready|PROXY TCP4 203.0.113.7 127.0.0.1 4321 25"
    ms=${res##* }
    if [[ $ms =~ ^[0-9]+$ ]] && [ "$ms" -lt 1000 ]; then
      pp_ok "allow=$allow must-use=$must: greeted in under 1 s"
    else
      pp_not_ok "allow=$allow must-use=$must: greeted in under 1 s (got: $res)"
    fi
    pp_stop "$bpid"
  done
done
pp_finish
