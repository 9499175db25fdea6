#!/usr/bin/env python3
"""make bench: libproxyproto side by side with no proxy, go-mmproxy and
nginx's own PROXY support, and proxyproto-run (the launcher) with a
statically linked C server and a Go server (python3, standard library only).

Timed figures: every variant runs once per round, interleaved (A B C,
B C A, ...: each round starts one variant later), so that machine noise hits
them all alike; each is reported as the median over the rounds, and its
ratio to the no-proxy variant as the median of the per-round ratios. The
servers' own CPU time per operation is reported beside the rates, being
less disturbed by other load on the machine.

Deterministic figures, which machine noise does not change: system calls
per connection (strace -f -c over a fixed number of connections, server
side) and user-space instructions per connection (callgrind), each taken as
the slope between two connection counts so that start-up and exit cancel
out; and the same for processes that never accept a proxied connection
(an open/close loop and /bin/true start-up under LD_PRELOAD). Under
proxyproto-run, system calls per connection are counted apart for the
program and for the supervisor (strace -ff), and so is the supervisor's
share of one getpeername(), which the launcher traps.

Missing tools make their rows "skipped" with the reason; under CI=true a
missing tool fails the run instead.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

CI = os.environ.get("CI") == "true"

# Extra instructions per connection that --enforce would hold instead of
# a per-connection target while that target is open (never above what was
# last measured). Both targets (600 for v1, 300 for v2) are met, so both
# are enforced as they are: None.
CEILING_V1 = None
CEILING_V2 = None
# With connections parked on the listener, a proxied connection costs a
# little more than with none: accept() reads the listener's mark (which to
# ask first) in every call, and the call that finds the kernel's queue
# empty looks at the readiness descriptor once (doc/benchmark.md). The
# issue's target, enforced: the figure with 1,000 parked at most 1.10 times
# the figure with none, and no growth at all from 100 to 1,000 parked.
PARKED_RATIO = 1.10
PARKED_GROWTH = 0
# proxyproto-run's supervisor, counted (strace -ff, the launcher's own
# process, both its threads; static C echo server, v2 header,
# TCP_DEFER_ACCEPT, accept4() with no address): the system calls it makes
# per connection (14: the accepting call's NOTIF_RECV, kcmp, F_GETFL,
# accept4, two recvfrom for the header, SO_COOKIE, ADDFD and close; the
# EAGAIN call's NOTIF_RECV, kcmp, F_GETFL, accept4 and NOTIF_SEND), and
# per trapped getpeername() (8: NOTIF_RECV, pidfd_getfd, SO_COOKIE, close,
# process_vm_readv of *addrlen, ID_VALID, process_vm_writev, NOTIF_SEND).
# Ceilings a fraction above the figures, which miss a call now and then
# when the once-a-second housekeeping falls in one count only; lower them
# with the figures, never raise them.
LAUNCHER_SUPERVISOR_CEILING = 14.5
LAUNCHER_GETPEERNAME_CEILING = 8.5


# ---- Processes --------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=15.0):
    """Waits until something accepts on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("exited with status %s" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("port %d not open after %.0f s" % (port, timeout))


class Server:
    """A background process, stopped by its own pid (and its group)."""

    def __init__(self, name, argv, env=None, port=None, stdout_port=False,
                 cwd=None):
        self.name = name
        self.port = port
        full_env = dict(os.environ)
        full_env.pop("LD_PRELOAD", None)
        full_env.update(env or {})
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            argv, env=full_env, cwd=cwd, start_new_session=True,
            stdout=subprocess.PIPE if stdout_port else self.log,
            stderr=self.log)
        try:
            if stdout_port:
                line = self._read_line(10.0)
                # "listening N": the bench's own servers; "port N":
                # tests/run/go_server.go.
                m = re.match(r"(?:listening|port) (\d+)", line)
                if not m:
                    raise RuntimeError("no port line: %r" % line)
                self.port = int(m.group(1))
            else:
                wait_port(self.port, self.proc)
        except Exception as e:
            self.stop()
            raise RuntimeError("%s: %s; log: %s" % (name, e, self.log_text()))

    def _read_line(self, timeout):
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            raise RuntimeError("no output within %.0f s" % timeout)
        return self.proc.stdout.readline().decode(errors="replace")

    def cpu_ns(self):
        """CPU time used so far by every process of the server's session
        (nginx, beam.smp and its helpers, go-mmproxy's threads;
        proxyproto-run, which is the supervisor, and its program, which
        stays in the launcher's session): the sum of
        /proc/PID/task/TID/schedstat's first field, in nanoseconds."""
        total = 0
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % pid) as f:
                    stat = f.read()
                sid = int(stat.rsplit(")", 1)[1].split()[3])
                if sid != self.proc.pid:
                    continue
                for tid in os.listdir("/proc/%s/task" % pid):
                    with open("/proc/%s/task/%s/schedstat" % (pid, tid)) as f:
                        total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                continue
        return total

    def log_text(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-2000:]

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise RuntimeError("%s did not exit within %.0f s" % (self.name, timeout))

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def run_loadgen(cfg, port, mode, header, clients, seconds=None, count=None,
                size=None, delay_us=0):
    argv = [cfg.loadgen, "--port", str(port), "--mode", mode, "--header",
            header, "--clients", str(clients)]
    if delay_us:
        argv += ["--header-delay-us", str(delay_us)]
    if count is not None:
        argv.append("--lockstep")  # the same calls for every connection
    if count is not None:
        argv += ["--count", str(count)]
    else:
        argv += ["--seconds", str(seconds)]
    if size is not None:
        argv += ["--size", str(size)]
    limit = (seconds or 0) + 60 + (count or 0) / 20
    out = subprocess.run(argv, capture_output=True, text=True, timeout=limit)
    if out.returncode != 0:
        raise RuntimeError("pp_loadgen failed: %s" % out.stderr.strip())
    result = dict(kv.split("=", 1) for kv in out.stdout.split())
    return {k: (v if k == "mode" else float(v)) for k, v in result.items()}


class SilentClients:
    """Connections that send nothing, held open for as long as a server
    runs: parked by the library (its timeout made longer than the run).
    They come from 127.3.x.y, so that the measured connections' sources
    (pp_loadgen: 127.1.0.x) never run short of ports."""

    def __init__(self, port, count):
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < count + 256:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, count + 1024), hard))
        self.socks = []
        for i in range(count):
            s = socket.socket()
            s.bind(("127.3.%d.%d" % (i // 250, 1 + i % 250), 0))
            s.connect(("127.0.0.1", port))
            self.socks.append(s)

    def close(self):
        for s in self.socks:
            s.close()
        self.socks = []


def open_descriptors(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


def park_silent(server, count, defer_after_ms):
    """Opens `count` silent connections to a pp_echo_server started with
    --defer-accept-after-ms, waits until its process holds them (parked:
    accepted by the library, never by the application) and until its
    listener defers again, so that the measured connections are the usual
    ones. Returns the SilentClients to close after the run."""
    before = open_descriptors(server.proc.pid)
    started = time.monotonic()
    silent = SilentClients(server.port, count)
    deadline = time.monotonic() + 60
    while open_descriptors(server.proc.pid) < before + count:
        if time.monotonic() > deadline:
            silent.close()
            raise RuntimeError("%d silent connections not parked: %d descriptors" % (
                count, open_descriptors(server.proc.pid)))
        time.sleep(0.05)
    left = defer_after_ms / 1000.0 - (time.monotonic() - started) + 0.3
    if left > 0:
        time.sleep(left)
    return silent


# ---- Configuration -----------------------------------------------------------

class Config:
    def __init__(self, args):
        b = os.path.abspath(args.builddir)
        self.quick = args.quick
        self.lib = args.library or os.path.join(b, "lib/.libs/libproxyproto.so")
        self.loadgen = os.path.join(b, "tests/bench/pp_loadgen")
        self.echo = os.path.join(b, "tests/bench/pp_echo_server")
        self.preload_cost = os.path.join(b, "tests/bench/pp_preload_cost")
        self.echo_erl = os.path.join(args.srcdir, "tests/bench/echo.erl")
        for path in self.lib.split(":") + [self.loadgen, self.echo, self.preload_cost]:
            if not os.path.exists(path):
                sys.exit("bench: %s is missing; run make bench-programs" % path)
        # proxyproto-run's rows: `make bench` passes the build's launcher, or
        # "none" when configure did not build it (--disable-launcher), the
        # one case where they are skipped rather than failed under CI.
        self.launcher = None
        self.launcher_off = None   # why its rows are skipped
        launcher = args.launcher or os.path.join(b, "tools/proxyproto-run/proxyproto-run")
        if launcher == "none":
            self.launcher_off = "proxyproto-run not built (configure --disable-launcher)"
        elif not os.path.exists(launcher):
            self.launcher_off = "%s is missing" % launcher
        else:
            self.launcher = os.path.abspath(launcher)
            self.echo_static = os.path.join(b, "tests/bench/pp_echo_server_static")
            self.peer_cost = os.path.join(b, "tests/bench/pp_getpeername_cost")
            self.peer_cost_static = os.path.join(b, "tests/bench/pp_getpeername_cost_static")
            for path in (self.echo_static, self.peer_cost, self.peer_cost_static):
                if not os.path.exists(path):
                    sys.exit("bench: %s is missing; run make bench-programs" % path)
        self.go_server_src = os.path.join(args.srcdir, "tests/run/go_server.go")
        # Go's build cache, kept in the build tree (removed by make clean)
        # so that only the first run compiles the standard library.
        self.gocache = os.path.join(b, "tests/bench/gocache")
        self.go_echo = None        # built by build_go_echo()
        q = args.quick
        self.rounds = args.rounds or (1 if q else 10)
        self.seconds = args.seconds or (0.3 if q else 1.0)
        self.short_clients = 8
        self.long_clients = 50
        self.long_size = 4096
        # strace and callgrind: the slope between two connection counts.
        self.trace_counts = (50, 150) if q else (200, 1000)
        self.grind_counts = (20, 60) if q else (100, 500)
        self.preload_rounds = 1 if q else 11
        # getpeername() under the launcher: calls per timed run (ten times
        # as many for the kernel's and the library's, a hundred times
        # quicker), rounds (interleaved), and the two counts of the strace
        # slope.
        self.peer_calls = 10000 if q else 20000
        self.peer_rounds = 1 if q else 5
        self.peer_trace_counts = (500, 1500) if q else (1000, 5000)
        self.openclose_n = 20000 if q else 50000
        self.spawn_n = 10 if q else 50
        self.tmp = tempfile.mkdtemp(prefix="pp-bench-")
        self.skipped = {}   # section or variant -> reason
        self.silent = []    # SilentClients held while their servers run
        self.missing_tools = []

    def skipped_reason(self, name):
        """Why a count is missing: its tool's skip reason."""
        if name.startswith("proxyproto-run"):
            keys = ("proxyproto-run", "launcher system calls")
        elif "system calls" in name:
            keys = ("syscalls", "preload system calls")
        else:
            keys = ("instructions", "preload instructions")
        return "; ".join(self.skipped[k] for k in keys if k in self.skipped) or "not run"

    def have(self, tool, what):
        if shutil.which(tool):
            return True
        self.missing_tools.append(tool)
        self.skipped[what] = "%s is not installed" % tool
        return False


# ---- go-mmproxy's policy routing on loopback ---------------------------------

class MmproxyRouting:
    """The two rules go-mmproxy's README asks for, added only if absent and
    removed afterwards: replies to the spoofed 127.0.0.0/8 sources come
    back through lo to the local stack."""

    TABLE = "7123"
    RULE = ["from", "127.0.0.1/8", "iif", "lo", "table", TABLE]
    ROUTE = ["local", "0.0.0.0/0", "dev", "lo", "table", TABLE]

    def __init__(self):
        self.added_rule = self.added_route = False

    def setup(self):
        if os.geteuid() != 0:
            return "not root: go-mmproxy needs CAP_NET_ADMIN and policy routing"
        if not shutil.which("ip"):
            return "ip (iproute2) is not installed"
        rules = subprocess.run(["ip", "rule", "show"], capture_output=True,
                               text=True).stdout
        if "lookup %s" % self.TABLE not in rules:
            r = subprocess.run(["ip", "rule", "add"] + self.RULE,
                               capture_output=True, text=True)
            if r.returncode != 0:
                return "ip rule add failed: %s" % r.stderr.strip()
            self.added_rule = True
        r = subprocess.run(["ip", "route", "add"] + self.ROUTE,
                           capture_output=True, text=True)
        if r.returncode == 0:
            self.added_route = True
        elif "File exists" not in r.stderr:
            return "ip route add failed: %s" % r.stderr.strip()
        return None

    def teardown(self):
        if self.added_route:
            subprocess.run(["ip", "route", "del"] + self.ROUTE,
                           capture_output=True)
        if self.added_rule:
            subprocess.run(["ip", "rule", "del"] + self.RULE,
                           capture_output=True)
        self.added_rule = self.added_route = False


# ---- Servers of the timed runs -----------------------------------------------

def nginx_conf(cfg, name, port, proxy_protocol, deferred=True):
    prefix = os.path.join(cfg.tmp, name)
    os.makedirs(prefix, exist_ok=True)
    listen = "127.0.0.1:%d%s%s" % (port, " deferred" if deferred else "",
                                   " proxy_protocol" if proxy_protocol else "")
    conf = os.path.join(prefix, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""daemon off;
master_process off;
worker_processes 1;
pid %(p)s/nginx.pid;
error_log stderr error;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path %(p)s/body;
    server {
        listen %(listen)s backlog=4096;
        location / { return 200 "hello\\n"; }
    }
}
""" % {"p": prefix, "listen": listen})
    return ["nginx", "-p", prefix + "/", "-e", "stderr", "-c", conf]


# proxyproto-run's servers, skipped together when there is no launcher or
# no Go.
LAUNCHER_STATIC_SERVERS = ("static echo", "static echo+run")
LAUNCHER_GO_SERVERS = ("Go echo", "Go echo+run", "go-mmproxy to Go")


def build_go_echo(cfg):
    """Builds tests/run/go_server.go (CGO_ENABLED=0: static, as the
    launcher's Go programs are) into the run's temporary directory; its echo
    mode is the Go server of the launcher's rows. Returns its path, or None
    with the reason in cfg.skipped."""
    if cfg.go_echo:
        return cfg.go_echo
    if not cfg.have("go", "Go echo"):
        for name in LAUNCHER_GO_SERVERS:
            cfg.skipped[name] = "go is not installed"
        return None
    out = os.path.join(cfg.tmp, "go_server")
    env = dict(os.environ, GOCACHE=cfg.gocache, GOPATH=os.path.join(cfg.tmp, "gopath"),
               GO111MODULE="off", GOFLAGS="", CGO_ENABLED="0")
    built = subprocess.run(["go", "build", "-o", out, cfg.go_server_src], cwd=cfg.tmp,
                           env=env, capture_output=True, text=True, timeout=600)
    if built.returncode != 0:
        for name in LAUNCHER_GO_SERVERS:
            cfg.skipped[name] = "go build of go_server.go failed: " + built.stderr.strip()
        cfg.missing_tools.append("go (build failed)")
        return None
    cfg.go_echo = out
    return out


def start_servers(cfg, routing):
    """Starts every server the variants need; returns name -> Server."""
    servers = {}
    preload = {"LD_PRELOAD": cfg.lib}

    def start(name, *a, **kw):
        try:
            servers[name] = Server(name, *a, **kw)
        except RuntimeError as e:
            cfg.skipped[name] = str(e)

    # proxyproto-run: the static echo server with TCP_DEFER_ACCEPT, like
    # the library's rows and go-mmproxy's backend; the Go echo server
    # without it (net.Listen cannot set it), so the Go rows are compared
    # with one another only, all accepting at once.
    go_echo = None
    if cfg.launcher:
        start("static echo", [cfg.echo_static, "--defer-accept"], stdout_port=True)
        start("static echo+run", [cfg.launcher, "--", cfg.echo_static, "--defer-accept"],
              stdout_port=True)
        go_echo = build_go_echo(cfg)
        if go_echo:
            start("Go echo", [go_echo, "echo"], stdout_port=True)
            start("Go echo+run", [cfg.launcher, "--", go_echo, "echo"], stdout_port=True)
    else:
        for name in LAUNCHER_STATIC_SERVERS + LAUNCHER_GO_SERVERS:
            cfg.skipped[name] = cfg.launcher_off

    start("echo", [cfg.echo, "--defer-accept"], stdout_port=True)
    start("echo+lib", [cfg.echo, "--defer-accept"], env=preload,
          stdout_port=True)
    # The late workloads: no TCP_DEFER_ACCEPT, so that accept() comes before
    # the header and the library parks every connection.
    start("echo, accepting at once", [cfg.echo], stdout_port=True)
    start("echo+lib, accepting at once", [cfg.echo], env=preload, stdout_port=True)
    # The usual workload beside silent connections parked on the same
    # listener for the whole run (see park_silent).
    for n in PARKED_COUNTS:
        name = "echo+lib, %d parked" % n
        start(name, [cfg.echo, "--defer-accept-after-ms", str(DEFER_AFTER_MS)],
              env=dict(preload, LIBPROXYPROTO_TIMEOUT=PARKED_TIMEOUT_MS),
              stdout_port=True)
        if name in servers:
            try:
                cfg.silent.append(park_silent(servers[name], n, DEFER_AFTER_MS))
            except (RuntimeError, OSError) as e:
                cfg.skipped[name] = str(e)
                servers.pop(name).stop()
    if cfg.have("go-mmproxy", "go-mmproxy"):
        reason = routing.setup()
        if reason:
            cfg.skipped["go-mmproxy"] = reason
            cfg.skipped.setdefault("go-mmproxy to Go", reason)
        else:
            start("echo-backend", [cfg.echo, "--defer-accept"],
                  stdout_port=True)
            if "echo-backend" in servers:
                port = free_port()
                start("go-mmproxy", ["go-mmproxy", "-l", "127.0.0.1:%d" % port,
                                     "-4", "127.0.0.1:%d" % servers["echo-backend"].port,
                                     "-v", "0"], port=port)
            # In front of the Go echo server, for the Go launcher row.
            if go_echo:
                start("Go echo backend", [go_echo, "echo"], stdout_port=True)
            if "Go echo backend" in servers:
                port = free_port()
                start("go-mmproxy to Go", ["go-mmproxy", "-l", "127.0.0.1:%d" % port,
                                           "-4", "127.0.0.1:%d" % servers["Go echo backend"].port,
                                           "-v", "0"], port=port)
    else:
        cfg.skipped.setdefault("go-mmproxy to Go", cfg.skipped["go-mmproxy"])
    if cfg.have("erl", "erlang") and cfg.have("erlc", "erlang"):
        out = subprocess.run(["erlc", "-o", cfg.tmp, cfg.echo_erl],
                             capture_output=True, text=True)
        if out.returncode != 0:
            cfg.skipped["erlang"] = "erlc failed: " + out.stderr.strip()
        else:
            for name, env in (("erlang", None), ("erlang+lib", preload)):
                port = free_port()
                start(name, ["erl", "-noshell", "-pa", cfg.tmp, "-eval",
                             "echo:start(%d)" % port], env=env, port=port)
    if cfg.have("nginx", "nginx"):
        for name, pp, env, deferred in (
                ("nginx", False, None, True),
                ("nginx proxy_protocol", True, None, True),
                ("nginx+lib", False, preload, True),
                ("nginx, accepting at once", False, None, False),
                ("nginx proxy_protocol, accepting at once", True, None, False),
                ("nginx+lib, accepting at once", False, preload, False)):
            port = free_port()
            start(name, nginx_conf(cfg, name.replace(" ", "-").replace(",", ""), port, pp,
                                   deferred),
                  env=env, port=port)
    return servers


# (workload, variant label, server, header, baseline label)
VARIANTS = [
    ("short", "no proxy", "echo", "none", None),
    ("short", "libproxyproto v1", "echo+lib", "v1", "no proxy"),
    ("short", "libproxyproto v2", "echo+lib", "v2", "no proxy"),
    ("short", "go-mmproxy (v2)", "go-mmproxy", "v2", "no proxy"),
    ("long", "no proxy", "echo", "none", None),
    ("long", "libproxyproto v1", "echo+lib", "v1", "no proxy"),
    ("long", "libproxyproto v2", "echo+lib", "v2", "no proxy"),
    ("long", "go-mmproxy (v2)", "go-mmproxy", "v2", "no proxy"),
    ("long", "erlang, no proxy", "erlang", "none", None),
    ("long", "erlang + libproxyproto v1", "erlang+lib", "v1", "erlang, no proxy"),
    ("http", "nginx, no proxy", "nginx", "none", None),
    ("http", "nginx proxy_protocol (v2)", "nginx proxy_protocol", "v2", "nginx, no proxy"),
    ("http", "nginx + libproxyproto v2", "nginx+lib", "v2", "nginx, no proxy"),
    ("short", "libproxyproto v2, 100 parked", "echo+lib, 100 parked", "v2", "no proxy"),
    ("short", "libproxyproto v2, 1000 parked", "echo+lib, 1000 parked", "v2", "no proxy"),
    ("late 0.3 ms", "no proxy", "echo, accepting at once", "none", None),
    ("late 0.3 ms", "libproxyproto v2", "echo+lib, accepting at once", "v2", "no proxy"),
    ("late 2 ms", "no proxy", "echo, accepting at once", "none", None),
    ("late 2 ms", "libproxyproto v2", "echo+lib, accepting at once", "v2", "no proxy"),
    ("http late 0.3 ms", "nginx, no proxy", "nginx, accepting at once", "none", None),
    ("http late 0.3 ms", "nginx proxy_protocol (v2)", "nginx proxy_protocol, accepting at once",
     "v2", "nginx, no proxy"),
    ("http late 0.3 ms", "nginx + libproxyproto v2", "nginx+lib, accepting at once", "v2",
     "nginx, no proxy"),
    # proxyproto-run (see LAUNCHER_COMPARISONS): the static echo server with
    # TCP_DEFER_ACCEPT as above; the Go rows all accept at once.
    ("short", "static echo, no proxy", "static echo", "none", None),
    ("short", "static echo + proxyproto-run v1", "static echo+run", "v1",
     "static echo, no proxy"),
    ("short", "static echo + proxyproto-run v2", "static echo+run", "v2",
     "static echo, no proxy"),
    ("short", "Go echo, no proxy", "Go echo", "none", None),
    ("short", "Go echo + proxyproto-run v2", "Go echo+run", "v2", "Go echo, no proxy"),
    ("short", "Go echo behind go-mmproxy (v2)", "go-mmproxy to Go", "v2", "Go echo, no proxy"),
]

# go-mmproxy's variants count their backend's CPU too.
PROXY_BACKENDS = {"go-mmproxy": "echo-backend", "go-mmproxy to Go": "Go echo backend"}

# The launcher's rows side by side: (server, launcher variant, its no-proxy
# variant, the dynamic C server under the library, go-mmproxy's variant).
# The Go server has no library row: LD_PRELOAD cannot reach a static Go
# program, which is what the launcher is for.
LAUNCHER_COMPARISONS = [
    ("static C echo", "static echo + proxyproto-run v2", "static echo, no proxy",
     "libproxyproto v2", "go-mmproxy (v2)"),
    ("static C echo", "static echo + proxyproto-run v1", "static echo, no proxy",
     "libproxyproto v1", None),
    ("Go echo", "Go echo + proxyproto-run v2", "Go echo, no proxy", None,
     "Go echo behind go-mmproxy (v2)"),
]
# The goals for the launcher, short connections (timed, never
# enforced): conn/s at least this fraction of no proxy, and at least this
# many times go-mmproxy's.
LAUNCHER_GOAL_OF_NO_PROXY = 0.8
LAUNCHER_GOAL_OVER_MMPROXY = 2.0

# Workloads beyond the three above: the header and request sent this many
# microseconds after the handshake (a balancer that sends the header with
# the client's first data), from more clients, since each spends most of
# its time waiting: (pp_loadgen mode, delay in us, clients).
LATE_WORKLOADS = {
    "late 0.3 ms": ("short", 300, 64),
    "late 2 ms": ("short", 2000, 64),
    "http late 0.3 ms": ("http", 300, 64),
}
# Silent connections parked on the listener of the usual workload, held
# (LIBPROXYPROTO_TIMEOUT an hour) while the measured connections come.
PARKED_COUNTS = (100, 1000)
PARKED_TIMEOUT_MS = "3600000"
DEFER_AFTER_MS = 2000


def timed_runs(cfg, servers):
    """Runs every variant once per round, interleaved; returns
    {(workload, label): [result per round]}."""
    results = {}
    active = [v for v in VARIANTS if v[2] in servers]
    for v in VARIANTS:
        if v[2] not in servers:
            results[(v[0], v[1])] = None
    # A short warm-up of each server, not measured.
    def cpu(server):
        names = [server] + ([PROXY_BACKENDS[server]] if server in PROXY_BACKENDS else [])
        return sum(servers[n].cpu_ns() for n in names)

    def load(workload, port, header, seconds, warm=False):
        if workload in LATE_WORKLOADS:
            mode, delay, clients = LATE_WORKLOADS[workload]
            return run_loadgen(cfg, port, mode, header, 4 if warm else clients,
                               seconds=seconds, delay_us=delay)
        if workload == "long":
            return run_loadgen(cfg, port, "long", header, 4 if warm else cfg.long_clients,
                               seconds=seconds, size=cfg.long_size)
        return run_loadgen(cfg, port, workload, header, 4 if warm else cfg.short_clients,
                           seconds=seconds)

    for workload, label, server, header, _ in active:
        load(workload, servers[server].port, header, 0.2, warm=True)
    for r in range(cfg.rounds):
        print("bench: round %d of %d" % (r + 1, cfg.rounds), flush=True)
        # Each round starts one variant later (A B C, B C A, ...), so that
        # no variant always runs first or always follows the same one.
        k = r % len(active) if active else 0
        for workload, label, server, header, _ in active[k:] + active[:k]:
            port = servers[server].port
            cpu0 = cpu(server)
            res = load(workload, port, header, cfg.seconds)
            # Server CPU per operation: much less sensitive than the rate to
            # other load on the machine (it counts only the server's work).
            res["cpu_us"] = (cpu(server) - cpu0) / 1000 / max(res["done"], 1)
            results.setdefault((workload, label), []).append(res)
    return results


# ---- Deterministic figures -------------------------------------------------

def parse_strace_counts(path):
    """strace -c output -> {syscall: calls}, errors included."""
    counts = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 5 and parts[-1] != "total" and re.match(r"^[\d.]+$", parts[0]):
                # % time, seconds, usecs/call, calls, [errors], syscall
                counts[parts[-1]] = int(parts[3])
    return counts


def strace_echo(cfg, preload, header, defer, n, delay_us=0):
    out = os.path.join(cfg.tmp, "strace-%d.txt" % n)
    argv = ["strace", "-f", "-c", "-o", out]
    if preload:
        argv += ["-E", "LD_PRELOAD=" + cfg.lib]
    argv += [cfg.echo, "--max-conns", str(n)] + (["--defer-accept"] if defer else [])
    srv = Server("strace echo", argv, stdout_port=True)
    try:
        run_loadgen(cfg, srv.port, "short", header, 1, count=n, delay_us=delay_us)
        srv.wait(60)
    finally:
        srv.stop()
    return parse_strace_counts(out)


# The late path, counted: the header 5 ms after the handshake (strace) or
# 20 ms (callgrind, which slows the server some fifty times), so that the
# server has surely accepted the connection and looked at it, empty, before
# the header comes: every connection takes the late path.
LATE_TRACE_DELAY_US = 5000
LATE_GRIND_DELAY_US = 20000


def syscall_slope(cfg, preload, header, defer, delay_us=0):
    n1, n2 = cfg.trace_counts
    if delay_us:  # each connection takes a few ms: fewer of them
        n1, n2 = n1 // 4, n2 // 4
    c1 = strace_echo(cfg, preload, header, defer, n1, delay_us)
    c2 = strace_echo(cfg, preload, header, defer, n2, delay_us)
    names = set(c1) | set(c2)
    return {k: (c2.get(k, 0) - c1.get(k, 0)) / (n2 - n1) for k in names}


def syscall_figures(cfg):
    if not cfg.have("strace", "syscalls"):
        return None
    rows = {}
    for label, preload, header in (("no proxy", False, "none"),
                                   ("libproxyproto v1", True, "v1"),
                                   ("libproxyproto v2", True, "v2")):
        for defer in (True, False):
            rows[(label, defer)] = syscall_slope(cfg, preload, header, defer)
    for label, preload, header in (("no proxy", False, "none"),
                                   ("libproxyproto v2", True, "v2")):
        rows[(label, "late")] = syscall_slope(cfg, preload, header, False,
                                              LATE_TRACE_DELAY_US)
    return rows


# ---- proxyproto-run, counted -------------------------------------------------

STRACE_CALL = re.compile(r"^([a-z_0-9]+)\(")


STRACE_THREAD = re.compile(r"^clone3?\(.*CLONE_THREAD.*\)\s+=\s+(\d+)")


def traced_calls(cfg, out):
    """The calls strace -ff -o OUT/tr wrote, one file per thread (OUT/tr.TID):
    (supervisor, program), each {syscall: calls}. The supervisor is the
    launcher's process: the thread whose trace starts with the launcher's
    execve, and the threads it starts (clone with CLONE_THREAD: its
    notification thread); the program is every other (its threads, its
    children). Without the launcher the supervisor's is empty."""
    supervisor, program = {}, {}
    mark = 'execve("%s"' % cfg.launcher
    traces = {}
    for name in os.listdir(out):
        with open(os.path.join(out, name)) as f:
            traces[name.rsplit(".", 1)[-1]] = f.read().splitlines()
    ours = {tid for tid, lines in traces.items() if lines and lines[0].startswith(mark)}
    for tid in list(ours):
        for line in traces[tid]:
            m = STRACE_THREAD.match(line)
            if m:
                ours.add(m.group(1))
    for tid, lines in traces.items():
        counts = supervisor if tid in ours else program
        for line in lines:
            m = STRACE_CALL.match(line)
            if m:
                counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    return supervisor, program


def strace_processes(cfg, tag, argv, header, n, exits_by_itself):
    """Runs argv (the launcher and its program, or a program alone) under
    strace -ff, serves n connections (1 client, lockstep) and returns
    traced_calls(). A program that does not exit after n connections (the
    Go server) gets SIGTERM, through the launcher, once they are served:
    what that costs is the same at both counts."""
    out = os.path.join(cfg.tmp, "strace-%s-%d" % (tag, n))
    os.makedirs(out)
    srv = Server("strace " + tag, ["strace", "-ff", "-o", os.path.join(out, "tr")] + argv,
                 stdout_port=True)
    try:
        run_loadgen(cfg, srv.port, "short", header, 1, count=n)
        if not exits_by_itself:
            with open("/proc/%d/task/%d/children" % (srv.proc.pid, srv.proc.pid)) as f:
                os.kill(int(f.read().split()[0]), signal.SIGTERM)
        srv.wait(60)
    finally:
        srv.stop()
    return traced_calls(cfg, out)


def slope(c1, c2, n1, n2):
    return {k: (c2.get(k, 0) - c1.get(k, 0)) / (n2 - n1) for k in set(c1) | set(c2)}


def launcher_syscall_slope(cfg, server, header, launched):
    """System calls per connection of `server` ("static" or "Go"), with or
    without the launcher: (supervisor, program), each {syscall: calls},
    as the slope between cfg.trace_counts connections."""
    n1, n2 = cfg.trace_counts
    runs = []
    for n in (n1, n2):
        if server == "static":
            argv = [cfg.echo_static, "--defer-accept", "--max-conns", str(n)]
        else:
            argv = [cfg.go_echo, "echo"]
        if launched:
            argv = [cfg.launcher, "--"] + argv
        tag = "%s-%s-%s" % (server, header, "run" if launched else "alone")
        runs.append(strace_processes(cfg, tag, argv, header, n, server == "static"))
    return tuple(slope(a, b, n1, n2) for a, b in zip(*runs))


def getpeername_run(cfg, how, calls, strace_dir=None):
    """One run of pp_getpeername_cost: "plain" (static, no proxy), "launcher"
    (the same binary under proxyproto-run), "launcher, one CPU" (the same,
    the supervisor and the program held to one CPU) or "library" (dynamic,
    under LD_PRELOAD). Returns ns per call, having checked that the answer
    came from the path measured (the header's claim, or the kernel's
    address)."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    pin = None
    if how == "plain":
        argv, want = [cfg.peer_cost_static], "127.0.0.1:"
    elif how.startswith("launcher"):
        argv, want = [cfg.launcher, "--", cfg.peer_cost_static], "192.0.2.1:4321"
        if how == "launcher, one CPU":
            # Each trapped call wakes the supervisor and then the program:
            # on one CPU neither wake-up crosses to another, which on a
            # virtual machine costs far more than the supervisor's work.
            cpu = min(os.sched_getaffinity(0))
            pin = lambda: os.sched_setaffinity(0, {cpu})
    else:
        argv, want = [cfg.peer_cost], "192.0.2.1:4321"
        env["LD_PRELOAD"] = cfg.lib
    if strace_dir:
        argv = ["strace", "-ff", "-o", os.path.join(strace_dir, "tr")] + argv
    if not how.startswith("launcher") and not strace_dir:
        calls *= 10
    out = subprocess.run(argv + [str(calls)], env=env, capture_output=True, text=True,
                         timeout=300, preexec_fn=pin)
    fields = dict(kv.split("=", 1) for kv in out.stdout.split())
    if out.returncode != 0 or not fields.get("peer", "").startswith(want):
        raise RuntimeError("pp_getpeername_cost (%s): status %d, %r, %s" % (
            how, out.returncode, out.stdout.strip(), out.stderr.strip()[-500:]))
    return float(fields["ns_per_op"])


def launcher_figures(cfg):
    """proxyproto-run's counted figures (strace) and the getpeername() cost:
    {"syscalls": {(row, part): {syscall: per connection}}, "peer_ns":
    {how: [ns per call per round]}, "peer_calls": {syscall: the supervisor's
    calls per getpeername()}}; None without the launcher."""
    if not cfg.launcher:
        return None
    res = {"syscalls": {}, "peer_ns": {}, "peer_calls": None}
    try:
        launcher_measures(cfg, res)
    except RuntimeError as e:
        # A launcher that cannot run here (no seccomp user notification):
        # what is missing is reported as not measured, which --enforce
        # fails on.
        cfg.skipped["proxyproto-run"] = str(e)
    return res


def launcher_measures(cfg, res):
    """Fills launcher_figures()'s `res` as it goes, so that what was
    measured before a failure is kept."""
    # Timed, interleaved rounds like the rest.
    peer_ns = {}
    for _ in range(cfg.peer_rounds):
        for how in ("plain", "launcher", "launcher, one CPU", "library"):
            peer_ns.setdefault(how, []).append(getpeername_run(cfg, how, cfg.peer_calls))
    res["peer_ns"] = peer_ns
    if not cfg.have("strace", "launcher system calls"):
        return
    rows = res["syscalls"]
    for header in ("v2", "v1"):
        sup, prog = launcher_syscall_slope(cfg, "static", header, True)
        rows[("static C echo, " + header, "supervisor")] = sup
        rows[("static C echo, " + header, "program")] = prog
    rows[("static C echo", "alone")] = launcher_syscall_slope(cfg, "static", "none", False)[1]
    if build_go_echo(cfg):
        sup, prog = launcher_syscall_slope(cfg, "Go", "v2", True)
        rows[("Go echo, v2", "supervisor")] = sup
        rows[("Go echo, v2", "program")] = prog
        rows[("Go echo", "alone")] = launcher_syscall_slope(cfg, "Go", "none", False)[1]
    # The supervisor's calls per getpeername(): the slope between two
    # numbers of calls on one connection.
    runs = []
    n1, n2 = cfg.peer_trace_counts
    for n in (n1, n2):
        d = os.path.join(cfg.tmp, "strace-getpeername-%d" % n)
        os.makedirs(d)
        getpeername_run(cfg, "launcher", n, strace_dir=d)
        runs.append(traced_calls(cfg, d)[0])
    res["peer_calls"] = slope(runs[0], runs[1], n1, n2)


def callgrind_total(path):
    with open(path) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    raise RuntimeError("no totals in %s" % path)


def grind(cfg, tag, argv, env=None, bare=False):
    """With `bare`, the program gets only PATH besides `env`: the library's
    constructor walks the environment (about 18 instructions a variable), so
    a start-up count taken in the caller's environment would change with
    whoever runs it."""
    out = os.path.join(cfg.tmp, "callgrind.%s" % tag)
    full = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + argv
    if bare:
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    else:
        e = dict(os.environ)
        e.pop("LD_PRELOAD", None)
    e.update(env or {})
    return full, e, out


def grind_echo(cfg, preload, header, n, delay_us=0, parked=None):
    """`delay_us`: the late path (no TCP_DEFER_ACCEPT). `parked`: that many
    silent connections parked on the listener throughout (see park_silent)."""
    tag = "echo-%s-%s-%d-%d-%s" % ("lib" if preload else "plain", header, n, delay_us,
                                  parked)
    if delay_us:
        server_args = []
    elif parked is not None:
        server_args = ["--defer-accept-after-ms", str(DEFER_AFTER_MS)]
    else:
        server_args = ["--defer-accept"]
    env = {"LD_PRELOAD": cfg.lib} if preload else {}
    if parked is not None:
        env["LIBPROXYPROTO_TIMEOUT"] = PARKED_TIMEOUT_MS
    argv, env, out = grind(cfg, tag, [cfg.echo, "--max-conns", str(n)] + server_args, env)
    srv = Server("callgrind echo", argv, env=env, stdout_port=True)
    silent = None
    try:
        if parked is not None:
            silent = park_silent(srv, parked, DEFER_AFTER_MS)
            # Parking them is not what is measured, and how many calls it
            # took depends on how the connections arrived: counting starts
            # afresh once they are parked.
            zero = subprocess.run(["callgrind_control", "--zero", str(srv.proc.pid)],
                                  capture_output=True, text=True, timeout=60)
            if zero.returncode != 0:
                raise RuntimeError("callgrind_control --zero: %s" % zero.stderr.strip())
        run_loadgen(cfg, srv.port, "short", header, 1, count=n, delay_us=delay_us)
        srv.wait(120)
    finally:
        srv.stop()
        if silent:
            silent.close()
    return callgrind_total(out), out


def library_functions(out, n):
    """The library's own functions in one callgrind profile: inclusive
    instructions per connection, the heaviest first."""
    if not shutil.which("callgrind_annotate"):
        return []
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", out],
                          capture_output=True, text=True).stdout
    rows = []
    for line in text.splitlines():
        m = re.match(r"^\s*([\d,]+)\s+\([^)]*\)\s+(\S.*?):(.+?)\s*\[(.*)\]\s*$", line)
        if m and "libproxyproto.so" in m.group(4):
            rows.append((int(m.group(1).replace(",", "")) / n, m.group(3)))
    return rows[:8]


def instruction_figures(cfg):
    if not cfg.have("valgrind", "instructions"):
        return None
    n1, n2 = cfg.grind_counts
    rows = {}
    for label, preload, header in (("no proxy", False, "none"),
                                   ("libproxyproto v1", True, "v1"),
                                   ("libproxyproto v2", True, "v2")):
        i1, _ = grind_echo(cfg, preload, header, n1)
        i2, out = grind_echo(cfg, preload, header, n2)
        rows[label] = ((i2 - i1) / (n2 - n1), library_functions(out, n2) if preload else [])
    # The late path (fewer connections: each waits for its header).
    for label, preload, header in (("no proxy", False, "none"),
                                   ("libproxyproto v2", True, "v2")):
        i1, _ = grind_echo(cfg, preload, header, n1 // 4, LATE_GRIND_DELAY_US)
        i2, out = grind_echo(cfg, preload, header, n2 // 4, LATE_GRIND_DELAY_US)
        rows[(label, "late")] = ((i2 - i1) / (n2 // 4 - n1 // 4),
                                 library_functions(out, n2 // 4) if preload else [])
    # The usual workload with 0, 100 and 1,000 silent connections parked.
    for parked in (0,) + PARKED_COUNTS:
        i1, _ = grind_echo(cfg, True, "v2", n1, parked=parked)
        i2, out = grind_echo(cfg, True, "v2", n2, parked=parked)
        rows[("libproxyproto v2", parked)] = ((i2 - i1) / (n2 - n1),
                                              library_functions(out, n2))
    return rows


def preload_figures(cfg):
    """Processes that never accept: timed ratios (interleaved) and
    instruction counts (callgrind)."""
    res = {"openclose": ([], []), "spawn": ([], []), "minflt": ([], [])}

    def measure(argv, env=None):
        e = dict(os.environ)
        e.pop("LD_PRELOAD", None)
        e.update(env or {})
        out = subprocess.run(argv, env=e, capture_output=True, text=True,
                             timeout=300, check=True).stdout
        return {k: float(v) for k, v in (kv.split("=", 1) for kv in out.split())}

    def timed(argv, env=None):
        m = measure(argv, env)
        if argv[1] == "spawn":  # a fifth argument is the library
            res["minflt"][len(argv) == 5].append(m["minflt_per_op"])
        return m["ns_per_op"]

    oc = [cfg.preload_cost, "openclose", str(cfg.openclose_n)]
    sp = [cfg.preload_cost, "spawn", str(cfg.spawn_n), "/bin/true"]
    for _ in range(cfg.preload_rounds):
        res["openclose"][0].append(timed(oc))
        res["openclose"][1].append(timed(oc, {"LD_PRELOAD": cfg.lib}))
        res["spawn"][0].append(timed(sp))
        res["spawn"][1].append(timed(sp + [cfg.lib]))
    # What one system call costs here: the floor under the per-connection
    # figures (median of three, CPU time of the measuring thread).
    costs = [measure([cfg.preload_cost, "syscall", "20000" if cfg.quick else "200000"])
             for _ in range(1 if cfg.quick else 3)]
    res["syscall_ns"] = statistics.median(c["ns_per_op"] for c in costs)
    res["peek_ns"] = statistics.median(c["peek_ns"] for c in costs)
    ir = None
    if cfg.have("valgrind", "preload instructions"):
        def ir_of(tag, argv, env=None, bare=False):
            full, e, out = grind(cfg, tag, argv, env, bare)
            subprocess.run(full, env=e, capture_output=True, timeout=300,
                           check=True)
            return callgrind_total(out)
        lib = {"LD_PRELOAD": cfg.lib}
        a, b = 1000, 11000
        per, msg = {}, {}
        for name, env in (("plain", None), ("lib", lib)):
            i1 = ir_of("oc-%s-%d" % (name, a), [cfg.preload_cost, "openclose", str(a)], env)
            i2 = ir_of("oc-%s-%d" % (name, b), [cfg.preload_cost, "openclose", str(b)], env)
            per[name] = (i2 - i1) / (b - a)
            # sendmsg()+recvmsg() passing no descriptor (lib/passing/).
            m1 = ir_of("msg-%s-%d" % (name, a), [cfg.preload_cost, "msg", str(a)], env)
            m2 = ir_of("msg-%s-%d" % (name, b), [cfg.preload_cost, "msg", str(b)], env)
            msg[name] = (m2 - m1) / (b - a)
        ir = {"openclose": (per["plain"], per["lib"]),
              "msg": (msg["plain"], msg["lib"]),
              "true": (ir_of("true-plain", ["/bin/true"], bare=True),
                       ir_of("true-lib", ["/bin/true"], lib, bare=True))}
    calls = None
    if cfg.have("strace", "preload system calls"):
        def calls_of(preload):
            out = os.path.join(cfg.tmp, "strace-true.txt")
            argv = ["strace", "-f", "-c", "-o", out]
            if preload:
                argv += ["-E", "LD_PRELOAD=" + cfg.lib]
            subprocess.run(argv + ["/bin/true"], check=True, timeout=60)
            return parse_strace_counts(out)
        calls = (calls_of(False), calls_of(True))
    return res, ir, calls


# ---- Report ------------------------------------------------------------------

# System calls a header that comes after accept() cannot avoid, beyond the
# two of one that comes with the connection (a look and the exact read):
# the first look, which finds nothing (recv MSG_PEEK), SO_RCVLOWAT read
# (getsockopt) to know what to restore, watching it (epoll_ctl ADD) and
# no longer (epoll_ctl DEL), and asking the readiness descriptor what is
# ready (epoll_wait, or epoll_pwait where the kernel has no epoll_wait) in
# the accept() that hands it out. Derived in
# doc/benchmark.md ("The late path's floor"), where each one is listed.
LATE_SYSCALL_FLOOR = 10.0


def parked_report(w, cfg, syscalls, instructions):
    """The late path and the parked connections: their rows, and the
    figures the counted targets hold."""
    out = {}
    if syscalls and ("libproxyproto v2", "late") in syscalls:
        lib = syscalls[("libproxyproto v2", "late")]
        base = syscalls[("no proxy", "late")]
        out["calls"] = sum(lib.values()) - sum(base.values())
        diff = ", ".join("%s %+.2f" % (k, lib.get(k, 0) - base.get(k, 0))
                         for k in sorted(set(lib) | set(base))
                         if abs(lib.get(k, 0) - base.get(k, 0)) >= 0.005)
        w("")
        w("The late path: header %.0f ms after the handshake, no TCP_DEFER_ACCEPT, so"
          " that every connection is parked and handed out when its header comes"
          " (strace, 1 client): no proxy %.2f, libproxyproto v2 %.2f system calls per"
          " connection (%+.2f: %s)." % (LATE_TRACE_DELAY_US / 1000, sum(base.values()),
                                        sum(lib.values()), out["calls"], diff or "none"))
    if instructions and ("libproxyproto v2", "late") in instructions:
        lib, funcs = instructions[("libproxyproto v2", "late")]
        base = instructions[("no proxy", "late")][0]
        w("")
        w("The late path, user-space instructions per connection (callgrind, header"
          " %.0f ms late): no proxy %.0f, libproxyproto v2 %.0f (%+.0f)." % (
              LATE_GRIND_DELAY_US / 1000, base, lib, lib - base))
        for cost, fn in funcs[:5]:
            w("    - %.0f in %s" % (cost, fn))
    if instructions and ("libproxyproto v2", 0) in instructions:
        none = instructions[("libproxyproto v2", 0)][0]
        plain = instructions["no proxy"][0]
        w("")
        w("The usual workload (header with the connection, TCP_DEFER_ACCEPT) with"
          " silent connections parked on the same listener all along, user-space"
          " instructions per proxied connection (callgrind; v2):")
        w("")
        for n in (0,) + PARKED_COUNTS:
            per, funcs = instructions[("libproxyproto v2", n)]
            w("- %d parked: %.0f per connection (%+.0f over no proxy; %+.1f%% over none"
              " parked)" % (n, per, per - plain, 100.0 * (per - none) / none))
            if n == PARKED_COUNTS[-1]:
                for cost, fn in funcs[:5]:
                    w("    - %.0f in %s" % (cost, fn))
            if n:
                out[("parked", n)] = round(per - none)
                out[("parked ratio", n)] = round(per / none, 3)
    return out

def calls_diff(row, base):
    """What `row` makes beyond `base`, call by call: "name +x.xx, ..."."""
    return ", ".join("%s %+.2f" % (k, row.get(k, 0) - base.get(k, 0))
                     for k in sorted(set(row) | set(base))
                     if abs(row.get(k, 0) - base.get(k, 0)) >= 0.005) or "none"


def calls_list(row):
    return ", ".join("%s %.2f" % (k, v) for k, v in sorted(row.items()) if abs(v) >= 0.005)


def launcher_report(w, cfg, timed, launcher):
    """proxyproto-run's section: the timed rows side by side, the system
    calls of the program and of the supervisor, the getpeername() cost.
    Returns the figures the targets judge."""
    out = {}
    w("")
    w("proxyproto-run, short connections (the rows above, side by side; medians of"
      " per-round ratios). Static C: pp_echo_server linked statically"
      " (TCP_DEFER_ACCEPT), against itself without a proxy, against the same source"
      " built dynamically under the library, and against go-mmproxy in front of the"
      " dynamic one. Go: tests/run/go_server.go's echo mode (CGO_ENABLED=0), against"
      " itself and go-mmproxy in front of it, all accepting at once: net.Listen"
      " cannot set TCP_DEFER_ACCEPT. Server CPU: the supervisor and the program"
      " together (go-mmproxy: proxy and backend).")
    w("")
    w("| server | variant | conn/s | vs no proxy | vs library | vs go-mmproxy"
      " | server CPU us/conn | vs no proxy | vs library | vs go-mmproxy |")
    w("|---|---|---|---|---|---|---|---|---|---|")

    def paired(a, b, key):
        """The median over the rounds of a's figure over b's (same round)."""
        ra, rb = timed.get(("short", a)), timed.get(("short", b)) if b else None
        if not ra or not rb:
            return None
        return median_ratio(ra, rb, key)

    def show(v):
        return "-" if v is None else "%.3f" % v
    for server, label, base, lib, mm in LAUNCHER_COMPARISONS:
        runs = timed.get(("short", label))
        if not runs:
            variant = [v for v in VARIANTS if v[1] == label][0]
            w("| %s | %s | skipped: %s | | | | | | | |" % (
                server, label, cfg.skipped.get(variant[2], "not run")))
            continue
        rate = {k: paired(label, b, "rate") for k, b in (("base", base), ("lib", lib), ("mm", mm))}
        cpu = {k: paired(label, b, "cpu_us") for k, b in (("base", base), ("lib", lib), ("mm", mm))}
        out[label] = (rate, cpu)
        w("| %s | %s | %.0f | %s | %s | %s | %.2f | %s | %s | %s |" % (
            server, label, statistics.median(r["rate"] for r in runs),
            show(rate["base"]), show(rate["lib"]), show(rate["mm"]),
            statistics.median(r["cpu_us"] for r in runs),
            show(cpu["base"]), show(cpu["lib"]), show(cpu["mm"])))
    if launcher is None:
        w("")
        w("proxyproto-run, counted: skipped: %s" % cfg.launcher_off)
        return out
    calls = launcher["syscalls"]
    if calls:
        w("")
        w("proxyproto-run, system calls per connection (strace -ff on the launcher, the"
          " program's threads apart from the supervisor's process; slope between %d and"
          " %d connections, 1 client in lockstep). The program alone is the same binary"
          " without the launcher and with no header:" % cfg.trace_counts)
        w("")
        w("| server, header | program alone | program under the launcher | extra"
          " | supervisor | the supervisor's calls |")
        w("|---|---|---|---|---|---|")
        for row, alone in (("static C echo, v2", "static C echo"),
                           ("static C echo, v1", "static C echo"),
                           ("Go echo, v2", "Go echo")):
            if (row, "program") not in calls or (alone, "alone") not in calls:
                w("| %s | skipped: %s | | | | |" % (row, cfg.skipped.get(
                    "Go echo", cfg.skipped_reason("proxyproto-run"))))
                continue
            prog, sup, base = calls[(row, "program")], calls[(row, "supervisor")], calls[(alone, "alone")]
            extra = sum(prog.values()) - sum(base.values())
            out[(row, "program extra")] = round(extra, 2)
            out[(row, "supervisor")] = round(sum(sup.values()), 2)
            w("| %s | %.2f | %.2f | %+.2f (%s) | %.2f | %s |" % (
                row, sum(base.values()), sum(prog.values()), extra, calls_diff(prog, base),
                sum(sup.values()), calls_list(sup)))
        w("")
        w("The Go rows are not deterministic: the Go runtime's own threads (sysmon's"
          " nanosleep, futex hand-offs) call more or less with the timing, more so"
          " while a trapped call blocks a thread, and without TCP_DEFER_ACCEPT the"
          " supervisor may find the header there or not (a parked connection costs"
          " it more calls). strace slows every traced call, which changes those"
          " timings too. They are reported, never enforced; the static C rows do not"
          " move, but for the supervisor's housekeeping timeout (once a second)"
          " falling in one count and not the other.")
    peer = launcher["peer_ns"]
    if not peer:
        w("")
        w("getpeername(): not measured: %s" % cfg.skipped.get("proxyproto-run", "not run"))
        return out
    kernel, lib, trapped, pinned = (statistics.median(peer[k]) for k in (
        "plain", "library", "launcher", "launcher, one CPU"))
    out["getpeername ns"] = trapped
    w("")
    w("getpeername() on an accepted proxied connection (pp_getpeername_cost, %d calls"
      " under the launcher and ten times as many without, %d interleaved rounds,"
      " medians of wall-clock ns per call): the kernel's (static"
      " build, no proxy) %.0f ns; libproxyproto's, answered in the process (dynamic"
      " build, LD_PRELOAD) %.0f ns; proxyproto-run's, a round trip to the supervisor"
      " (static build) %.0f ns, %.1f times the kernel's, and %.0f ns with the supervisor"
      " and the program held to one CPU (no wake-up crosses CPUs)." % (
          cfg.peer_calls, cfg.peer_rounds, kernel, lib, trapped, trapped / kernel, pinned))
    if launcher["peer_calls"] is not None:
        per = launcher["peer_calls"]
        out["getpeername calls"] = round(sum(per.values()), 2)
        w("The supervisor's system calls per getpeername() (strace -ff, slope between %d"
          " and %d calls on one connection): %.2f (%s)." % (
              cfg.peer_trace_counts + (sum(per.values()), calls_list(per))))
    else:
        w("")
        w("proxyproto-run, system calls: not measured: %s" % cfg.skipped_reason("proxyproto-run"))
    return out


def median_ratio(runs, base, key):
    return statistics.median(r[key] / b[key] for r, b in zip(runs, base) if b[key] > 0)


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%d cores (%s), Linux %s, load average %s" % (
        os.cpu_count(), model, os.uname().release,
        " ".join("%.2f" % x for x in os.getloadavg()))


def report(cfg, timed, syscalls, instructions, preload, launcher):
    """Returns the report's text and the deterministic targets missed."""
    lines = []
    w = lines.append
    w("Machine: " + machine() + "; the load generator shares it with the servers.")
    w("Rounds: %d x %.1f s per variant, interleaved (each round starting one variant"
      " later); medians; ratios are medians of per-round ratios to the workload's"
      " no-proxy variant. Server CPU: the server processes' own CPU time per"
      " connection or round trip (go-mmproxy: proxy and backend)." % (cfg.rounds, cfg.seconds))
    w("")
    w("| workload | variant | conn/s or round trips/s | ratio | Mbps | p50 us | p99 us | server CPU us/op | ratio | errors |")
    w("|---|---|---|---|---|---|---|---|---|---|")
    ratios = {}
    cpu_ratios = {}
    for workload, label, server, header, base in VARIANTS:
        runs = timed.get((workload, label))
        if not runs:
            w("| %s | %s | skipped: %s | | | | | | | |" % (
                workload, label, cfg.skipped.get(server, "not run")))
            continue
        med = {k: statistics.median(r[k] for r in runs)
               for k in ("rate", "mbps", "p50_us", "p99_us", "cpu_us")}
        errors = sum(r["errors"] for r in runs)
        ratio = cpu_ratio = "1"
        if base and timed.get((workload, base)):
            rr = median_ratio(runs, timed[(workload, base)], "rate")
            ratios[(workload, label)] = rr
            ratio = "%.3f" % rr
            cr = median_ratio(runs, timed[(workload, base)], "cpu_us")
            cpu_ratios[(workload, label)] = cr
            cpu_ratio = "%.3f" % cr
        w("| %s | %s | %.0f | %s | %.1f | %.0f | %.0f | %.2f | %s | %d |" % (
            workload, label, med["rate"], ratio, med["mbps"], med["p50_us"],
            med["p99_us"], med["cpu_us"], cpu_ratio, errors))
    w("")
    w("short: connect, header + \"PING\\r\\n\", 6-byte echo, close (%d clients);"
      " long: %d connections, %d-byte echo round trips; http: nginx, GET, 6-byte"
      " body, HTTP/1.0 close (%d clients). Servers listen with TCP_DEFER_ACCEPT"
      " (nginx: deferred), but for the Go echo server's rows (proxyproto-run,"
      " below)." % (cfg.short_clients, cfg.long_clients, cfg.long_size,
                               cfg.short_clients))
    extra = {}
    if syscalls:
        w("")
        w("System calls per connection, server side (strace -f -c, slope between"
          " %d and %d connections, 1 client):" % cfg.trace_counts)
        w("")
        w("| server | header arrived with the connection | extra | no TCP_DEFER_ACCEPT: the header may come after accept() | extra |")
        w("|---|---|---|---|---|")
        base_d = sum(syscalls[("no proxy", True)].values())
        base_n = sum(syscalls[("no proxy", False)].values())
        for label in ("no proxy", "libproxyproto v1", "libproxyproto v2"):
            d = syscalls[(label, True)]
            n = syscalls[(label, False)]
            extra[label] = sum(d.values()) - base_d

            def diff(row, base):
                parts = []
                for k in sorted(set(row) | set(base)):
                    delta = row.get(k, 0) - base.get(k, 0)
                    if abs(delta) >= 0.005:
                        parts.append("%s %+.2f" % (k, delta))
                return ", ".join(parts) or "none"
            w("| %s | %.2f | %+.2f (%s) | %.2f | %+.2f (%s) |" % (
                label, sum(d.values()), sum(d.values()) - base_d,
                diff(d, syscalls[("no proxy", True)]), sum(n.values()),
                sum(n.values()) - base_n, diff(n, syscalls[("no proxy", False)])))
    else:
        w("")
        w("System calls: skipped: %s" % cfg.skipped.get("syscalls"))
    ins_extra = {}
    if instructions:
        w("")
        w("User-space instructions per connection, server side (callgrind, slope"
          " between %d and %d connections, header with the connection):" % cfg.grind_counts)
        w("")
        base = instructions["no proxy"][0]
        for label, (per, funcs) in instructions.items():
            if not isinstance(label, str):
                continue  # the late and parked rows, below
            ins_extra[label] = per - base
            w("- %s: %.0f per connection (%+.0f)" % (label, per, per - base))
            for cost, fn in funcs[:5]:
                w("    - %.0f in %s" % (cost, fn))
    else:
        w("")
        w("Instructions: skipped: %s" % cfg.skipped.get("instructions"))
    late = parked_report(w, cfg, syscalls, instructions)
    timed_pre, ir, calls = preload
    w("")
    w("Preloaded into processes that never accept (%d interleaved rounds, medians):" % cfg.preload_rounds)
    w("")
    pre_ratio = {}
    for key, what in (("openclose", "open()+close() of /dev/null, ns per pair"),
                      ("spawn", "posix_spawn + wait of /bin/true, ns each")):
        plain, lib = timed_pre[key]
        rr = statistics.median(b / a for a, b in zip(plain, lib))
        pre_ratio[key] = rr
        w("- %s: %.0f without, %.0f with LD_PRELOAD: ratio %.3f" % (
            what, statistics.median(plain), statistics.median(lib), rr))
    if timed_pre["minflt"][0] and timed_pre["minflt"][1]:
        w("- minor page faults of /bin/true: %.1f without, %.1f with" % (
            statistics.median(timed_pre["minflt"][0]), statistics.median(timed_pre["minflt"][1])))
    if ir:
        a, b = ir["openclose"]
        w("- instructions per open()+close(): %.0f without, %.0f with (%+.0f, ratio %.3f)" % (a, b, b - a, b / a))
        a, b = ir["msg"]
        w("- instructions per sendmsg()+recvmsg() pair passing no descriptor: %.0f without,"
          " %.0f with (%+.0f)" % (a, b, b - a))
        a, b = ir["true"]
        w("- instructions of /bin/true from exec to exit (ld.so included; callgrind's own"
          " preloads load in both; environment PATH and LD_PRELOAD only): %d without,"
          " %d with (%+d, ratio %.3f)" % (a, b, b - a, b / a))
        pre_ratio["openclose_ir"] = ir["openclose"][1] / ir["openclose"][0]
        pre_ratio["true_ir"] = ir["true"][1] / ir["true"][0]
    if calls:
        a, b = (sum(c.values()) for c in calls)
        diff = ", ".join("%s %+d" % (k, calls[1].get(k, 0) - calls[0].get(k, 0))
                         for k in sorted(set(calls[0]) | set(calls[1]))
                         if calls[1].get(k, 0) != calls[0].get(k, 0))
        w("- system calls of /bin/true: %d without, %d with (%s)" % (a, b, diff or "none"))

    # The floor: what the two extra system calls cost on this machine.
    sc, pk = timed_pre["syscall_ns"], timed_pre["peek_ns"]
    w("")
    w("Cost of a system call here (CPU time): getppid() %.0f ns, recv(MSG_PEEK) of 28"
      " queued bytes %.0f ns." % (sc, pk))
    base = timed.get(("short", "no proxy"))
    if base:
        cpu = statistics.median(r["cpu_us"] for r in base) * 1000
        w("Two such calls (one look, one exact read) against the no-proxy server's %.1f us"
          " of CPU per short connection bound its connections/s ratio at about %.3f"
          " on this machine." % (cpu / 1000, cpu / (cpu + 2 * pk)))

    run = launcher_report(w, cfg, timed, launcher)

    # The counted targets, which make bench --enforce holds the library to,
    # and the timed ones, which it never does (machine noise moves them).
    w("")
    w("Counted targets (deterministic; make bench --enforce fails on a miss):")
    w("")
    missed = []

    def counted(name, value, target, unit, ceiling=None, form=None):
        """A count against its target. With a ceiling (a count whose target
        needs work outside this change), the ceiling is what --enforce holds,
        so that the count cannot grow back while the target is still open.
        `form`: how value and target are written (default: fmt, signed)."""
        if value is None:
            w("- [not measured] %s: %s" % (name, cfg.skipped_reason(name)))
            missed.append("%s: not measured" % name)
            return
        show = (lambda v: form % v) if form else fmt
        ok = value <= target
        line = "- [%s] %s: %s (target <= %s %s)" % (
            "met" if ok else "MISSED", name, show(value), show(target), unit)
        if not ok and ceiling is not None:
            line += "; enforced ceiling %s until then" % fmt(ceiling)
            if value > ceiling:
                line += ": EXCEEDED"
                missed.append("%s: %s > ceiling %s" % (name, fmt(value), fmt(ceiling)))
        elif not ok:
            missed.append("%s: %s > %s" % (name, show(value), show(target)))
        w(line)

    def fmt(v):
        return "%+.2f" % v if isinstance(v, float) and v != int(v) else "%+d" % v

    for label in ("libproxyproto v1", "libproxyproto v2"):
        counted("%s: extra system calls per connection (header with the connection)" % label,
                extra.get(label) if syscalls else None, 2.0, "calls")
    counted("libproxyproto v2: extra system calls per connection, header 5 ms late"
            " (the floor, doc/benchmark.md)", late.get("calls"), LATE_SYSCALL_FLOOR, "calls")
    # O(1): what is parked does not change what a connection costs.
    if late.get(("parked", PARKED_COUNTS[-1])) is not None:
        growth = late[("parked", PARKED_COUNTS[-1])] - late[("parked", PARKED_COUNTS[0])]
    else:
        growth = None
    counted("libproxyproto v2: instructions per connection with %d parked over %d parked"
            % (PARKED_COUNTS[-1], PARKED_COUNTS[0]), growth, PARKED_GROWTH, "Ir")
    counted("libproxyproto v2: instructions per connection with %d parked, to"
            " the figure with none (%s over it)" % (
                PARKED_COUNTS[-1], "-" if late.get(("parked", PARKED_COUNTS[-1])) is None
                else fmt(late[("parked", PARKED_COUNTS[-1])]) + " Ir"),
            late.get(("parked ratio", PARKED_COUNTS[-1])), PARKED_RATIO, "times",
            form="%.3f")
    for label, target, ceiling in (("libproxyproto v1", 600, CEILING_V1),
                                   ("libproxyproto v2", 300, CEILING_V2)):
        counted("%s: extra instructions per connection" % label,
                round(ins_extra[label]) if label in ins_extra else None,
                target, "Ir", ceiling)
    counted("/bin/true preloaded: extra instructions from exec to exit",
            ir["true"][1] - ir["true"][0] if ir else None, 15000, "Ir")
    counted("/bin/true preloaded: extra system calls",
            sum(calls[1].values()) - sum(calls[0].values()) if calls else None, 10, "calls")
    counted("open()+close() preloaded: extra instructions per cycle",
            round(ir["openclose"][1] - ir["openclose"][0]) if ir else None, 10, "Ir")
    # The UDP reply check and two jumps were +29 before descriptors could be
    # passed with their records; the passing check adds a load on sendmsg()
    # and a test of the returned control length on recvmsg().
    counted("sendmsg()+recvmsg() preloaded, no descriptor passed: extra instructions per pair",
            round(ir["msg"][1] - ir["msg"][0]) if ir else None, 45, "Ir")
    # proxyproto-run: the program makes exactly the calls it makes alone
    # (the launcher answers its trapped ones, and its wake-ups never reach
    # it); the supervisor's own calls are held under ceilings while it is
    # being made cheaper. The static C server only: the Go rows are not
    # deterministic (see the report).
    if cfg.launcher:
        for header in ("v2", "v1"):
            counted("proxyproto-run, static C echo, %s: the program's extra system calls"
                    " per connection" % header,
                    run.get(("static C echo, " + header, "program extra")), 0, "calls")
        counted("proxyproto-run, static C echo, v2: the supervisor's system calls per"
                " connection (LAUNCHER_SUPERVISOR_CEILING)",
                run.get(("static C echo, v2", "supervisor")), LAUNCHER_SUPERVISOR_CEILING,
                "calls", form="%.2f")
        counted("proxyproto-run: the supervisor's system calls per getpeername()"
                " (LAUNCHER_GETPEERNAME_CEILING)", run.get("getpeername calls"),
                LAUNCHER_GETPEERNAME_CEILING, "calls", form="%.2f")
    else:
        w("- [skipped] proxyproto-run: %s" % cfg.launcher_off)

    w("")
    if cfg.quick:
        w("Timed targets (information only: one quick round cannot judge them, and"
          " --enforce never looks at them):")
    else:
        w("Timed targets (judged over %d rounds; --enforce never looks at them):" % cfg.rounds)
    w("")

    def timed_target(ok, text):
        if cfg.quick:
            verdict = "info" if ok is not None else "not measured"
        else:
            verdict = "met" if ok else "MISSED" if ok is False else "not measured"
        w("- [%s] %s" % (verdict, text))
    for label in ("libproxyproto v1", "libproxyproto v2"):
        r = ratios.get(("short", label))
        c = cpu_ratios.get(("short", label))
        timed_target(None if r is None else r >= 0.98,
               "%s: connections/s >= 0.98 of no proxy: %s (server CPU per connection: %s)" % (
                   label, "-" if r is None else "%.3f" % r, "-" if c is None else "%.3f" % c))
        r = ratios.get(("long", label))
        c = cpu_ratios.get(("long", label))
        timed_target(None if r is None else r >= 0.99,
               "%s: long-connection throughput >= 0.99 of no proxy: %s (server CPU per round trip: %s)" % (
                   label, "-" if r is None else "%.3f" % r, "-" if c is None else "%.3f" % c))
    for workload in ("short", "long"):
        lib = ratios.get((workload, "libproxyproto v2"))
        mm = ratios.get((workload, "go-mmproxy (v2)"))
        timed_target(None if lib is None or mm is None else lib > mm,
               "%s: ahead of go-mmproxy: %s vs %s" % (
                   workload, "-" if lib is None else "%.3f" % lib, "-" if mm is None else "%.3f" % mm))
    # nginx with the library against nginx's own proxy_protocol, the header
    # 0.3 ms after the handshake (both accepting at once): the rates' ratio
    # to each other, from their ratios to the same no-proxy nginx.
    lib = ratios.get(("http late 0.3 ms", "nginx + libproxyproto v2"))
    native = ratios.get(("http late 0.3 ms", "nginx proxy_protocol (v2)"))
    lib_cpu = cpu_ratios.get(("http late 0.3 ms", "nginx + libproxyproto v2"))
    native_cpu = cpu_ratios.get(("http late 0.3 ms", "nginx proxy_protocol (v2)"))
    timed_target(None if lib is None or native is None else lib >= 0.95 * native,
                 "http, header 0.3 ms late: nginx + libproxyproto >= 0.95 of nginx's own"
                 " proxy_protocol connections/s: %s (server CPU per connection: %s)" % (
                     "-" if lib is None or native is None else "%.3f" % (lib / native),
                     "-" if lib_cpu is None or native_cpu is None
                     else "%.3f" % (lib_cpu / native_cpu)))
    if not cfg.launcher:
        w("- [skipped] proxyproto-run's goals: %s" % cfg.launcher_off)
    for server, label, base, lib, mm in LAUNCHER_COMPARISONS if cfg.launcher else ():
        rate, cpu = run.get(label, ({}, {}))
        r, c = rate.get("base"), cpu.get("base")
        timed_target(None if r is None else r >= LAUNCHER_GOAL_OF_NO_PROXY,
                     "%s: connections/s >= %.1f of no proxy: %s (server CPU per connection:"
                     " %s)" % (label, LAUNCHER_GOAL_OF_NO_PROXY, "-" if r is None else "%.3f" % r,
                               "-" if c is None else "%.3f" % c))
        if mm:
            r, c = rate.get("mm"), cpu.get("mm")
            timed_target(None if r is None else r >= LAUNCHER_GOAL_OVER_MMPROXY,
                         "%s: connections/s at least %.0f times go-mmproxy's: %s (server CPU"
                         " per connection: %s of go-mmproxy's)" % (
                             label, LAUNCHER_GOAL_OVER_MMPROXY, "-" if r is None else "%.3f" % r,
                             "-" if c is None else "%.3f" % c))
    r = pre_ratio.get("openclose")
    timed_target(None if r is None else r <= 1.02,
                 "preloaded open/close within 2%%: %s" % ("-" if r is None else "%.3f" % r))
    r = pre_ratio.get("spawn")
    timed_target(None if r is None else r <= 1.05,
                 "preloaded /bin/true start-up within 5%%: %s" % ("-" if r is None else "%.3f" % r))
    if cfg.skipped:
        w("")
        w("Skipped: " + "; ".join("%s: %s" % kv for kv in sorted(cfg.skipped.items())))
    return "\n".join(lines), missed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--builddir", default=".")
    ap.add_argument("--srcdir", default=".")
    ap.add_argument("--quick", action="store_true",
                    help="one short round of everything (CI smoke test)")
    ap.add_argument("--rounds", type=int, help="rounds of timed runs")
    ap.add_argument("--seconds", type=float, help="seconds per timed run")
    ap.add_argument("--output", help="also write the report to this file")
    ap.add_argument("--skip-timed", action="store_true",
                    help="only the deterministic and preload figures")
    ap.add_argument("--launcher",
                    help="proxyproto-run to measure, or none (make bench passes the"
                    " build's, or none when configure did not build it; default:"
                    " the build's tools/proxyproto-run/proxyproto-run)")
    ap.add_argument("--library",
                    help="LD_PRELOAD value for the servers under the library"
                    " (default: the build's lib/.libs/libproxyproto.so)")
    ap.add_argument("--enforce", action="store_true",
                    help="fail when a counted target (system calls, instructions:"
                    " see the report's list) is missed or could not be counted;"
                    " timed figures never fail the run")
    args = ap.parse_args()
    cfg = Config(args)
    routing = MmproxyRouting()
    servers = {}
    t0 = time.monotonic()
    try:
        timed = {}
        if not args.skip_timed:
            servers = start_servers(cfg, routing)
            timed = timed_runs(cfg, servers)
        for s in servers.values():
            s.stop()
        servers = {}
        for silent in cfg.silent:
            silent.close()
        routing.teardown()
        print("bench: system calls (strace)", flush=True)
        syscalls = syscall_figures(cfg)
        print("bench: instructions (callgrind)", flush=True)
        instructions = instruction_figures(cfg)
        print("bench: preload cost", flush=True)
        preload = preload_figures(cfg)
        print("bench: UDP", flush=True)
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import bench_udp
        udp_lines, udp_missed = bench_udp.run(cfg, sys.modules[__name__], routing,
                                              skip_timed=args.skip_timed)
        print("bench: proxyproto-run", flush=True)
        launcher = launcher_figures(cfg)
        text, missed = report(cfg, timed, syscalls, instructions, preload, launcher)
        text += "\n\n" + "\n".join(udp_lines)
        missed += udp_missed
    finally:
        for s in servers.values():
            s.stop()
        routing.teardown()
        shutil.rmtree(cfg.tmp, ignore_errors=True)
    print()
    print(text)
    print("\nbench: %.0f s" % (time.monotonic() - t0))
    if args.output:
        with open(args.output, "w") as f:
            f.write(text + "\n")
    if CI and cfg.missing_tools:
        print("bench: missing under CI=true: %s" % " ".join(sorted(set(cfg.missing_tools))))
        return 1
    if args.enforce and missed:
        print("bench: counted target missed: " + "; ".join(missed))
        return 1
    # Failed connections of the library's own variants and of the baselines
    # fail the run; go-mmproxy's are only reported (in the table).
    ours = {(v[0], v[1]) for v in VARIANTS if v[2] not in PROXY_BACKENDS}
    errors = sum(r["errors"] for key, runs in timed.items()
                 if runs and key in ours for r in runs)
    if errors:
        print("bench: %d failed connections in the timed runs" % errors)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
