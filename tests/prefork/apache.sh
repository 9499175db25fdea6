#!/bin/bash
# Apache 2.4 under the library with the prefork and the event MPM (several
# child processes accepting on one listener; a throwaway configuration in a
# temporary directory, started in the foreground as the test's child): late,
# split and silent clients are all answered in time with their own address
# (a response header from %{REMOTE_ADDR} %{REMOTE_PORT}), and Apache logged
# exactly one request per connection the clients opened.
# spid is set through pp_bg.
# shellcheck disable=SC2154
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/prefork/common.sh
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
require_tool apache2 awk
MODULES=/usr/lib/apache2/modules
echo "# $(apache2 -v 2>&1 | head -n1)"

run() {
  local name=$1 mpm=$2 dir=$PP_TMP/$1 port
  port=$(pp_free_port)
  mkdir -p "$dir/docs"
  chmod 755 "$PP_TMP" "$dir" "$dir/docs"
  cat >"$dir/apache2.conf" <<CONF
ServerRoot $dir
ServerName localhost
PidFile $dir/apache2.pid
DefaultRuntimeDir $dir
Mutex file:$dir default
Listen 127.0.0.1:$port
LoadModule mpm_${mpm}_module $MODULES/mod_mpm_${mpm}.so
LoadModule authz_core_module $MODULES/mod_authz_core.so
LoadModule headers_module $MODULES/mod_headers.so
User www-data
Group www-data
ErrorLog $dir/error.log
LogLevel info
LogFormat "%a %{remote}p \"%r\" %>s" pp
CustomLog $dir/access.log pp
DocumentRoot $dir/docs
StartServers 3
ServerLimit 4
$( [ "$mpm" = prefork ] && printf 'MinSpareServers 3\nMaxSpareServers 4\nMaxRequestWorkers 4\n' )
$( [ "$mpm" = event ] && printf 'MinSpareThreads 8\nMaxSpareThreads 64\nThreadsPerChild 16\nMaxRequestWorkers 64\n' )
KeepAlive Off
<Directory />
    Require all granted
</Directory>
Header always set X-Client "expr=client %{REMOTE_ADDR} %{REMOTE_PORT}"
CONF
  pp_bg spid timeout 90 env LD_PRELOAD="$PRELOAD" \
    LIBPROXYPROTO_TIMEOUT=$PF_TIMEOUT_MS APACHE_RUN_DIR="$dir" \
    apache2 -f "$dir/apache2.conf" -DFOREGROUND
  pp_wait_for_port "$port" "$spid" || pp_fatal "apache2 ($mpm) did not start: $(cat "$dir/error.log" 2>/dev/null)"
  # The children up before the first client.
  local end=$((SECONDS + 10)) pid
  until pid=$(cat "$dir/apache2.pid" 2>/dev/null) &&
    [ "$(pf_children "$pid")" -ge 3 ] || [ "$SECONDS" -ge "$end" ]; do
    sleep 0.05
  done
  echo "# $name: $(pf_children "$pid") child processes"
  pf_clients "$name" "$port" --silent 2
  sleep 0.3
  pp_stop "$spid"
  pf_expect_accepted "$name" "$(grep -c 'HTTP/1.0' "$dir/access.log" || true)"
  if [ "$PP_FAIL" -ne 0 ]; then tail -n 8 "$dir/error.log" | sed 's/^/#   /'; fi
}

run apache-prefork prefork
run apache-event event
pp_finish
