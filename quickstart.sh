#!/bin/bash
# Quick start on a fresh Debian 12 machine, in one command:
#
#   ./quickstart.sh
#
# It installs the build dependencies, builds the Debian packages from a copy
# of this tree (the tree itself is left as it was), installs them with
# apt-get, and shows the server library at work with netcat, using the bare
# library names as the README does: a netcat server runs under
# LD_PRELOAD=libproxyproto.so, a netcat client under
# LD_PRELOAD=libproxyproto_connect.so claiming to be 8.8.8.8 port 4321, and
# the server reports the connection as coming from there.
#
# The package build skips the test suite (nocheck); `.ci/run` runs it all.
# Remove the packages afterwards with
#   apt-get purge libproxyproto0 libproxyproto-connect0 libproxyproto-common libproxyproto-dev
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

work=$(mktemp -d "${TMPDIR:-/tmp}/libproxyproto-quickstart.XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work/src"
}
trap cleanup EXIT

echo "==> installing the build dependencies"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends \
  build-essential debhelper dpkg-dev pkgconf pandoc netcat-openbsd

echo "==> building the Debian packages in $work"
mkdir "$work/src"
tar -C "$src" --exclude=.git --exclude='./libproxyproto-*' -cf - . | tar -C "$work/src" -xf -
(cd "$work/src" &&
  DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" DEB_BUILD_PROFILES=nocheck \
    dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1) ||
  { tail -n 40 "$work/build.log"; echo "==> the build failed; see $work/build.log" >&2; exit 1; }

echo "==> installing them"
(cd "$work" && $SUDO apt-get install -y -q --no-install-recommends \
  ./libproxyproto0_*.deb ./libproxyproto-connect0_*.deb \
  ./libproxyproto-common_*.deb ./libproxyproto-dev_*.deb)

port=9090
while nc -z 127.0.0.1 "$port" 2>/dev/null; do port=$((port + 1)); done

echo "==> server: LD_PRELOAD=libproxyproto.so nc -n -v -l 127.0.0.1 $port"
LD_PRELOAD=libproxyproto.so nc -n -v -l 127.0.0.1 "$port" >"$work/out" 2>"$work/err" &
server_pid=$!
for _ in $(seq 50); do grep -q Listening "$work/err" 2>/dev/null && break; sleep 0.1; done

echo "==> client: LD_PRELOAD=libproxyproto_connect.so LIBPROXYPROTO_ADDR=8.8.8.8 LIBPROXYPROTO_PORT=4321 nc 127.0.0.1 $port"
echo "hello from a proxied client" |
  LD_PRELOAD=libproxyproto_connect.so LIBPROXYPROTO_ADDR=8.8.8.8 LIBPROXYPROTO_PORT=4321 \
    timeout 10 nc -N 127.0.0.1 "$port"
for _ in $(seq 50); do grep -q "hello" "$work/out" 2>/dev/null && break; sleep 0.1; done

echo "==> what the server saw:"
sed 's/^/    /' "$work/err" "$work/out"
if grep -q "Connection received on 8.8.8.8 4321" "$work/err"; then
  echo "==> the server saw the client as 8.8.8.8:4321, as the PROXY header said"
  echo "==> the packages stay installed (man libproxyproto); the .debs are in $work"
else
  echo "==> unexpected: the server did not report 8.8.8.8 4321" >&2
  exit 1
fi
