// The benchmark's load generator: one thread, epoll, N concurrent clients.
// (tcpkali, which the original README used, is not in Debian.)
//
//   pp_loadgen --port P --mode short|http|long [--header none|v1|v2]
//              [--clients N] [--seconds S | --count N] [--size BYTES]
//              [--lockstep] [--header-delay-us N]
//
// short  each client connects, writes the header (if any) and "PING\r\n" in
//        one write, reads the 6-byte echo, closes, and starts again.
//        Reports connections/s and the p50/p99 latency from connect() to
//        the last byte of the response.
// http   the same with "GET / HTTP/1.0" and the response read to EOF.
// long   N connections are opened first (header sent once); then each
//        sends --size bytes, waits for their echo, and repeats. Reports
//        round trips/s and Mbps (bytes in both directions).
//
// The header's source is 127.x.y.z (varied per connection, so that
// go-mmproxy, which binds the source it is given, never reuses a 4-tuple)
// and its destination is the server's address.
//
// Each connection comes from one of 250 loopback sources (127.1.0.1 to
// 127.1.0.250), in turn. Short connections closed by the client first leave
// it in TIME_WAIT for 60 s, and one source address has only the 28,232
// ports of ip_local_port_range: a few rounds of 25,000 connections/s from
// 127.0.0.1 alone exhaust them, after which every connect() waits in the
// kernel for a port (about 20 ms each here, whatever the server is). That
// stall would land on whichever variant happens to run then.
//
// --header-delay-us N (short, http): the header and the request go
//        together N microseconds after the connection is established, as
//        behind a balancer that sends the header with the client's first
//        data (an AWS NLB), instead of at once.
//
// --lockstep (short): after the echo, shut down the sending side and wait
//        for the server's close before the next connection starts, so that
//        a server traced with one client does the same calls for every
//        connection (strace and callgrind counts in bench.py).
//
// One result line on standard output: key=value pairs, for bench.py.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace {

enum class mode { short_echo, http, long_echo };
enum class header_kind { none, v1, v2 };

struct options {
  unsigned port = 0;
  mode workload = mode::short_echo;
  header_kind header = header_kind::none;
  int clients = 16;
  double seconds = 3.0;
  long count = -1;  // a fixed number of connections instead of a duration
  size_t size = 4096;
  bool lockstep = false;
  long header_delay_us = 0;
};

[[noreturn]] void usage() {
  fprintf(stderr,
          "usage: pp_loadgen --port P --mode short|http|long "
          "[--header none|v1|v2] [--clients N] [--seconds S | --count N] "
          "[--size BYTES]\n");
  exit(2);
}

options parse_options(int argc, char **argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    if (strcmp(a, "--lockstep") == 0) {
      o.lockstep = true;
      continue;
    }
    if (i + 1 >= argc) usage();
    const char *v = argv[++i];
    if (strcmp(a, "--port") == 0) {
      o.port = static_cast<unsigned>(strtoul(v, nullptr, 10));
    } else if (strcmp(a, "--mode") == 0) {
      if (strcmp(v, "short") == 0) o.workload = mode::short_echo;
      else if (strcmp(v, "http") == 0) o.workload = mode::http;
      else if (strcmp(v, "long") == 0) o.workload = mode::long_echo;
      else usage();
    } else if (strcmp(a, "--header") == 0) {
      if (strcmp(v, "none") == 0) o.header = header_kind::none;
      else if (strcmp(v, "v1") == 0) o.header = header_kind::v1;
      else if (strcmp(v, "v2") == 0) o.header = header_kind::v2;
      else usage();
    } else if (strcmp(a, "--clients") == 0) {
      o.clients = atoi(v);
    } else if (strcmp(a, "--seconds") == 0) {
      o.seconds = atof(v);
    } else if (strcmp(a, "--count") == 0) {
      o.count = atol(v);
    } else if (strcmp(a, "--header-delay-us") == 0) {
      o.header_delay_us = atol(v);
    } else if (strcmp(a, "--size") == 0) {
      o.size = static_cast<size_t>(strtoul(v, nullptr, 10));
    } else {
      usage();
    }
  }
  if (o.port == 0 || o.clients < 1 || o.size < 1) usage();
  return o;
}

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u +
         static_cast<uint64_t>(ts.tv_nsec);
}

// Binds `fd` to the next loopback source address (see the top); the port
// is left to connect(), which then needs it unique for the 4-tuple only.
void bind_next_source(int fd) {
  static unsigned next = 0;
  const int one = 1;
  setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(0x7f010001u + next);
  next = (next + 1) % 250;
  bind(fd, reinterpret_cast<sockaddr *>(&sin), sizeof sin);
}

// The header for connection number k, written to out; returns its length.
size_t write_header(header_kind kind, uint64_t k, unsigned dport, char *out) {
  const uint32_t src = 0x7f000000u | static_cast<uint32_t>(2 + k % 0xfffff0u);
  const unsigned sport = 20000 + static_cast<unsigned>(k % 40000);
  if (kind == header_kind::v1) {
    const int n = snprintf(out, 108, "PROXY TCP4 127.%u.%u.%u 127.0.0.1 %u %u\r\n",
                           (src >> 16) & 0xffu, (src >> 8) & 0xffu, src & 0xffu,
                           sport, dport);
    return static_cast<size_t>(n);
  }
  if (kind == header_kind::v2) {
    static const unsigned char sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                          0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    unsigned char *p = reinterpret_cast<unsigned char *>(out);
    memcpy(p, sig, 12);
    p[12] = 0x21;  // version 2, PROXY
    p[13] = 0x11;  // TCP over IPv4
    p[14] = 0;
    p[15] = 12;
    const uint32_t s = htonl(src), d = htonl(INADDR_LOOPBACK);
    const uint16_t sp = htons(static_cast<uint16_t>(sport));
    const uint16_t dp = htons(static_cast<uint16_t>(dport));
    memcpy(p + 16, &s, 4);
    memcpy(p + 20, &d, 4);
    memcpy(p + 24, &sp, 2);
    memcpy(p + 26, &dp, 2);
    return 28;
  }
  return 0;
}

struct client {
  int fd = -1;
  enum { idle, connecting, delayed, waiting, draining } state = idle;
  uint64_t send_at = 0;  // delayed: when the header and request go
  uint64_t started = 0;  // short/http: connect() time; long: send time
  size_t expect = 0;     // bytes of response still due (short, long)
  size_t got = 0;        // bytes of response so far
};

constexpr char ping[] = "PING\r\n";
constexpr char http_request[] = "GET / HTTP/1.0\r\nHost: bench\r\n\r\n";

struct totals {
  uint64_t done = 0;    // connections (short/http) or round trips (long)
  uint64_t errors = 0;
  uint64_t bytes = 0;   // payload bytes sent plus received
  std::vector<uint32_t> latency_us;
};

sockaddr_in server_address(unsigned port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(static_cast<uint16_t>(port));
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sin;
}

class generator {
 public:
  explicit generator(const options &o)
      : o_(o), clients_(static_cast<size_t>(o.clients)),
        addr_(server_address(o.port)),
        next_id_(static_cast<uint64_t>(getpid()) * 7919u + now_ns() % 100000u),
        payload_(o.size, 'x') {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
  }

  int run();

 private:
  bool start_short(size_t i);
  void on_short_event(size_t i, uint32_t events);
  void send_request(size_t i);
  uint64_t send_delayed();
  bool open_long(size_t i);
  void on_long_event(size_t i);
  void finish(size_t i, bool ok);
  bool send_all(int fd, const char *data, size_t len);

  const options &o_;
  std::vector<client> clients_;
  sockaddr_in addr_;
  uint64_t next_id_;
  std::vector<char> payload_;
  int ep_ = -1;
  uint64_t started_total_ = 0;
  bool stopping_ = false;
  totals t_;
  char buf_[65536];
};

bool generator::send_all(int fd, const char *data, size_t len) {
  size_t off = 0;
  while (off < len) {
    const ssize_t w = send(fd, data + off, len - off, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;  // a full send buffer counts as an error
    off += static_cast<size_t>(w);
  }
  return true;
}

bool generator::start_short(size_t i) {
  client &c = clients_[i];
  if (stopping_ || (o_.count >= 0 && started_total_ >= static_cast<uint64_t>(o_.count))) {
    c.state = client::idle;
    return false;
  }
  ++started_total_;
  c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) {
    ++t_.errors;
    c.state = client::idle;
    return false;
  }
  const int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  bind_next_source(c.fd);
  c.started = now_ns();
  c.got = 0;
  const int rc = connect(c.fd, reinterpret_cast<sockaddr *>(&addr_), sizeof addr_);
  if (rc != 0 && errno != EINPROGRESS) {
    ++t_.errors;
    close(c.fd);
    c.fd = -1;
    c.state = client::idle;
    return false;
  }
  c.state = client::connecting;
  epoll_event ev{};
  ev.events = EPOLLOUT;
  ev.data.u64 = i;
  epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
  return true;
}

void generator::finish(size_t i, bool ok) {
  client &c = clients_[i];
  if (stopping_) {
    // Past the measured interval: neither counted nor replaced.
  } else if (ok) {
    ++t_.done;
    t_.latency_us.push_back(static_cast<uint32_t>((now_ns() - c.started) / 1000));
  } else {
    ++t_.errors;
  }
  close(c.fd);
  c.fd = -1;
  c.state = client::idle;
  start_short(i);
}

void generator::on_short_event(size_t i, uint32_t events) {
  client &c = clients_[i];
  if (c.state == client::connecting) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0 || (events & EPOLLERR)) return finish(i, false);
    if (o_.header_delay_us > 0) {
      c.state = client::delayed;
      c.send_at = now_ns() + static_cast<uint64_t>(o_.header_delay_us) * 1000u;
      epoll_event ev{};
      ev.events = EPOLLIN;  // only an early close or reset is reported
      ev.data.u64 = i;
      epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
      return;
    }
    return send_request(i);
  }
  if (c.state == client::delayed) return finish(i, false);  // closed early
  for (;;) {
    const ssize_t r = recv(c.fd, buf_, sizeof buf_, 0);
    if (r > 0 && c.state == client::draining) return finish(i, false);
    if (r == 0 && c.state == client::draining) return finish(i, true);
    if (r > 0) {
      if (c.got == 0 && o_.workload == mode::http &&
          (r < 12 || memcmp(buf_, "HTTP/1.1 200", 12) != 0))
        return finish(i, false);
      c.got += static_cast<size_t>(r);
      t_.bytes += static_cast<size_t>(r);
      if (o_.workload == mode::short_echo && c.got >= c.expect) {
        if (c.got != c.expect || !o_.lockstep) return finish(i, c.got == c.expect);
        shutdown(c.fd, SHUT_WR);
        c.state = client::draining;
        return;
      }
      continue;
    }
    if (r < 0 && errno == EAGAIN) return;
    if (r < 0 && errno == EINTR) continue;
    // EOF: the end of an HTTP/1.0 response, an error for the echo.
    return finish(i, r == 0 && o_.workload == mode::http && c.got > 0);
  }
}

void generator::send_request(size_t i) {
  client &c = clients_[i];
  // Header and request in one write: the header arrives with the data.
  char out[160];
  size_t n = write_header(o_.header, next_id_++, o_.port, out);
  const char *req = o_.workload == mode::http ? http_request : ping;
  const size_t req_len = strlen(req);
  memcpy(out + n, req, req_len);
  n += req_len;
  if (!send_all(c.fd, out, n)) return finish(i, false);
  t_.bytes += n;
  c.expect = o_.workload == mode::http ? SIZE_MAX : req_len;
  c.state = client::waiting;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = i;
  epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
}

// Sends what is due; returns the nearest time still to come (0: none).
uint64_t generator::send_delayed() {
  uint64_t next = 0;
  const uint64_t now = now_ns();
  for (size_t i = 0; i < clients_.size(); ++i) {
    client &c = clients_[i];
    if (c.state != client::delayed) continue;
    if (c.send_at <= now) {
      send_request(i);
    } else if (next == 0 || c.send_at < next) {
      next = c.send_at;
    }
  }
  return next;
}

bool generator::open_long(size_t i) {
  client &c = clients_[i];
  c.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c.fd < 0) return false;
  const int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(c.fd, reinterpret_cast<sockaddr *>(&addr_), sizeof addr_))
    return false;
  char out[160];
  const size_t n = write_header(o_.header, next_id_++, o_.port, out);
  if (n > 0 && !send_all(c.fd, out, n)) return false;
  fcntl(c.fd, F_SETFL, O_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = i;
  epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
  c.state = client::waiting;
  return true;
}

void generator::on_long_event(size_t i) {
  client &c = clients_[i];
  for (;;) {
    const ssize_t r = recv(c.fd, buf_, sizeof buf_, 0);
    if (r > 0) {
      c.got += static_cast<size_t>(r);
      t_.bytes += static_cast<size_t>(r);
      if (c.got < o_.size) continue;
      ++t_.done;
      t_.latency_us.push_back(static_cast<uint32_t>((now_ns() - c.started) / 1000));
      if (c.got > o_.size) ++t_.errors;
      if (stopping_) return;
      c.got = 0;
      c.started = now_ns();
      if (!send_all(c.fd, payload_.data(), o_.size)) ++t_.errors;
      t_.bytes += o_.size;
      return;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) return;
    ++t_.errors;  // the server closed or reset a long connection
    epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
    return;
  }
}

int generator::run() {
  if (ep_ < 0) return 1;
  const bool long_mode = o_.workload == mode::long_echo;
  if (long_mode) {
    for (size_t i = 0; i < clients_.size(); ++i) {
      if (!open_long(i)) {
        fprintf(stderr, "pp_loadgen: connection %zu failed: %s\n", i,
                strerror(errno));
        return 1;
      }
    }
  }
  const uint64_t t0 = now_ns();
  const uint64_t end = t0 + static_cast<uint64_t>(o_.seconds * 1e9);
  if (long_mode) {
    for (client &c : clients_) {
      c.started = now_ns();
      if (send_all(c.fd, payload_.data(), o_.size)) t_.bytes += o_.size;
      else ++t_.errors;
    }
  } else {
    for (size_t i = 0; i < clients_.size(); ++i) start_short(i);
  }
  epoll_event events[256];
  uint64_t t1 = t0;
  for (;;) {
    const uint64_t now = now_ns();
    if (o_.count < 0 && !stopping_ && now >= end) {
      stopping_ = true;
      t1 = now;
      if (long_mode) break;
    }
    size_t busy = 0;
    for (const client &c : clients_) busy += c.state != client::idle;
    if (!long_mode && busy == 0) break;
    // In-flight work at the stop is given 5 s, then counted as errors.
    if (stopping_ && now > t1 + 5000000000u) {
      t_.errors += busy;
      break;
    }
    timespec wait{0, 100000000};  // 100 ms
    if (o_.header_delay_us > 0) {
      const uint64_t next = send_delayed();
      if (next != 0) {
        const uint64_t at = now_ns();
        const uint64_t ns = next > at ? next - at : 0;
        if (ns < 100000000u) wait = timespec{0, static_cast<long>(ns)};
      }
    }
    const int n = epoll_pwait2(ep_, events, 256, &wait, nullptr);
    for (int k = 0; k < n; ++k) {
      const size_t i = static_cast<size_t>(events[k].data.u64);
      if (long_mode) on_long_event(i);
      else on_short_event(i, events[k].events);
    }
  }
  if (!stopping_) t1 = now_ns();  // --count: the run ends with the last one
  const double elapsed = static_cast<double>(t1 - t0) / 1e9;
  std::vector<uint32_t> &lat = t_.latency_us;
  std::sort(lat.begin(), lat.end());
  const auto pct = [&lat](double p) -> unsigned {
    if (lat.empty()) return 0;
    size_t idx = static_cast<size_t>(p * static_cast<double>(lat.size() - 1));
    return lat[idx];
  };
  printf("mode=%s done=%llu errors=%llu seconds=%.3f rate=%.1f mbps=%.2f "
         "p50_us=%u p99_us=%u\n",
         long_mode ? "long" : (o_.workload == mode::http ? "http" : "short"),
         static_cast<unsigned long long>(t_.done),
         static_cast<unsigned long long>(t_.errors), elapsed,
         static_cast<double>(t_.done) / elapsed,
         static_cast<double>(t_.bytes) * 8 / elapsed / 1e6, pct(0.50),
         pct(0.99));
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  const options o = parse_options(argc, argv);
  static generator g(o);
  return g.run();
}
