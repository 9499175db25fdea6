#!/bin/bash
# gunicorn with 3 sync workers (each a select() loop over the shared
# non-blocking listener, then accept()) under the library, serving a tiny WSGI
# application that answers with REMOTE_ADDR and REMOTE_PORT: late, split and
# silent clients are all answered in time with their own address, and the
# access log holds exactly one request per connection the clients opened
# (with --log-level debug, gunicorn also logs every connection closed
# without a request: there must be none).
# spid is set through pp_bg.
# shellcheck disable=SC2154
set -eu
# shellcheck source=tests/lib/common.sh
. "$(cd "$(dirname "$0")/../lib" && pwd)/common.sh"
# shellcheck source=tests/prefork/common.sh
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
require_tool gunicorn python3
echo "# gunicorn $(gunicorn --version 2>&1 | sed 's/.*version //; s/)//')"

dir=$PP_TMP/gunicorn
mkdir -p "$dir"
port=$(pp_free_port)
# Sync workers serve one connection at a time: enough of them that the
# silent clients passed through at the timeout (each holding a worker until
# it speaks) leave room for the others.
pp_bg spid timeout 90 env LD_PRELOAD="$PRELOAD" \
  LIBPROXYPROTO_TIMEOUT=$PF_TIMEOUT_MS PYTHONDONTWRITEBYTECODE=1 \
  gunicorn --chdir "$PP_SRCDIR/tests/prefork" --workers 3 --worker-class sync \
  --bind "127.0.0.1:$port" --access-logfile "$dir/access.log" \
  --access-logformat 'access %(h)s "%(r)s" %(s)s' --log-level debug \
  --error-logfile "$dir/error.log" --pid "$dir/gunicorn.pid" wsgi_app:app
pp_wait_for_port "$port" "$spid" || pp_fatal "gunicorn did not start: $(cat "$dir/error.log" 2>/dev/null)"
end=$((SECONDS + 10))
until [ "$(grep -c 'Booting worker' "$dir/error.log" 2>/dev/null || true)" -ge 3 ] ||
  [ "$SECONDS" -ge "$end" ]; do sleep 0.05; done
pf_clients gunicorn "$port" --silent 2
sleep 0.3
pp_stop "$spid"
requests=$(grep -c '^access ' "$dir/access.log" || true)
premature=$(grep -c 'premature client disconnection\|Closing connection' "$dir/error.log" || true)
pf_expect_accepted gunicorn $((requests + premature))
pp_expect_eq "gunicorn: no connection closed without a request" "$premature" 0
if [ "$PP_FAIL" -ne 0 ]; then tail -n 8 "$dir/error.log" | sed 's/^/#   /'; fi
pp_finish
