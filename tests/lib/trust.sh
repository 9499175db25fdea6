#!/bin/bash
# The trust and scope tests' cases (sourced after tests/lib/common.sh).
#
# Each case starts pp_server under the library, sends one connection whose
# first bytes are a v1 header claiming 8.8.8.8 port 4321, and classifies
# what the application saw:
#   proxied  accept() reported 8.8.8.8 4321 (::ffff:8.8.8.8 on an IPv6
#            listener) and the data had no header
#   passed   the real peer was reported and the header bytes were data
#   dropped  the application never saw the connection (the library's debug
#            output says "dropped"); only for cases run with debug on
# shellcheck disable=SC2034,SC2154

require_env LIBPROXYPROTO_SO PP_HELPERS
require_tool nc timeout od
require_openbsd_nc
[ -x "$PP_HELPERS/pp_server" ] || pp_fatal "$PP_HELPERS/pp_server not built"

# "PROXY TCP4 8.8.8.8 127.0.0.1 4321 80\r\nhello"
TR_HEADER=$'PROXY TCP4 8.8.8.8 127.0.0.1 4321 80\r\nhello'
TR_PROXY_HEX=50524f5859  # "PROXY"

# The harness's own LIBPROXYPROTO_* paths would count as "the process asked
# for the library" (any LIBPROXYPROTO_* variable does): remove them from
# every server's environment, so that each case says exactly what it sets.
TR_CLEAN=(-u LIBPROXYPROTO_SO -u LIBPROXYPROTO_CONNECT_SO)

# tr_outcome FILE: proxied, passed, none or "other: LINE".
tr_outcome() {
  local line
  line=$(pp_conn_line "$1" "${2:-1}")
  case $line in
    "") echo none ;;
    *"accept=inet 8.8.8.8 4321 "*"data=68656c6c6f"*) echo proxied ;;
    # On an AF_INET6 listener the IPv4 source is reported IPv4-mapped.
    *"accept=inet6 ::ffff:8.8.8.8 4321 "*"data=68656c6c6f"*) echo proxied ;;
    *"data=$TR_PROXY_HEX"*) echo passed ;;
    *) echo "other: $line" ;;
  esac
}

# tr_send NAME PORT [SRC]: the header and "hello" over TCP to 127.0.0.1
# (or to ::1 when SRC is ::1), from SRC (default 127.0.0.1).
tr_send() {
  local name=$1 port=$2 src=${3:-127.0.0.1} host=127.0.0.1
  [ "$src" = ::1 ] && host=::1
  pp_run_client "$name" "$TR_HEADER" nc -N -s "$src" "$host" "$port"
}

# tr_case DESC WANT SRC [ENV=VALUE...] [-- SERVER-ARGS...]: one server, one
# connection from SRC; WANT is proxied, passed or dropped. For dropped, the
# server runs with LIBPROXYPROTO_DEBUG=1 added by the caller.
TR_N=0
tr_case() {
  local desc=$1 want=$2 src=$3 spid sport got out
  shift 3
  local -a envs=() args=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  args=("$@")
  TR_N=$((TR_N + 1))
  out="$PP_TMP/case$TR_N"
  pp_start_server spid sport "$out" "${TR_CLEAN[@]}" "${envs[@]}" -- \
    --count 1 "${args[@]}"
  tr_send "case$TR_N" "$sport" "$src"
  if [ "$want" = dropped ]; then
    if pp_wait_for_line "$out.err" 'dropped' 5 "$spid" &&
      [ "$(tr_outcome "$out")" = none ]; then
      pp_ok "$desc: dropped"
    else
      pp_not_ok "$desc: dropped"
      pp_dump "$out" "$out.err"
    fi
    pp_stop "$spid"
    return 0
  fi
  pp_wait_exit "$spid" || true
  got=$(tr_outcome "$out")
  pp_expect_eq "$desc" "$got" "$want"
  [ "$got" = "$want" ] || pp_dump "$out" "$out.err"
}
