#!/bin/bash
# HAProxy in front of the servers under test (sourced by
# tests/lib/common.sh): one configuration skeleton, one bounded start.
#
#   pp_require_haproxy        haproxy, pgrep and nc; prints its version
#   pp_haproxy_global         the global section (noreuseport)
#   pp_haproxy_config WRITER  writes $PP_HAPROXY_CFG
#   pp_haproxy_start VAR-PID WRITER   starts it, bounded, retried on ports
#
# WRITER is the name of a function, run in the calling shell each time a
# configuration is written, that prints the test's own sections (listen,
# frontend, backend): it may pick fresh free ports and set variables.
# shellcheck disable=SC2034

PP_HAPROXY_TRIES=${PP_HAPROXY_TRIES:-5}
PP_HAPROXY_LIFETIME=${PP_HAPROXY_LIFETIME:-120}
PP_HAPROXY_CFG=
PP_HAPROXY_LOG=
PP_HAPROXY_READY_PORT=
PP_HAPROXY_UNSTARTED=0

# pp_require_haproxy: haproxy (in /usr/sbin, which a non-root PATH may
# lack), pgrep for the readiness check and netcat-openbsd for the clients.
pp_require_haproxy() {
  PATH=$PATH:/usr/sbin:/sbin
  require_tool haproxy nc timeout pgrep
  require_openbsd_nc
  echo "# $(haproxy -v 2>&1 | head -n1)"
}

# pp_haproxy_global: the global section of every test's HAProxy. Without
# noreuseport HAProxy binds with SO_REUSEPORT: two HAProxies of parallel
# tests (or two listeners of one configuration) given the same port by
# pp_free_port would both bind it and share its connections, so that a
# client or a probe meant for one reaches the other's backend. With it, the
# second bind fails and the test picks new ports.
pp_haproxy_global() {
  printf 'global\n    maxconn 64\n    noreuseport\n    log stderr format raw local0 err\n'
}

# pp_haproxy_config WRITER: $PP_TMP/haproxy.cfg with TCP defaults (5 s
# timeouts, errors logged to stderr), a readiness listener on a fresh free
# port that accepts connections and closes them at once (so that probing it
# never opens a connection to a server under test), then WRITER's sections.
pp_haproxy_config() {
  PP_HAPROXY_CFG=$PP_TMP/haproxy.cfg
  PP_HAPROXY_READY_PORT=$(pp_free_port)
  {
    pp_haproxy_global
    cat <<EOF_CFG

defaults
    mode tcp
    log global
    timeout connect 5s
    timeout client 5s
    timeout server 5s

listen ready
    bind 127.0.0.1:$PP_HAPROXY_READY_PORT
    tcp-request connection reject
EOF_CFG
    "$1"
  } >"$PP_HAPROXY_CFG"
  PP_HAPROXY_UNSTARTED=1
}

# pp_haproxy_start VAR-PID WRITER: starts haproxy -db on the configuration
# (the one pp_haproxy_config just wrote, or a new one), for at most
# $PP_HAPROXY_LIFETIME s, and waits (bounded by $PP_DEADLINE) until it
# listens on the readiness port, seen in /proc (pp_listens), not by a probe
# connection that could reach another process holding the port: HAProxy
# binds every listener before it serves any. When a port was taken meanwhile ("cannot bind"), it writes a new
# configuration with new ports and tries again, up to $PP_HAPROXY_TRIES
# times in all. Returns 1 if HAProxy did not start; its output is in
# $PP_HAPROXY_LOG.
pp_haproxy_start() {
  local __var=$1 __writer=$2 __try __hpid __end __up
  PP_HAPROXY_LOG=$PP_TMP/haproxy.log
  for ((__try = 1; __try <= PP_HAPROXY_TRIES; __try++)); do
    [ "$PP_HAPROXY_UNSTARTED" = 1 ] || pp_haproxy_config "$__writer"
    PP_HAPROXY_UNSTARTED=0
    pp_bg __hpid timeout "$PP_HAPROXY_LIFETIME" haproxy -db -f "$PP_HAPROXY_CFG" \
      >"$PP_HAPROXY_LOG" 2>&1
    __end=$((SECONDS + PP_DEADLINE))
    __up=1
    until pp_listens "$PP_HAPROXY_READY_PORT" "$__hpid"; do
      if ! kill -0 "$__hpid" 2>/dev/null || [ "$SECONDS" -ge "$__end" ]; then
        pp_stop "$__hpid"
        __up=0
        break
      fi
      sleep 0.05
    done
    if [ "$__up" = 1 ]; then
      printf -v "$__var" '%s' "$__hpid"
      return 0
    fi
    grep -qi 'cannot bind' "$PP_HAPROXY_LOG" || return 1
    echo "# haproxy could not bind a port (try $__try); trying other ports"
  done
  return 1
}
