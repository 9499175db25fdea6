#!/bin/bash
# configure's choice of flags, with a compiler driver that rejects one
# linker flag, as an older or unusual toolchain would:
#  - each hardening flag is probed on its own: one unsupported flag costs
#    only itself, the others stay;
#  - -z defs, which keeps the C++ runtime out of the preload libraries, is
#    mandatory: without it configure stops;
#  - -Werror reaches the C programs' flags only under --enable-werror.
# configure runs in a copy of the files it needs, outside the source tree
# (which may be configured already).
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"

require_env PP_SRCDIR
require_tool gcc g++ grep sed
[ -x "$PP_SRCDIR/configure" ] || pp_fatal "$PP_SRCDIR/configure not generated"

# A copy of what configure reads and writes from.
SRC=$PP_TMP/src
mkdir -p "$SRC"
(cd "$PP_SRCDIR" && cp --parents configure Makefile.in config.h.in \
  libproxyproto.pc.in rpm/libproxyproto.spec.in include/proxyproto_version.h.in \
  lib/core/proxy_header.h "$SRC"/ && cp -r build-aux "$SRC"/)
# A distcheck source tree is read-only, and so would the copy be.
chmod -R u+w "$SRC"
mkdir -p "$SRC/doc" && : >"$SRC/doc/libproxyproto.8" && : >"$SRC/doc/proxyproto.3"

# Drivers that fail any command line holding the flag in $PP_REJECT.
mkdir -p "$PP_TMP/bin"
for tool in gcc g++; do
  cat >"$PP_TMP/bin/$tool" <<WRAP
#!/bin/bash
for a in "\$@"; do
  if [ -n "\${PP_REJECT:-}" ] && [ "\$a" = "\$PP_REJECT" ]; then
    echo "$tool: unsupported option \$a" >&2
    exit 1
  fi
done
exec $(command -v $tool) "\$@"
WRAP
  chmod +x "$PP_TMP/bin/$tool"
done

# conf NAME REJECTED-FLAG [CONFIGURE-ARGS...]: configure in $PP_TMP/NAME;
# its exit status in $CONF_RC.
conf() {
  local name=$1 reject=$2
  shift 2
  mkdir -p "$PP_TMP/$name"
  CONF_RC=0
  # configure and its tools (dd among them) are no program under test: a
  # sanitizer build's runtime, preloaded for the tests, stays out of them.
  (cd "$PP_TMP/$name" && env -u LD_PRELOAD PP_REJECT="$reject" "$SRC/configure" \
    CC="$PP_TMP/bin/gcc" CXX="$PP_TMP/bin/g++" --disable-tests "$@" \
    >configure.out 2>&1) || CONF_RC=$?
}

# makevar NAME VAR: the variable's value in that build's Makefile.
makevar() {
  sed -n "s/^$2 = *//p" "$PP_TMP/$1/Makefile"
}

conf no-noexecstack -Wl,-z,noexecstack
pp_expect_eq "configure succeeds without -z noexecstack" "$CONF_RC" 0
ldflags=$(makevar no-noexecstack PP_LDFLAGS)
echo "# PP_LDFLAGS without -z noexecstack: $ldflags"
for flag in -Wl,-z,defs -Wl,-z,lazy -Wl,-z,relro -Wl,--as-needed; do
  case " $ldflags " in
    *" $flag "*) pp_ok "$flag kept when -z noexecstack is unsupported" ;;
    *) pp_not_ok "$flag kept when -z noexecstack is unsupported" ;;
  esac
done
case " $ldflags " in
  *" -Wl,-z,noexecstack "*) pp_not_ok "the unsupported -z noexecstack is left out" ;;
  *) pp_ok "the unsupported -z noexecstack is left out" ;;
esac

# The C programs' flags, without --enable-werror: no -Werror.
cflags=$(grep -E '^(tools_proxyproto_inspect|tests_api_[a-z0-9_]+)_CFLAGS = ' \
  "$PP_TMP/no-noexecstack/Makefile" || true)
[ -n "$cflags" ] || pp_fatal "no C program flags found in the Makefile"
if printf '%s\n' "$cflags" | grep -Eq -- '-Werror( |$)'; then
  pp_not_ok "C programs get no -Werror without --enable-werror"
  printf '%s\n' "$cflags" | sed 's/^/#   /'
else
  pp_ok "C programs get no -Werror without --enable-werror"
fi
pp_expect_eq "PP_CWERROR is empty without --enable-werror" \
  "$(makevar no-noexecstack PP_CWERROR)" ""

conf werror "" --enable-werror
pp_expect_eq "configure --enable-werror succeeds" "$CONF_RC" 0
pp_expect_eq "PP_CWERROR is -Werror under --enable-werror" \
  "$(makevar werror PP_CWERROR)" "-Werror"

conf no-defs -Wl,-z,defs
if [ "$CONF_RC" -ne 0 ] && grep -q 'does not accept -z defs' "$PP_TMP/no-defs/configure.out"; then
  pp_ok "configure stops when the linker lacks -z defs"
else
  pp_not_ok "configure stops when the linker lacks -z defs (exit $CONF_RC)"
  tail -n 3 "$PP_TMP/no-defs/configure.out" | sed 's/^/#   /'
fi

pp_finish
