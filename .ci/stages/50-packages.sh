#!/bin/bash
# Stage 50: the distribution packages, built from the `make dist` tarball
# (so the tarball is known to carry debian/ and the generated spec):
#  1. the Debian binary packages with dpkg-buildpackage, checked by lintian;
#  2. the RPMs with rpmbuild -ta;
#  3. the .debs installed with apt-get, then debian/tests/installed-smoke run
#     against the installed files only; then the packages are purged.
# Both package builds skip their own test run (DEB_BUILD_OPTIONS=nocheck,
# rpmbuild --nocheck): .ci/run has just run make check and make distcheck on
# the same sources. Everything happens in a temporary directory; the source
# tree is left as it was. Budget: 6 minutes on 2 idle cores.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

step() { printf -- '-- %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

[ -f "$top/Makefile" ] || { echo "50-packages: run configure in $top first" >&2; exit 1; }
version=$(sed -n 's/^PACKAGE_VERSION = //p' "$top/Makefile")
packages=(libproxyproto0 libproxyproto-connect0 libproxyproto-common libproxyproto-dev libproxyproto-tools)

work=$(mktemp -d "${TMPDIR:-/tmp}/pp-packages.XXXXXX")
installed=no
cleanup() {
  local rc=$?
  if [ "$installed" = yes ]; then
    $SUDO apt-get purge -y -q "${packages[@]}" >/dev/null || rc=1
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

step "tarball"
tarball=libproxyproto-$version.tar.xz
had_tarball=no
[ -e "$top/$tarball" ] && had_tarball=yes
make -C "$top" -s dist >/dev/null
cp "$top/$tarball" "$work/"
[ "$had_tarball" = yes ] || rm -f "$top/$tarball"

step "Debian packages: dpkg-buildpackage -us -uc -b (nocheck)"
cd "$work"
cp "$tarball" "libproxyproto_$version.orig.tar.xz"
tar -xJf "$tarball"
(cd "libproxyproto-$version" &&
  DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -us -uc -b \
    >"$work/dpkg-buildpackage.log" 2>&1) ||
  { tail -n 60 "$work/dpkg-buildpackage.log"; exit 1; }
for deb in ./*.deb; do
  echo "== $deb"
  dpkg-deb -c "$deb" | awk '{ $1 = $2 = $3 = $4 = $5 = ""; sub(/^ +/, ""); print "   " $0 }'
done

step "lintian -I --pedantic"
lintian -I --pedantic --fail-on error,warning ./libproxyproto_*.changes

step "RPMs: rpmbuild -ta (--nocheck; --nodeps: dpkg, not rpm, holds the build deps here)"
rpmbuild -ta --nocheck --nodeps --define "_topdir $work/rpmbuild" \
  "$work/$tarball" >"$work/rpmbuild.log" 2>&1 ||
  { tail -n 60 "$work/rpmbuild.log"; exit 1; }
for rpm in "$work"/rpmbuild/RPMS/*/*.rpm; do
  echo "== $(basename "$rpm")"
  rpm -qpl "$rpm" | sed 's/^/   /'
done

step "install the .debs with apt-get"
installed=yes
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  ./libproxyproto0_*.deb ./libproxyproto-connect0_*.deb \
  ./libproxyproto-common_*.deb ./libproxyproto-dev_*.deb \
  ./libproxyproto-tools_*.deb >/dev/null

step "smoke test from the installed files"
bash "$top/debian/tests/installed-smoke"

step "purge the packages"
$SUDO apt-get purge -y -q "${packages[@]}" >/dev/null
installed=no
left=$(dpkg-query -W -f '${db:Status-Status} ${Package}\n' "${packages[@]}" 2>/dev/null |
  grep -v '^not-installed ' || true)
[ -z "$left" ] || { echo "still installed: $left" >&2; exit 1; }
[ ! -e /etc/libproxyproto.conf ] || { echo "/etc/libproxyproto.conf left behind" >&2; exit 1; }
echo "packages purged"
