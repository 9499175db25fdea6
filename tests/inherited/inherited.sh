#!/bin/bash
# Connections accepted by a process that is not under the library, with
# only the service it starts under it: systemd-socket-activate --accept
# (the shape of systemd's Accept=yes sockets, with and without --inetd),
# ucspi-tcp's tcpserver and openbsd-inetd. The library reads the header
# when it loads, before the service's first line (inherited_reporter):
#   - the claimed address from getpeername() and in REMOTE_ADDR/REMOTE_PORT
#     or TCPREMOTEIP/TCPREMOTEPORT (TCPREMOTEHOST, the proxy's name, gone);
#     the service reads the client's data, never the header;
#   - a late header is waited for; plain data is passed on at once;
#   - under must-use, or with a malformed header, the service reads end of
#     file and the client sees the close;
#   - standard input of a process with no mark is left alone.
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"

PATH=$PATH:/usr/sbin:/sbin
require_env LIBPROXYPROTO_SO PP_INHERITED
require_tool systemd-socket-activate tcpserver python3
require_openbsd_nc
REPORTER=$PP_INHERITED/inherited_reporter
[ -x "$REPORTER" ] || pp_fatal "$REPORTER not built"
PRELOAD=$(pp_preload_value "$LIBPROXYPROTO_SO")
# systemd-socket-activate gives the service only the variables named with -E.
SANITIZERS=()
while read -r v; do [ -z "$v" ] || SANITIZERS+=(-E "$v"); done < <(pp_sanitizer_variables)
HEADER='PROXY TCP4 203.0.113.7 127.0.0.1 4321 80\r\n'

# ssa_start VAR-PID VAR-PORT [systemd-socket-activate options] -- SERVICE...
# systemd-socket-activate on a free port, accepting for the service.
ssa_start() {
  local __pidvar=$1 __portvar=$2 __try __port
  shift 2
  local -a opts=()
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  for __try in 1 2 3 4 5; do
    __port=$(pp_free_port)
    pp_bg SSA_PID timeout 60 systemd-socket-activate -l "127.0.0.1:$__port" --accept \
      "${SANITIZERS[@]}" "${opts[@]}" "$@" >"$PP_TMP/ssa.out" 2>"$PP_TMP/ssa.$__port.log"
    if pp_wait_for_line "$PP_TMP/ssa.$__port.log" "^Listening on 127\.0\.0\.1:$__port" 5 "$SSA_PID"; then
      printf -v "$__pidvar" "%s" "$SSA_PID"
      printf -v "$__portvar" '%s' "$__port"
      return 0
    fi
    pp_stop "$SSA_PID"
  done
  pp_fatal "systemd-socket-activate did not start: $(cat "$PP_TMP/ssa.$__port.log")"
}

# client NAME PORT FORMAT [DELAY]: sends printf FORMAT (after DELAY seconds)
# and keeps what comes back in $PP_TMP/NAME.out; the time to the answer in
# ms in CLIENT_MS.
client() {
  local start
  start=$(date +%s%N)
  { sleep "${4:-0}"; printf "$3"; sleep 0.2; } |
    timeout 10 nc -N 127.0.0.1 "$2" >"$PP_TMP/$1.out" 2>"$PP_TMP/$1.err" || true
  CLIENT_MS=$(( ($(date +%s%N) - start) / 1000000 ))
  echo "# $1: $(cat "$PP_TMP/$1.out") (${CLIENT_MS} ms)"
}

field() { tr ' ' '\n' <"$PP_TMP/$1.out" | sed -n "s/^$2=//p" | head -n1; }

# ---- systemd-socket-activate --accept --inetd, REMOTE_ADDR set ---------------
ssa_start spid port --inetd -E LD_PRELOAD="$PRELOAD" -E LIBPROXYPROTO_TIMEOUT=3000 \
  -E REMOTE_ADDR=127.0.0.1 -E REMOTE_PORT=1 -- "$REPORTER" 0
client claimed "$port" "${HEADER}hello\n"
pp_expect_eq "Accept=yes, inetd style: getpeername() is the claimed client" \
  "$(field claimed peer)" 203.0.113.7:4321
pp_expect_eq "Accept=yes, inetd style: REMOTE_ADDR is the claimed client" \
  "$(field claimed remote_addr)" 203.0.113.7
pp_expect_eq "Accept=yes, inetd style: REMOTE_PORT is the claimed port" \
  "$(field claimed remote_port)" 4321
pp_expect_eq "Accept=yes, inetd style: the service reads the client's data" \
  "$(field claimed data)" hello

client late "$port" "${HEADER}hello\n" 0.3
pp_expect_eq "Accept=yes: a header 300 ms late is waited for" "$(field late peer)" 203.0.113.7:4321
pp_expect_eq "Accept=yes: a late header's data" "$(field late data)" hello

client plain "$port" 'GET / HTTP/1.0\n'
pp_expect_match "Accept=yes: plain data, the real peer" "$(field plain peer)" '^127\.0\.0\.1:'
pp_expect_eq "Accept=yes: plain data reaches the service" "$(field plain data)" "GET"
if [ "$CLIENT_MS" -lt 1000 ]; then
  pp_ok "Accept=yes: plain data is passed on at once (LIBPROXYPROTO_TIMEOUT=3000)"
else
  pp_not_ok "Accept=yes: plain data is passed on at once (took $CLIENT_MS ms)"
fi
pp_stop "$spid"

# ---- Must-use and malformed headers: the service reads end of file ---------
ssa_start spid port --inetd -E LD_PRELOAD="$PRELOAD" -E LIBPROXYPROTO_TIMEOUT=3000 \
  -E LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER=1 -E REMOTE_ADDR=127.0.0.1 \
  -E REPORT_FILE="$PP_TMP/cut.reports" -- "$REPORTER" 0
client mustuse "$port" 'hello\n'
client malformed "$port" 'PROXY TCP4 203.0.113.7 nonsense\r\nhello\n'
client stillgood "$port" "${HEADER}hello\n"
pp_expect_eq "must-use, no header: the client sees the close, with no reply" \
  "$(cat "$PP_TMP/mustuse.out")" ""
pp_expect_eq "malformed header: the client sees the close, with no reply" \
  "$(cat "$PP_TMP/malformed.out")" ""
pp_expect_eq "must-use, no header and malformed: the service read end of file, no byte" \
  "$(grep -c ' data= eof=1$' "$PP_TMP/cut.reports" || true)" 2
pp_expect_eq "must-use: a client with a header is served" "$(field stillgood peer)" 203.0.113.7:4321
pp_stop "$spid"

# ---- LISTEN_FDS: the connection as descriptor 3, no REMOTE_ADDR -------------
ssa_start spid port -E LD_PRELOAD="$PRELOAD" -- "$REPORTER" 3
client listenfds "$port" "${HEADER}hello\n"
pp_expect_eq "LISTEN_FDS: getpeername(3) is the claimed client" \
  "$(field listenfds peer)" 203.0.113.7:4321
pp_expect_eq "LISTEN_FDS: the service reads the client's data" "$(field listenfds data)" hello
pp_stop "$spid"

# ---- No mark: standard input is left alone ----------------------------------
ssa_start spid port --inetd -E LD_PRELOAD="$PRELOAD" -- "$REPORTER" 0
client unmarked "$port" "${HEADER}hello\n"
pp_expect_match "no mark: standard input is untouched (the real peer)" \
  "$(field unmarked peer)" '^127\.0\.0\.1:'
pp_expect_match "no mark: the header stays the service's data" \
  "$(field unmarked data)" '^PROXY$'
pp_stop "$spid"
ssa_start spid port --inetd -E LD_PRELOAD="$PRELOAD" -E LIBPROXYPROTO_INETD=1 -- "$REPORTER" 0
client inetdmark "$port" "${HEADER}hello\n"
pp_expect_eq "LIBPROXYPROTO_INETD=1 marks it: the claimed client" \
  "$(field inetdmark peer)" 203.0.113.7:4321
pp_stop "$spid"
printf 'inetd = 1\n' >"$PP_TMP/inetd.conf"
ssa_start spid port --inetd -E LD_PRELOAD="$PRELOAD" -E LIBPROXYPROTO_CONFIG="$PP_TMP/inetd.conf" \
  -- "$REPORTER" 0
client inetdkey "$port" "${HEADER}hello\n"
pp_expect_eq "the configuration file's inetd key marks it: the claimed client" \
  "$(field inetdkey peer)" 203.0.113.7:4321
pp_stop "$spid"

# A program whose standard input is a socket it connected itself: started
# at once, the server's first line (which looks like a header) its own.
cat >"$PP_TMP/speaker.py" <<'PY'
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
c.sendall(b"PROXY TCP4 198.51.100.1 127.0.0.1 1 2\r\n")
c.recv(100)
PY
pp_bg kpid timeout 20 python3 -u "$PP_TMP/speaker.py" >"$PP_TMP/speaker.out"
pp_wait_for_line "$PP_TMP/speaker.out" '^[0-9]+$' 5 "$kpid" || pp_fatal "speaker did not start"
sport=$(head -n1 "$PP_TMP/speaker.out")
timeout 10 python3 -c '
import os, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
os.dup2(s.fileno(), 0)
os.execvpe(sys.argv[2], [sys.argv[2], "0"], dict(os.environ, LD_PRELOAD=sys.argv[3],
           LIBPROXYPROTO_TIMEOUT="3000", REPORT_FILE=sys.argv[4]))
' "$sport" "$REPORTER" "$PRELOAD" "$PP_TMP/own.report" || true
pp_expect_match "a client socket of its own on standard input: untouched" \
  "$(cat "$PP_TMP/own.report" 2>/dev/null || true)" \
  '^report peer=127\.0\.0\.1:[0-9]+ .* data=PROXY TCP4 198\.51\.100\.1 127\.0\.0\.1 1 2 eof=0$'
pp_stop "$kpid"

# ---- tcpserver, not under the library ----------------------------------------
for try in 1 2 3 4 5; do
  port=$(pp_free_port)
  # -v: "status: 0/N" once listening; -H -R -l 0: no DNS or ident
  # lookups. TCPREMOTEHOST, which tcpserver sets from DNS, is set here
  # for the service, as the proxy's name would be.
  pp_bg tpid timeout 60 tcpserver -v -H -R -l 0 127.0.0.1 "$port" \
    env LD_PRELOAD="$PRELOAD" TCPREMOTEHOST=proxy.example "$REPORTER" 0 \
    >"$PP_TMP/tcpserver.out" 2>"$PP_TMP/tcpserver.log"
  pp_wait_for_line "$PP_TMP/tcpserver.log" '^tcpserver: status: 0/' 5 "$tpid" && break
  pp_stop "$tpid"
done
client tcpserver "$port" "${HEADER}hello\n"
pp_expect_eq "tcpserver: getpeername(0) is the claimed client" \
  "$(field tcpserver peer)" 203.0.113.7:4321
pp_expect_eq "tcpserver: TCPREMOTEIP is the claimed client" "$(field tcpserver tcpremoteip)" 203.0.113.7
pp_expect_eq "tcpserver: TCPREMOTEPORT is the claimed port" "$(field tcpserver tcpremoteport)" 4321
pp_expect_eq "tcpserver: TCPREMOTEHOST (the proxy's name) is gone" \
  "$(field tcpserver tcpremotehost)" -
pp_expect_eq "tcpserver: the service reads the client's data" "$(field tcpserver data)" hello
pp_stop "$tpid"
[ "$PP_FAIL" -eq 0 ] || pp_dump "$PP_TMP"/ssa.*.log "$PP_TMP/tcpserver.log"
pp_finish
