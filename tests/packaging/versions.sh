#!/bin/bash
# One version everywhere. AC_INIT in configure.ac is the only place where the
# product version is written by hand; every other copy must agree with it:
# those configure makes (config.h, the public header, the pkg-config file,
# the RPM spec, the manpage's header) and those written by hand because no
# tool can make them (debian/changelog, read by dpkg before configure runs,
# and the spec's %changelog).
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"

require_env PP_SRCDIR PP_BUILDDIR
require_tool sed head

src=$PP_SRCDIR
build=$PP_BUILDDIR

# first_match FILE SED-SCRIPT: the first line sed prints, or "(none in FILE)".
first_match() {
  local got
  if [ ! -f "$1" ]; then
    echo "(no file $1)"
    return
  fi
  got=$(sed -n "$2" "$1" | head -n 1)
  printf '%s\n' "${got:-(nothing found in $1)}"
}

want=$(first_match "$src/configure.ac" \
  's/^AC_INIT(\[[^]]*\],[[:space:]]*\[\([^]]*\)\].*/\1/p')
case $want in
  [0-9]*.[0-9]*.[0-9]*) pp_ok "AC_INIT gives the version $want" ;;
  *) pp_fatal "no MAJOR.MINOR.PATCH version in AC_INIT of configure.ac: $want" ;;
esac
major=${want%%.*}
rest=${want#*.}
minor=${rest%%.*}
patch=${rest#*.}

pp_expect_eq "config.h: PACKAGE_VERSION" \
  "$(first_match "$build/config.h" 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p')" "$want"

header=$build/include/proxyproto_version.h
pp_expect_eq "proxyproto_version.h: PROXYPROTO_VERSION" \
  "$(first_match "$header" 's/^#define PROXYPROTO_VERSION "\(.*\)"$/\1/p')" "$want"
pp_expect_eq "proxyproto_version.h: MAJOR.MINOR.PATCH" \
  "$(first_match "$header" 's/^#define PROXYPROTO_VERSION_MAJOR \(.*\)$/\1/p').$(first_match "$header" 's/^#define PROXYPROTO_VERSION_MINOR \(.*\)$/\1/p').$(first_match "$header" 's/^#define PROXYPROTO_VERSION_PATCH \(.*\)$/\1/p')" \
  "$major.$minor.$patch"

pp_expect_eq "libproxyproto.pc: Version" \
  "$(first_match "$build/libproxyproto.pc" 's/^Version:[[:space:]]*//p')" "$want"

spec=$build/rpm/libproxyproto.spec
pp_expect_eq "libproxyproto.spec: Version" \
  "$(first_match "$spec" 's/^Version:[[:space:]]*//p')" "$want"
# The newest %changelog entry ends in "- VERSION-RELEASE".
pp_expect_eq "libproxyproto.spec: newest %changelog entry" \
  "$(first_match "$spec" '/^%changelog/,${s/^\*.* - \([^ -]*\)-[^ -]*$/\1/p;}')" "$want"

# debian/changelog: "libproxyproto (EPOCH:UPSTREAM-REVISION) dist; ...".
pp_expect_eq "debian/changelog: upstream version of the newest entry" \
  "$(first_match "$src/debian/changelog" \
     '1s/^libproxyproto (\([0-9]*:\)\{0,1\}\(.*\)-[^-)]*).*/\2/p')" "$want"

# The manpage's header names the version (.TH ... "libproxyproto X.Y.Z").
page=$build/doc/libproxyproto.8
[ -f "$page" ] || page=$src/doc/libproxyproto.8
pp_expect_eq "doc/libproxyproto.8: version in the .TH line" \
  "$(first_match "$page" 's/^\.TH .*"libproxyproto \([^"]*\)".*/\1/p')" "$want"

pp_finish
