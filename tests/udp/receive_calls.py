#!/usr/bin/env python3
"""tests/udp/receive_calls.py: every receive call of an unmodified UDP
server (tests/udp/udp_server) under libproxyproto.so with LIBPROXYPROTO_UDP,
and an asyncio DatagramProtocol server. A fixed mix of datagrams (good
headers, bad ones of each kind, none) is sent from a loopback socket; the
server must see exactly the good ones and the header-less one, in order,
with the header's source as sender, and its answers must come back to the
sender (through the reply map). Prints TAP-like lines; exit 1 on failure."""
import os
import queue
import select
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pp_datagrams as d  # noqa: E402

SO = os.environ["LIBPROXYPROTO_SO"]
SERVER = os.environ["PP_UDP_SERVER"]
SCALE = float(os.environ.get("PP_TIME_SCALE", "1"))
DEADLINE = 10 * SCALE
failures = 0
passes = 0


def check(desc, got, want):
    global failures, passes
    if got == want:
        passes += 1
        print(f"ok - {desc}")
    else:
        failures += 1
        print(f"not ok - {desc}\n#   expected: {want!r}\n#   got:      {got!r}")


def clean_env(extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LIBPROXYPROTO_") and k != "LD_PRELOAD"}
    env["LIBPROXYPROTO_CONFIG"] = "/dev/null"
    preload = os.environ.get("LD_PRELOAD")  # a sanitizer runtime goes first
    env["LD_PRELOAD"] = f"{preload}:{SO}" if preload else SO
    env.update(extra)
    return env


class Server:
    def __init__(self, argv, extra):
        self.proc = subprocess.Popen(argv, env=clean_env(extra),
                                     stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        # Lines come through a thread: select() on a buffered pipe misses
        # lines already read ahead.
        self.lines = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        line = self.readline()
        if not line or not line.startswith("port "):
            raise SystemExit(f"Bail out! server did not start: {line!r}")
        self.port = int(line.split()[1])

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put("")

    def readline(self, timeout=DEADLINE):
        try:
            return self.lines.get(timeout=max(timeout, 0.001))
        except queue.Empty:
            return None

    def go(self):
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def lines_until_done(self):
        out = []
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            line = self.readline(end - time.monotonic())
            if line is None or line == "" or line == "done":
                break
            out.append(line)
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def client(six=False):
    s = socket.socket(socket.AF_INET6 if six else socket.AF_INET,
                      socket.SOCK_DGRAM)
    s.bind(("::1" if six else "127.0.0.1", 0))
    return s


def echoes(sock, count, timeout=3.0):
    out = []
    end = time.monotonic() + timeout * SCALE
    while len(out) < count and time.monotonic() < end:
        ready, _, _ = select.select([sock], [], [], end - time.monotonic())
        if ready:
            out.append(sock.recv(4096))
    return out


def mix():
    """(datagram, kept?, claimed sender or None for the real one, payload)"""
    return [
        (d.header("203.0.113.1", 1001) + b"one", True, "203.0.113.1:1001", b"one"),
        (d.bad_checksum("203.0.113.2", 1002) + b"x", False, None, None),
        (b"plain", True, None, b"plain"),
        (d.truncated(), False, None, None),
        (d.longer_than_datagram("203.0.113.3", 1003) + b"y", False, None, None),
        (d.local() + b"local", True, None, b"local"),
        (d.header("203.0.113.4", 1004, family=0x11) + b"tcpfam", True, None, b"tcpfam"),
        (d.bad_version("203.0.113.6", 1006) + b"z", False, None, None),
        (d.header("203.0.113.5", 1005, checksum=True) + b"five", True,
         "203.0.113.5:1005", b"five"),
    ]


def expected_lines(sender, with_address=True, extra=""):
    out = []
    for _, kept, claimed, payload in mix():
        if not kept:
            continue
        frm = (claimed or sender) if with_address else "none"
        out.append(f"dgram from={frm} len={len(payload)} data={payload.hex()}{extra}")
    return out


def run_mix(mode, desc, extra_env=None, with_address=True, line_extra="",
            replies=True):
    c = client()
    sender = f"127.0.0.1:{c.getsockname()[1]}"
    env = {"LIBPROXYPROTO_UDP": "1"}
    env.update(extra_env or {})
    good = sum(1 for m in mix() if m[1])
    srv = Server([SERVER, mode, str(good)], env)
    try:
        for datagram, _, _, _ in mix():
            c.sendto(datagram, ("127.0.0.1", srv.port))
        srv.go()
        lines = srv.lines_until_done()
        if mode == "peek":
            peeked = [l for l in lines if l.endswith(" peeked")]
            lines = [l for l in lines if not l.endswith(" peeked")]
            check(f"{desc}: MSG_PEEK shows each kept datagram first",
                  [l[:-len(" peeked")] for l in peeked], expected_lines(sender))
        if mode.startswith("recvmmsg"):
            batches = [l for l in lines if l.startswith(("batch ", "slot "))]
            lines = [l for l in lines if not l.startswith(("batch ", "slot "))]
            check(f"{desc}: one call returns every kept datagram", batches,
                  [f"batch n={good}"])
        if mode == "nonblock":
            lines = [l for l in lines if not l.startswith("eagain")]
        check(f"{desc}: the server sees the kept datagrams, in order", lines,
              expected_lines(sender, with_address, line_extra))
        if replies:
            want = sorted(b"echo:" + m[3] for m in mix() if m[1])
            check(f"{desc}: every answer reaches the sender",
                  sorted(echoes(c, good)), want)
    finally:
        srv.stop()
        c.close()


def run_untouched(desc, env):
    """Settings under which the library must leave datagrams alone."""
    c = client()
    sender = f"127.0.0.1:{c.getsockname()[1]}"
    datagrams = [m[0] for m in mix()]
    srv = Server([SERVER, "recvfrom", str(len(datagrams))], env)
    try:
        for datagram in datagrams:
            c.sendto(datagram, ("127.0.0.1", srv.port))
        srv.go()
        check(f"{desc}: every datagram arrives as sent, from the real sender",
              srv.lines_until_done(),
              [f"dgram from={sender} len={len(x)} data={x.hex()}" for x in datagrams])
    finally:
        srv.stop()
        c.close()


def run_single(mode, datagram, desc, want_line, env=None):
    c = client()
    srv = Server([SERVER, mode, "1"], dict({"LIBPROXYPROTO_UDP": "1"}, **(env or {})))
    try:
        c.sendto(datagram, ("127.0.0.1", srv.port))
        srv.go()
        check(desc, srv.lines_until_done(), [want_line])
    finally:
        srv.stop()
        c.close()


def run_blocking():
    """Bad datagrams never make a blocking call return early."""
    c = client()
    srv = Server([SERVER, "recvfrom", "1"], {"LIBPROXYPROTO_UDP": "1"})
    try:
        srv.go()
        time.sleep(0.2)
        for datagram, kept, _, _ in mix():
            if not kept:
                c.sendto(datagram, ("127.0.0.1", srv.port))
        time.sleep(0.3)
        early = srv.readline(0.1)
        c.sendto(d.header("198.51.100.7", 7007) + b"late", ("127.0.0.1", srv.port))
        check("blocking recvfrom: discarded datagrams do not end the call",
              [early] + srv.lines_until_done(),
              [None, f"dgram from=198.51.100.7:7007 len=4 data={b'late'.hex()}"])
    finally:
        srv.stop()
        c.close()


def run_six():
    c = client(six=True)
    sender = f"[::1]:{c.getsockname()[1]}"
    sent = [
        (d.header("203.0.113.1", 1001, dst="::1") + b"v4", "[::ffff:203.0.113.1]:1001", b"v4"),
        (d.header("2001:db8::9", 1009, dst="::1") + b"v6", "[2001:db8::9]:1009", b"v6"),
        (b"plain6", sender, b"plain6"),
    ]
    srv = Server([SERVER, "recvmsg", str(len(sent)), "six"], {"LIBPROXYPROTO_UDP": "1"})
    try:
        for datagram, _, _ in sent:
            c.sendto(datagram, ("::1", srv.port))
        srv.go()
        check("IPv6 socket: IPv4 sources as ::ffff:, IPv6 ones as they are, ancillary data kept",
              srv.lines_until_done(),
              [f"dgram from={f} len={len(p)} data={p.hex()} pktinfo=::1" for _, f, p in sent])
        check("IPv6 socket: answers reach the sender",
              sorted(echoes(c, 3)), sorted(b"echo:" + p for _, _, p in sent))
    finally:
        srv.stop()
        c.close()


def run_reply_lifetime():
    for seconds, arrives in (("1", False), ("60", True)):
        c = client()
        srv = Server([SERVER, "late", "1"], {"LIBPROXYPROTO_UDP": "1",
                                             "LIBPROXYPROTO_UDP_REPLY_SECONDS": seconds})
        try:
            c.sendto(d.header("203.0.113.8", 1008) + b"later", ("127.0.0.1", srv.port))
            srv.go()
            srv.lines_until_done()
            got = echoes(c, 1, timeout=1.0)
            check(f"reply map of {seconds} s: an answer 2.5 s later "
                  f"{'reaches the proxy' if arrives else 'goes where the server sends it'}",
                  got, [b"echo:later"] if arrives else [])
        finally:
            srv.stop()
            c.close()


def run_reply_entries():
    """The map holds LIBPROXYPROTO_UDP_REPLY_ENTRIES clients: with 8, of 16
    clients received before any answer only the last 8 are answered
    through the proxy; the default holds them all."""
    for entries, want in (("8", 8), (None, 16)):
        c = client()
        env = {"LIBPROXYPROTO_UDP": "1"}
        if entries:
            env["LIBPROXYPROTO_UDP_REPLY_ENTRIES"] = entries
        srv = Server([SERVER, "collect", "16"], env)
        try:
            for i in range(16):
                c.sendto(d.header("203.0.113.%d" % (10 + i), 2000 + i) + b"c%02d" % i,
                         ("127.0.0.1", srv.port))
            srv.go()
            srv.lines_until_done()
            got = sorted(echoes(c, 16, timeout=1.5))
            check("reply map of %s entries: %d of 16 clients answered through the proxy"
                  % (entries or "4096 (default)", want), got,
                  sorted(b"echo:c%02d" % i for i in range(16 - want, 16)))
        finally:
            srv.stop()
            c.close()


def run_asyncio():
    run_event_loop_server("asyncio DatagramProtocol", [
        sys.executable, os.path.join(os.path.dirname(__file__), "asyncio_echo.py"),
        str(20 * SCALE)], replies=True)


def run_node():
    """Node.js dgram receives through libuv's recvmsg() from the C library.
    Its answers go out through libuv's sendmmsg, which libuv 1.44 (Debian
    12's libuv1) makes as a raw system call that no preload sees, and newer
    ones (bundled in Node.js 20) through the C library: the answers are
    checked only when the binary takes sendmmsg from the C library."""
    import shutil
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        if os.environ.get("CI") == "true":
            check("node is installed (CI=true)", False, True)
        else:
            print("ok - node dgram # SKIP node is not installed")
        return
    nm = subprocess.run(["nm", "-D", "--undefined-only", node],
                        capture_output=True, text=True)
    libc_sendmmsg = "sendmmsg@" in nm.stdout
    run_event_loop_server("Node.js dgram", [
        node, os.path.join(os.path.dirname(__file__), "node_dgram.js"),
        str(20 * SCALE)], replies=libc_sendmmsg)


def run_event_loop_server(desc, argv, replies):
    c = client()
    sender = f"127.0.0.1:{c.getsockname()[1]}"
    srv = Server(argv, {"LIBPROXYPROTO_UDP": "1"})
    try:
        for datagram, _, _, _ in mix():
            c.sendto(datagram, ("127.0.0.1", srv.port))
        lines = []
        good = [m for m in mix() if m[1]]
        while len(lines) < len(good):
            line = srv.readline()
            if not line:
                break
            lines.append(line)
        check(f"{desc}: the server gets the kept datagrams and their sources",
              lines, [f"dgram from={m[2] or sender} data={m[3].hex()}" for m in good])
        if replies:
            check(f"{desc}: its answers reach the sender",
                  sorted(echoes(c, len(good))), sorted(b"echo:" + m[3] for m in good))
    finally:
        srv.stop()
        c.close()


def main():
    for mode in ("recvfrom", "recvmsg", "peek", "nonblock"):
        run_mix(mode, mode, line_extra=" pktinfo=127.0.0.1" if mode == "recvmsg" else "")
    for mode in ("recv", "read", "readv"):
        run_mix(mode, mode, with_address=False, replies=False)
    run_mix("recvmmsg", "recvmmsg MSG_WAITFORONE, 8 slots", line_extra=" pktinfo=127.0.0.1")
    run_mix("recvmmsg-all", "recvmmsg blocking for all slots", line_extra=" pktinfo=127.0.0.1")
    run_mix("recvmmsg-reversed", "recvmmsg, name buffers in descending order",
            line_extra=" pktinfo=127.0.0.1")
    run_must_use()
    run_single("trunc", d.header("203.0.113.1", 1001) + b"abcdefgh",
               "a 4-byte buffer with MSG_TRUNC: 4 payload bytes, the payload's length, MSG_TRUNC",
               "dgram from=203.0.113.1:1001 len=8 data=61626364 flags=trunc pktinfo=127.0.0.1")
    run_single("namelen", d.header("203.0.113.1", 1001) + b"abc",
               "an address buffer of 4 bytes: 4 bytes copied, the full length reported",
               "namelen=16 port=1001 byte4=ee")
    run_blocking()
    run_six()
    run_reply_lifetime()
    run_reply_entries()
    run_asyncio()
    run_node()
    run_untouched("LIBPROXYPROTO_UDP unset", {})
    run_untouched("LIBPROXYPROTO_UDP=0", {"LIBPROXYPROTO_UDP": "0"})
    run_untouched("sender outside LIBPROXYPROTO_ALLOW",
                  {"LIBPROXYPROTO_UDP": "1", "LIBPROXYPROTO_ALLOW": "10.0.0.1"})
    run_untouched("LIBPROXYPROTO_VERSION=1, even under must-use (no v1 on UDP)",
                  {"LIBPROXYPROTO_UDP": "1", "LIBPROXYPROTO_VERSION": "1",
                   "LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER": "1"})
    run_untouched("socket port outside LIBPROXYPROTO_PORTS",
                  {"LIBPROXYPROTO_UDP": "1", "LIBPROXYPROTO_PORTS": "1"})
    print(f"{passes} passed, {failures} failed")
    return 1 if failures or not passes else 0


def run_must_use():
    c = client()
    srv = Server([SERVER, "recvfrom", "2"], {"LIBPROXYPROTO_UDP": "1",
                                             "LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER": "1"})
    try:
        for datagram, _, _, _ in mix():
            c.sendto(datagram, ("127.0.0.1", srv.port))
        srv.go()
        check("must-use: only datagrams with a header are seen",
              srv.lines_until_done()[:2],
              ["dgram from=203.0.113.1:1001 len=3 data=" + b"one".hex(),
               f"dgram from=127.0.0.1:{c.getsockname()[1]} len=5 data=" + b"local".hex()])
    finally:
        srv.stop()
        c.close()


if __name__ == "__main__":
    sys.exit(main())
