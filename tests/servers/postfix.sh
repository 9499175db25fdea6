#!/bin/bash
# Postfix under the library, with no allow-list, as a new user would run it.
# Postfix's smtpd talks to its own services (anvil, proxymap, cleanup) over
# Unix sockets on which the service speaks first; the library must not wait
# there for a header, or every SMTP greeting comes LIBPROXYPROTO_TIMEOUT
# late. Checks, with a 3 s timeout:
#   - through libproxyproto_connect.so claiming 203.0.113.7:4321, the banner
#     arrives in under 1 s and smtpd logs the claimed client;
#   - behind HAProxy send-proxy-v2 with LIBPROXYPROTO_ALLOW=127.0.0.1, the
#     same, with the client's own loopback address and port.
# Postfix's master must run as root; it runs from a throwaway configuration
# on a free loopback port, logging to a file, and is stopped by its pid.
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"

PATH=$PATH:/usr/sbin:/sbin
require_env LIBPROXYPROTO_SO LIBPROXYPROTO_CONNECT_SO
require_tool postconf python3
pp_require_haproxy
daemons=$(postconf -h daemon_directory 2>/dev/null || true)
[ -x "$daemons/master" ] || require_tool postfix-master-missing
if [ "$(id -u)" -ne 0 ]; then
  [ "${CI:-}" = true ] && pp_fatal "Postfix's master needs root (CI=true: not skipping)"
  echo "# Postfix's master needs root: skipped"
  exit 77
fi
owner=$(postconf -h mail_owner)
id "$owner" >/dev/null 2>&1 || pp_fatal "Postfix's mail_owner '$owner' does not exist"

# postfix_start DIR PORT [ENV=VALUE...]: master -d from DIR, smtpd on PORT.
# The library reaches Postfix's daemons through import_environment: master
# starts each of them with a clean environment.
postfix_start() {
  local dir=$1 port=$2
  shift 2
  mkdir -p "$dir/spool/pid" "$dir/spool/private" "$dir/spool/public" "$dir/data"
  chown "$owner" "$dir/spool/private" "$dir/spool/public" "$dir/data"
  chmod 755 "$PP_TMP" "$dir"
  cat >"$dir/main.cf" <<EOF_MAIN
compatibility_level = 3.6
queue_directory = $dir/spool
data_directory = $dir/data
daemon_directory = $daemons
mail_owner = $owner
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = pp-test.invalid
mydestination =
alias_maps =
alias_database =
smtpd_banner = \$myhostname ESMTP
smtpd_client_port_logging = yes
smtpd_client_connection_count_limit = 10
maillog_file_prefixes = $dir
maillog_file = $dir/maillog
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C LD_PRELOAD
  LIBPROXYPROTO_TIMEOUT LIBPROXYPROTO_ALLOW ASAN_OPTIONS UBSAN_OPTIONS
EOF_MAIN
  cat >"$dir/master.cf" <<EOF_MASTER
127.0.0.1:$port inet n - n - - smtpd
anvil     unix  -       -       n       -       1       anvil
proxymap  unix  -       -       n       -       -       proxymap
rewrite   unix  -       -       n       -       -       trivial-rewrite
cleanup   unix  n       -       n       -       0       cleanup
postlog   unix-dgram n  -       n       -       1       postlogd
EOF_MASTER
  pp_bg_preloaded MASTER "$LIBPROXYPROTO_SO" 60 "$dir/master.out" \
    LIBPROXYPROTO_TIMEOUT=3000 "$@" -- "$daemons/master" -c "$dir" -d
  pp_wait_for_port "$port" "$MASTER" ||
    pp_fatal "Postfix did not start: $(cat "$dir/master.out.err" "$dir/maillog" 2>/dev/null)"
}

# smtp_greeting PORT: connects, times the banner, says QUIT; prints
# "MS BANNER".
smtp_greeting() {
  timeout 15 python3 - "$1" <<'PY'
import socket, sys, time
start = time.monotonic()
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
f = s.makefile("rb")
banner = f.readline().decode().strip()
ms = int((time.monotonic() - start) * 1000)
s.sendall(b"QUIT\r\n")
f.readline()
print(ms, banner)
PY
}

# expect_greeting LABEL RESULT MAILLOG CLIENT-REGEX
expect_greeting() {
  local label=$1 res=$2 log=$3 client=$4 ms
  echo "# $label: $res"
  ms=${res%% *}
  pp_expect_match "$label: the banner" "${res#* }" '^220 pp-test\.invalid ESMTP$'
  if [[ $ms =~ ^[0-9]+$ ]] && [ "$ms" -lt 1000 ]; then
    pp_ok "$label: the banner came in under 1 s (LIBPROXYPROTO_TIMEOUT=3000)"
  else
    pp_not_ok "$label: the banner came in under 1 s (LIBPROXYPROTO_TIMEOUT=3000; got '$res')"
  fi
  pp_wait_for_line "$log" "disconnect from " 5 || true
  pp_expect_match "$label: smtpd logs the client" \
    "$(grep -m1 'smtpd.*connect from ' "$log" 2>/dev/null || true)" "connect from $client"
}

# 1. No allow-list, the client through the connect library.
dir=$PP_TMP/direct
port=$(pp_free_port)
postfix_start "$dir" "$port"
res=$(LD_PRELOAD="$(pp_preload_value "$LIBPROXYPROTO_CONNECT_SO")" \
  LIBPROXYPROTO_ADDR=203.0.113.7 LIBPROXYPROTO_PORT=4321 smtp_greeting "$port" 2>&1 || true)
expect_greeting "no allow, connect library" "$res" "$dir/maillog" \
  'unknown\[203\.0\.113\.7\]:4321$'
pp_stop "$MASTER"
[ "$PP_FAIL" -eq 0 ] || pp_dump "$dir/maillog" "$dir/master.out.err"

# 2. Behind HAProxy send-proxy-v2, HAProxy trusted by address.
dir=$PP_TMP/haproxy
port=$(pp_free_port)
postfix_start "$dir" "$port" LIBPROXYPROTO_ALLOW=127.0.0.1
write_haproxy() {
  FRONT=$(pp_free_port)
  printf '\nlisten smtp\n    bind 127.0.0.1:%s\n    server postfix 127.0.0.1:%s send-proxy-v2\n' \
    "$FRONT" "$port"
}
pp_haproxy_start HPID write_haproxy || pp_fatal "HAProxy did not start: $(cat "$PP_HAPROXY_LOG")"
res=$(timeout 15 python3 - "$FRONT" <<'PY' 2>&1 || true
import socket, sys, time
start = time.monotonic()
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
f = s.makefile("rb")
banner = f.readline().decode().strip()
ms = int((time.monotonic() - start) * 1000)
port = s.getsockname()[1]
s.sendall(b"QUIT\r\n")
f.readline()
print(ms, banner, port)
PY
)
cport=${res##* }
expect_greeting "allow=127.0.0.1, behind HAProxy" "${res% *}" "$dir/maillog" \
  "localhost\\[127\\.0\\.0\\.1\\]:$cport\$|unknown\\[127\\.0\\.0\\.1\\]:$cport\$"
pp_stop "$HPID"
pp_stop "$MASTER"
[ "$PP_FAIL" -eq 0 ] || pp_dump "$dir/maillog" "$dir/master.out.err"
pp_finish
