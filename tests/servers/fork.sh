#!/bin/bash
# A forking server: the parent accept()s, a child per connection checks
# getpeername() (records must survive fork). 600 connections, as a fork
# each costs ~40 ms here (see flood_body.sh).
set -eu
N=${PP_FORK_CONNECTIONS:-600}
SERVER_ARGS=(--mode fork)
# shellcheck source=tests/servers/flood_body.sh
. "$(cd "$(dirname "$0")" && pwd)/flood_body.sh"
