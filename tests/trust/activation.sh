#!/bin/bash
# Whether the library acts in a process at all. /etc/ld.so.preload is
# simulated by preloading the library under another file name (a symlink),
# which, like the real thing, does not name libproxyproto.so in LD_PRELOAD:
# the process has not asked for the library. It must then stay inert unless
# `programs` names it; with `programs` set, only the named programs act.
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/lib/trust.sh
. "$PP_LIB_DIR/trust.sh"
require_env PP_SRCDIR PP_BUILDDIR

SYSTEM_WIDE="$PP_TMP/libsystemwide.so"
ln -s "$LIBPROXYPROTO_SO" "$SYSTEM_WIDE"
SHIPPED="$PP_SRCDIR/etc/libproxyproto.conf"
[ -f "$SHIPPED" ] || pp_fatal "$SHIPPED missing"

conf() {
  local f="$PP_TMP/$1.conf"
  shift
  printf '%s\n' "$@" >"$f"
  echo "$f"
}

# system_case DESC WANT [ENV...] [-- ARGS]: tr_case with the library loaded
# as if from /etc/ld.so.preload.
system_case() {
  LIBPROXYPROTO_SO=$SYSTEM_WIDE tr_case "system-wide: $1" "$2" 127.0.0.1 "${@:3}"
}

system_case "nothing asked, no file" passed
system_case "nothing asked, the shipped file" passed LIBPROXYPROTO_CONFIG="$SHIPPED"
f=$(conf named "programs = nginx, pp_server")
system_case "programs names pp_server" proxied LIBPROXYPROTO_CONFIG="$f"
f=$(conf other "programs = nginx")
system_case "programs names nginx only" passed LIBPROXYPROTO_CONFIG="$f"
# The name is taken at load time: a program that rewrites its argv[0] (its
# process title) later, as nginx does, is still the program named.
system_case "programs names pp_server, argv[0] rewritten before accept" proxied \
  LIBPROXYPROTO_CONFIG="$PP_TMP/named.conf" -- --retitle
system_case "LIBPROXYPROTO_PROGRAMS=pp_server overrides the file" proxied \
  LIBPROXYPROTO_CONFIG="$f" LIBPROXYPROTO_PROGRAMS=pp_server
system_case "asked by a variable (LIBPROXYPROTO_TIMEOUT)" proxied \
  LIBPROXYPROTO_TIMEOUT=3000
system_case "LIBPROXYPROTO_CONFIG alone is not asking" passed \
  LIBPROXYPROTO_CONFIG="$(conf empty "# nothing")"

# With `programs` set, asking is not enough: a process it does not name
# stays inert, and silent even with debug on.
tr_case "LD_PRELOAD names it, programs=nginx" passed 127.0.0.1 \
  LIBPROXYPROTO_CONFIG="$f" LIBPROXYPROTO_DEBUG=1
pp_expect_eq "LD_PRELOAD names it, programs=nginx: nothing on stderr" \
  "$(cat "$PP_TMP/case$TR_N.err")" ""
# A broken programs list keeps the library out and, in a process that
# asked for it, says so.
f=$(conf broken "programs = pp_server,,nginx")
tr_case "programs with an empty item" passed 127.0.0.1 \
  LIBPROXYPROTO_CONFIG="$f" LIBPROXYPROTO_DEBUG=1
pp_expect_eq "programs with an empty item: reported once" \
  "$(grep -c 'programs="pp_server,,nginx" is not a list of program names' "$PP_TMP/case$TR_N.err")" 1

# Asked by linking: the main program's DT_NEEDED names libproxyproto.so.0;
# no LD_PRELOAD, no variable.
mkdir "$PP_TMP/linked"
cp "$PP_BUILDDIR/tests/trust/pp_server_linked" "$PP_TMP/linked/pp_server"
linked_case() {
  PP_HELPERS="$PP_TMP/linked" LIBPROXYPROTO_SO="" tr_case "linked: $1" "$2" \
    127.0.0.1 "${@:3}"
}
linked_case "no variable" proxied
linked_case "programs=nginx" passed LIBPROXYPROTO_CONFIG="$f"

# The environment is captured at load time: a worker that clears its
# environment before accepting keeps the settings given to its master.
system_case "variable set, environment cleared before accept" proxied \
  LIBPROXYPROTO_TIMEOUT=3000 -- --clear-env
tr_case "allow=10.0.0.0/8, environment cleared before accept" passed 127.0.0.1 \
  LIBPROXYPROTO_ALLOW=10.0.0.0/8 -- --clear-env
tr_case "LIBPROXYPROTO_CONFIG, environment cleared before accept" passed 127.0.0.1 \
  LIBPROXYPROTO_CONFIG="$(conf deny "allow = 10.0.0.0/8")" -- --clear-env

# Common programs under the system-wide preload, with the shipped file
# and with a file naming them: no output of the library's, same status.
SH_TRUE=$(command -v true)
[ -x /bin/true ] && SH_TRUE=/bin/true
programs=(true ls sh)
command -v python3 >/dev/null && programs+=(python3)
named=$(conf named-tools "programs = true, ls, sh, python3" "debug = 0" "allow = 10.0.0.0/8")
for cfg in "$SHIPPED" "$named"; do
  for p in "${programs[@]}"; do
    case $p in
      true) cmd=("$SH_TRUE") ;;
      ls) cmd=(ls /) ;;
      sh) cmd=(sh -c 'echo hi; exit 3') ;;
      python3) cmd=(python3 -c 'print(1)') ;;
    esac
    rc=0
    timeout "$PP_DEADLINE" env "${TR_CLEAN[@]}" LC_ALL=C "${cmd[@]}" \
      >"$PP_TMP/$p.ref.out" 2>"$PP_TMP/$p.ref.err" || rc=$?
    rc2=0
    timeout "$PP_DEADLINE" env "${TR_CLEAN[@]}" LC_ALL=C LIBPROXYPROTO_CONFIG="$cfg" \
      LD_PRELOAD="$(pp_preload_value "$SYSTEM_WIDE")" "${cmd[@]}" >"$PP_TMP/$p.out" 2>"$PP_TMP/$p.err" || rc2=$?
    label="system-wide, $(basename "$cfg"): ${cmd[*]}"
    pp_expect_eq "$label: exit status" "$rc2" "$rc"
    pp_check "$label: same stdout" cmp -s "$PP_TMP/$p.ref.out" "$PP_TMP/$p.out"
    pp_check "$label: same stderr" cmp -s "$PP_TMP/$p.ref.err" "$PP_TMP/$p.err"
  done
done

pp_finish
