#!/bin/bash
# Stage 70: the other Debian architectures, on this amd64 machine. debian/
# control says linux-any, so Debian's build daemons build the package and
# run its tests on every release architecture; this stage proves, for
#   arm64  (aarch64-linux-gnu)    under qemu-user
#   armhf  (arm-linux-gnueabihf)  with -D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64,
#                                 Debian's default there since 2024, qemu-user
#   s390x  (s390x-linux-gnu)      big-endian, under qemu-user
#   i386   (i686-linux-gnu)       run natively (an amd64 kernel runs it)
# that each one's cross compiler builds the two libraries and the Check
# programs with --enable-werror, that the Check programs pass there, and
# that the abi scripts (tests/abi/{needed,exports,self_calls,sections,
# cancel}.sh) pass against each one's libraries. i386 also runs the
# integration tests that preload the library into i386 programs only: the
# build's own helpers, and netcat and python3 of Debian's i386 packages.
# proxyproto-run is built for each (with the architecture's libseccomp);
# qemu-user has no seccomp, so there the stage checks that the launcher
# refuses to start a program it could not supervise (status 126).
# tests/abi/inert.sh and the other integration tests preload into the
# machine's own (amd64) programs, which cannot load a foreign library.
#
# PP_ARCHES picks other architectures (armel, ppc64el, riscv64 are known
# too, for a run by hand). riscv64 is not a release architecture of Debian
# 12, so it has no check:riscv64 (nor libc6:riscv64) package: there the
# stage builds Check itself, static, with the cross compiler, from the
# source package of bookworm (apt-get source, through a deb-src list and
# package lists of its own in the work directory, verified by the archive's
# key), and runs the programs under qemu-riscv64 with the cross
# compiler's own C and C++ libraries (QEMU_LD_PREFIX=/usr/riscv64-linux-gnu).
#
# Packages: the cross compilers and qemu-user-static are in
# .ci/packages/architectures, installed by .ci/run with the rest. The
# multiarch ones (check:ARCH, libstdc++6:ARCH for the test programs, the
# i386 libraries of netcat and python3) need their architecture added to
# dpkg first, so this stage adds the architectures and installs them
# itself. netcat-openbsd and python3.11-minimal cannot be installed next
# to their amd64 packages: their i386 programs are unpacked into the work
# directory instead, with their libraries installed as packages.
#
# Trimmed for time (budget: 10 minutes on 2 cores): each build makes only
# the libraries, the Check programs and the abi scripts' helper, without
# debugging information (-g0); the i386 integration tests are those whose
# preloaded programs are i386 ones. Everything happens in a
# temporary directory, from a copy of the source tree made by make dist.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

step() { printf -- '-- %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

read -r -a arches <<<"${PP_ARCHES:-arm64 armhf s390x i386}"

# triplet ARCH: the GNU type of Debian's cross compiler (i686-linux-gnu);
# multiarch ARCH: the library directory (i386-linux-gnu).
triplet() { dpkg-architecture -a"$1" -qDEB_HOST_GNU_TYPE 2>/dev/null; }
multiarch() { dpkg-architecture -a"$1" -qDEB_HOST_MULTIARCH 2>/dev/null; }
# Debian's gcc 12 cross compilers still default to a 32-bit time_t on the
# 32-bit arms; Debian itself builds with 64 bits there now.
time_flags() {
  case $1 in
    armhf | armel) echo "-D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64" ;;
  esac
}
# check_from_source ARCH: Debian 12 has no check:ARCH (nor any other
# ARCH package), so Check is built here and the programs run on the cross
# compiler's libraries (build_check, QEMU_LD_PREFIX).
check_from_source() { [ "$1" = riscv64 ]; }

check_programs=(tests/unit/check_core tests/engine/check_engine
  tests/engine/check_reader_race tests/prefork/check_readiness
  tests/preload/check_preload tests/api/check_api)

work=$(mktemp -d "${TMPDIR:-/tmp}/pp-arches.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=()
emulated_cancel=()
declare -A table

step "multiarch packages for: ${arches[*]}"
multi=()
for arch in "${arches[@]}"; do
  triplet "$arch" >/dev/null
  $SUDO dpkg --add-architecture "$arch"
  # libatomic1: where configure finds the atomics need it (armel).
  # libseccomp-dev: proxyproto-run is built for each architecture too.
  check_from_source "$arch" ||
    multi+=("check:$arch" "libstdc++6:$arch" "libatomic1:$arch" "libseccomp-dev:$arch")
done
for arch in "${arches[@]}"; do
  [ "$arch" = i386 ] && multi+=(libbsd0:i386 libpython3.11-stdlib:i386
    libexpat1:i386 zlib1g:i386 libstdc++6:i386)
done
$SUDO apt-get update -q >/dev/null
[ "${#multi[@]}" -eq 0 ] ||
  $SUDO apt-get install -y -q --no-install-recommends "${multi[@]}" >/dev/null

step "qemu-user through binfmt_misc"
# The Check programs fork and exec, so the kernel itself must hand foreign
# programs to qemu: binfmt_misc, which qemu-user-static registers.
if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
  $SUDO mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
$SUDO update-binfmts --enable >/dev/null 2>&1 || true
for arch in "${arches[@]}"; do
  case $arch in
    arm64) q=qemu-aarch64 ;; armhf | armel) q=qemu-arm ;; s390x) q=qemu-s390x ;;
    ppc64el) q=qemu-ppc64le ;; riscv64) q=qemu-riscv64 ;; *) continue ;;
  esac
  grep -q enabled "/proc/sys/fs/binfmt_misc/$q" ||
    { echo "70-architectures: $q is not registered with binfmt_misc" >&2; exit 1; }
done

step "source tree (make dist)"
[ -f "$top/Makefile" ] || { echo "70-architectures: run configure in $top first" >&2; exit 1; }
version=$(sed -n 's/^PACKAGE_VERSION = //p' "$top/Makefile")
tarball=libproxyproto-$version.tar.xz
had_tarball=no
[ -e "$top/$tarball" ] && had_tarball=yes
make -C "$top" -s dist >/dev/null
tar -xJf "$top/$tarball" -C "$work"
[ "$had_tarball" = yes ] || rm -f "$top/$tarball"
src=$work/libproxyproto-$version

# cancel_is_emulated ARCH BUILD OUTPUT: whether cancel.sh failed only in
# its "plain" case (a thread blocked in the kernel's accept4, which the
# library calls) because this machine loses the cancellation of any thread
# blocked in the C library's accept4(), library or not. Measured under
# qemu-arm (Debian 12, armhf): cancel.sh's own program, changed to call
# accept4() itself and run without any library, skips its destructor too,
# while with accept() it runs it. The same program is the probe here; the
# failure is let go on an architecture where, and only where, it fails.
# Under qemu-ppc64le even cancel.sh's control (accept() without the
# library) loses it: there the control's failure is the proof.
cancel_is_emulated() {
  local arch=$1 build=$2 output=$3 probe=$work/cancel-probe-$1
  [ "$arch" = i386 ] && return 1
  # Only the plain case (and the control) may have failed.
  grep '^not ok' <<<"$output" | grep -v '(plain)' |
    grep -qv 'without the library' && return 1
  grep '^not ok' <<<"$output" | grep -q 'without the library' && return 0
  mkdir -p "$probe"
  sed 's/accept(listener, nullptr, nullptr)/accept4(listener, nullptr, nullptr, 0)/' \
    "$src/tests/abi/cancel_accept.cc" >"$probe/accept4.cc"
  grep -q 'accept4(listener' "$probe/accept4.cc" || return 1
  "$(triplet "$arch")-g++" -O2 -D_GNU_SOURCE -o "$probe/accept4" "$probe/accept4.cc" \
    -lpthread || return 1
  ! timeout 30 "$probe/accept4" 2>/dev/null | grep -q 'destructor ran'
}

# build_check ARCH: Check, static and position-independent, built with
# ARCH's cross compiler into $work/check-ARCH from bookworm's source package
# (Debian's patches applied; its check.pc names libcheck_pic, the -fPIC
# static library, which is the one built here). Only the library, its
# headers and check.pc: no documentation, no checkmk, no Check self-tests.
build_check() {
  local arch=$1 prefix=$work/check-$1 dir=$work/check-source
  local apt=(-o Dir::Etc::SourceList="$dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o Dir::State::Lists="$dir/lists" -o Dir::Cache="$dir/cache"
    -o APT::Sandbox::User="$(id -un)")
  if [ ! -d "$dir/tree" ]; then
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/tree"
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main" \
      >"$dir/sources.list"
    if ! { apt-get -q "${apt[@]}" update >"$dir/apt.log" 2>&1 &&
      (cd "$dir/tree" && apt-get -q "${apt[@]}" source check) >>"$dir/apt.log" 2>&1; }; then
      tail -n 20 "$dir/apt.log"
      rm -rf "$dir/tree"
      return 1
    fi
  fi
  local tree
  tree=$(find "$dir/tree" -mindepth 1 -maxdepth 1 -type d -name 'check-*' | head -n 1)
  [ -n "$tree" ] || { echo "70-architectures: apt-get source check unpacked nothing" >&2; return 1; }
  echo "   $arch: $(basename "$(ls "$dir"/tree/check_*.dsc)") ($(basename "$tree"))"
  mkdir -p "$work/check-build-$arch"
  (cd "$work/check-build-$arch" &&
    "$tree/configure" --host="$(triplet "$arch")" --prefix="$prefix" \
      --disable-shared --enable-static --enable-subunit=no \
      CFLAGS="-O2 -g0 -fPIC" &&
    make -j2 -C lib && make -j2 -C src && make -C src install &&
    make install-pcdataDATA install-includeHEADERS) >"$work/check-build-$arch.log" 2>&1 ||
    { tail -n 30 "$work/check-build-$arch.log"; return 1; }
  ln -sf libcheck.a "$prefix/lib/libcheck_pic.a"
  # check.h as a system header, as Debian's in /usr/include is: the tests'
  # warnings (-Wundef, -Wold-style-cast with --enable-werror) are not for
  # Check's own macros.
  # shellcheck disable=SC2016 # ${includedir} is check.pc's, not the shell's
  sed -i 's|^Cflags: -I${includedir}|Cflags: -isystem ${includedir}|' \
    "$prefix/lib/pkgconfig/check.pc"
  echo "   $arch: check.pc: $(PKG_CONFIG_LIBDIR="$prefix/lib/pkgconfig" pkg-config --cflags --libs check)"
}

# run_abi ARCH BUILD: the abi scripts against the build's libraries.
run_abi() {
  local arch=$1 build=$2 t failed=0 out
  for t in needed exports self_calls sections cancel; do
    out=$(env LIBPROXYPROTO_SO="$build/lib/.libs/libproxyproto.so" \
      LIBPROXYPROTO_CONNECT_SO="$build/connect/.libs/libproxyproto_connect.so" \
      PP_BUILDDIR="$build" PP_SRCDIR="$src" PP_HELPERS="$build/tests/helpers" \
      bash "$src/tests/abi/$t.sh" 2>&1) && echo "   $arch abi $t: $(tail -n 1 <<<"$out")" || {
      sed 's/^/     /' <<<"$out"
      if [ "$t" = cancel ] && cancel_is_emulated "$arch" "$build" "$out"; then
        echo "   $arch abi $t: plain case not counted: here a program alone loses the cancellation in accept4() (see cancel_is_emulated)"
        emulated_cancel+=("$arch")
      else
        echo "   $arch abi $t: FAILED"
        failed=1
      fi
    }
  done
  return "$failed"
}

# run_checks ARCH BUILD: the Check programs, under qemu-user or natively.
run_checks() {
  local arch=$1 build=$2 p log failed=0
  for p in "${check_programs[@]}"; do
    log=$build/$(basename "$p").log
    if (cd "$build" && env LIBPROXYPROTO_SO="$build/lib/.libs/libproxyproto.so" \
        LIBPROXYPROTO_CONNECT_SO="$build/connect/.libs/libproxyproto_connect.so" \
        PP_HELPERS="$build/tests/helpers" PP_SRCDIR="$src" PP_BUILDDIR="$build" \
        CK_DEFAULT_TIMEOUT=180 timeout 900 "./$p") >"$log" 2>&1; then
      echo "   $arch $(basename "$p"): $(grep -a '^[0-9]*%: Checks' "$log" || echo ok)"
    else
      echo "   $arch $(basename "$p"): FAILED"
      grep -a -E ':[FE]:|Checks:' "$log" | head -n 30 | sed 's/^/     /'
      failed=1
    fi
  done
  return "$failed"
}

for arch in "${arches[@]}"; do
  t=$(triplet "$arch")
  build=$work/build-$arch
  mkdir -p "$build"
  targets=(lib/libproxyproto.la connect/libproxyproto_connect.la
    "${check_programs[@]}" tests/abi/cancel_accept tests/helpers/pp_server)
  # proxyproto-run is built wherever the architecture's libseccomp is a
  # package (not riscv64 in Debian 12). qemu-user has no seccomp: there the
  # stage checks that the launcher refuses to run a program unsupervised.
  config=(--enable-werror)
  if check_from_source "$arch"; then
    config+=(--disable-launcher)
  else
    targets+=(tools/proxyproto-run/proxyproto-run)
  fi
  [ "$arch" = i386 ] && targets=(all "check programs")
  pkgconfig="/usr/lib/$(multiarch "$arch")/pkgconfig:/usr/share/pkgconfig"
  unset QEMU_LD_PREFIX
  if check_from_source "$arch"; then
    step "$arch: Check from bookworm's source package, with $t-gcc"
    build_check "$arch" ||
      { failures+=("$arch: building Check"); table[$arch]="Check build FAILED"; continue; }
    pkgconfig="$work/check-$arch/lib/pkgconfig:$pkgconfig"
    # No libc6:ARCH: qemu finds the dynamic loader and the libraries in
    # the cross compiler's directory (for every ARCH program of the stage:
    # the Check programs, their helpers, cancel.sh's programs).
    export QEMU_LD_PREFIX=/usr/$t
  fi
  step "$arch: configure --host=$t $(time_flags "$arch")"
  (cd "$build" &&
    PKG_CONFIG_LIBDIR="$pkgconfig" \
      "$src/configure" --host="$t" "${config[@]}" \
      CPPFLAGS="$(time_flags "$arch")" CFLAGS="-O2 -g0" CXXFLAGS="-O2 -g0" \
      >configure.log 2>&1) ||
    { tail -n 30 "$build/configure.log"; failures+=("$arch: configure"); continue; }
  step "$arch: build ${targets[*]}"
  if [ "$arch" = i386 ]; then
    make -C "$build" -j2 >"$build/make.log" 2>&1 &&
      make -C "$build" -j2 check TESTS= >>"$build/make.log" 2>&1
  else
    make -C "$build" -j2 "${targets[@]}" >"$build/make.log" 2>&1
  fi || { tail -n 40 "$build/make.log"; failures+=("$arch: build"); table[$arch]="build FAILED"; continue; }
  step "$arch: Check programs$([ "$arch" = i386 ] || echo ' (qemu-user)')"
  if run_checks "$arch" "$build"; then checks=pass; else checks=FAIL; failures+=("$arch: Check programs"); fi
  step "$arch: abi scripts"
  if run_abi "$arch" "$build"; then abi=pass; else abi=FAIL; failures+=("$arch: abi scripts"); fi
  launcher=""
  if ! check_from_source "$arch" && [ "$arch" != i386 ]; then
    step "$arch: proxyproto-run under qemu-user refuses to run a program (126)"
    rc=0
    "$build/tools/proxyproto-run/proxyproto-run" /bin/true >"$build/launcher.log" 2>&1 || rc=$?
    sed 's/^/   /' "$build/launcher.log"
    if [ "$rc" = 126 ] && grep -q 'seccomp user notification is not available' "$build/launcher.log"; then
      launcher=", proxyproto-run built (126 under qemu-user)"
    else
      launcher=", proxyproto-run FAILED (status $rc under qemu-user, 126 expected)"
      failures+=("$arch: proxyproto-run under qemu-user")
    fi
  fi
  table[$arch]="build ok, Check programs $checks, abi scripts $abi$launcher"
done
unset QEMU_LD_PREFIX

if [[ " ${arches[*]} " == *" i386 "* ]] && [ -n "${table[i386]:-}" ] &&
  [[ "${table[i386]}" != *FAILED* ]]; then
  step "i386: integration tests preloading into i386 netcat and python3"
  bin=$work/i386-programs
  mkdir -p "$bin/deb"
  (cd "$bin/deb" && apt-get download -q netcat-openbsd:i386 python3.11-minimal:i386 >/dev/null)
  for deb in "$bin"/deb/*.deb; do dpkg-deb -x "$deb" "$bin/root"; done
  mkdir -p "$bin/path"
  ln -s "$bin/root/bin/nc.openbsd" "$bin/path/nc"
  ln -s "$bin/root/usr/bin/python3.11" "$bin/path/python3"
  file -L "$bin/path/nc" "$bin/path/python3" | sed 's/^/   /'
  # The scripts whose preloaded programs are netcat, python3 or the build's
  # own helpers (i386 too); HAProxy, an amd64 program, only sends. secure.sh
  # reads the auxiliary vector of an i386 setuid program.
  # i386_direct.sh: the i386 proxyproto-run supervising an i386 program.
  i386_tests="tests/integration/netcat.sh tests/integration/haproxy.sh
    tests/trust/allow.sh tests/trust/scope.sh tests/trust/secure.sh
    tests/api/connect_tlvs.sh tests/run/i386_direct.sh"
  if PATH="$bin/path:$PATH" make -C "$work/build-i386" -j2 check \
      TESTS="$(echo $i386_tests)" >"$work/i386-integration.log" 2>&1; then
    grep -E '^(PASS|FAIL|SKIP|ERROR|XFAIL)' "$work/i386-integration.log" | sed 's/^/   /'
    table[i386]="${table[i386]}, integration pass"
  else
    grep -E '^(PASS|FAIL|SKIP|ERROR|XFAIL)' "$work/i386-integration.log" | sed 's/^/   /'
    for log in "$work"/build-i386/tests/*/*.log; do
      grep -q '^:test-result: \(FAIL\|ERROR\)' "${log%.log}.trs" 2>/dev/null &&
        { echo "---- $log"; tail -n 40 "$log"; }
    done
    failures+=("i386: integration tests")
    table[i386]="${table[i386]}, integration FAIL"
  fi
fi

step "summary"
for arch in "${arches[@]}"; do
  printf '   %-8s %s\n' "$arch" "${table[$arch]:-not built}"
done
[ "${#emulated_cancel[@]}" -eq 0 ] ||
  echo "   cancel.sh's plain case not counted (accept4() loses cancellation here without the library too): ${emulated_cancel[*]}"
if [ "${#failures[@]}" -gt 0 ]; then
  printf '70-architectures: failed: %s\n' "${failures[@]}" >&2
  exit 1
fi
