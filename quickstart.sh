#!/bin/bash
# Quick start on a fresh Debian 12 machine: install the build dependencies,
# build both libraries, and show the server library at work with netcat.
#
#   ./quickstart.sh
#
# A netcat server runs under libproxyproto.so; a netcat client runs under
# libproxyproto_connect.so, claiming to be 8.8.8.8 port 4321. The server
# reports the connection as coming from there.
set -euo pipefail
cd "$(dirname "$0")"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

echo "==> installing build dependencies"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
  build-essential g++ autoconf automake libtool pkg-config pandoc netcat-openbsd

echo "==> building"
[ -x configure ] || autoreconf -fi
[ -f Makefile ] || ./configure --disable-tests
make -j"$(nproc)"

server_lib=$PWD/lib/.libs/libproxyproto.so
client_lib=$PWD/connect/.libs/libproxyproto_connect.so

port=9090
while nc -z 127.0.0.1 "$port" 2>/dev/null; do port=$((port + 1)); done

work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> server: LD_PRELOAD=libproxyproto.so nc -n -v -l 127.0.0.1 $port"
LD_PRELOAD=$server_lib nc -n -v -l 127.0.0.1 "$port" >"$work/out" 2>"$work/err" &
server_pid=$!
for _ in $(seq 50); do grep -q Listening "$work/err" 2>/dev/null && break; sleep 0.1; done

echo "==> client: LD_PRELOAD=libproxyproto_connect.so LIBPROXYPROTO_ADDR=8.8.8.8 LIBPROXYPROTO_PORT=4321 nc 127.0.0.1 $port"
echo "hello from a proxied client" |
  LD_PRELOAD=$client_lib LIBPROXYPROTO_ADDR=8.8.8.8 LIBPROXYPROTO_PORT=4321 \
    timeout 10 nc -N 127.0.0.1 "$port"
for _ in $(seq 50); do grep -q "hello" "$work/out" 2>/dev/null && break; sleep 0.1; done

echo "==> what the server saw:"
sed 's/^/    /' "$work/err" "$work/out"
if grep -q "Connection received on 8.8.8.8 4321" "$work/err"; then
  echo "==> the server saw the client as 8.8.8.8:4321, as the PROXY header said"
else
  echo "==> unexpected: the server did not report 8.8.8.8 4321" >&2
  exit 1
fi
