// The client side of the tests in tests/servers/: it writes PROXY headers
// itself (v1 or v2, whole or in timed segments), claims a distinct source
// address per connection, and measures how long the server takes to answer.
// It speaks load_server's protocol (see load_server.cc):
//   server: "hello <accept>|<peer>\n"; client: "claim <address>\n";
//   server: "ok\n" or "mismatch ...\n".
//
// Target: --port P (127.0.0.1) or --unix PATH. Every wait is bounded by
// --max-wait-ms (default 5000). One mode per run; each prints one result
// line (the test scripts parse it):
//
//   --flood N [--concurrency C]   N connections from C threads, header and
//       claim sent with the connection, v1/v2 and IPv4/IPv6 claims in turn:
//       "flood connections=N ok=K bad=B errors=E elapsed_ms=T"
//   --ordering [--settle-ms S]    a silent connection first, S ms later
//       (default 200) a proxied one: time from its header to its answers:
//       "ordering hello_ms=H reply_ms=R result=ok|..."
//   --split --version 1|2 --segments K [--gap-min A --gap-max B]
//       the header in K segments with real gaps (TCP_NODELAY), then a claim:
//       "split version=V segments=K gaps_ms=a,b total_ms=T hello=... result=..."
//   --partial --version 1|2 --bytes B   B bytes of a header, then silence:
//       "partial closed_ms=T result=dropped|served|open"
//   --silent      nothing at all; once greeted, claims its own real address:
//       "silent hello_ms=T hello=... self=... result=ok|dropped|open|..."
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

struct options {
  int port = 0;
  const char *unix_path = nullptr;
  int max_wait_ms = 5000;
  const char *mode = nullptr;
  long flood = 0;
  int concurrency = 16;
  int settle_ms = 200;
  int version = 2;
  int segments = 2;
  int gap_min = 50;
  int gap_max = 200;
  int bytes = 10;
};

options opt;

long now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  // Milliseconds of the monotonic clock (since boot), which fit a long;
  // tv_sec is 64 bits wide with a 64-bit time_t on a 32-bit target.
  return static_cast<long>(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

void sleep_ms(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

int connect_target() {
  int fd;
  if (opt.unix_path != nullptr) {
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::snprintf(sun.sun_path, sizeof sun.sun_path, "%s", opt.unix_path);
    if (connect(fd, reinterpret_cast<sockaddr *>(&sun), sizeof sun) != 0) {
      close(fd);
      return -1;
    }
  } else {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(opt.port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
      close(fd);
      return -1;
    }
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// A claimed source: IPv4 10.x.y.z or IPv6 2001:db8::x:y, distinct per index.
struct claim {
  bool v6;
  unsigned char addr[16];
  unsigned port;
  char text[96];  // as load_server formats it
};

claim make_claim(long index, bool v6) {
  claim c{};
  c.v6 = v6;
  c.port = 1024 + static_cast<unsigned>(index % 60000);
  char a[INET6_ADDRSTRLEN];
  if (v6) {
    std::snprintf(a, sizeof a, "2001:db8::%lx:%lx", (index >> 16) & 0xffff,
                  index & 0xffff);
    inet_pton(AF_INET6, a, c.addr);
    inet_ntop(AF_INET6, c.addr, a, sizeof a);  // canonical form
    std::snprintf(c.text, sizeof c.text, "inet6 %s %u", a, c.port);
  } else {
    std::snprintf(a, sizeof a, "10.%ld.%ld.%ld", (index >> 16) & 0xff,
                  (index >> 8) & 0xff, index & 0xff);
    inet_pton(AF_INET, a, c.addr);
    std::snprintf(c.text, sizeof c.text, "inet %s %u", a, c.port);
  }
  return c;
}

// The header bytes for `c`, to 127.0.0.1 (or ::1) port 80.
std::string make_header(const claim &c, int version) {
  if (version == 1) {
    char src[INET6_ADDRSTRLEN];
    inet_ntop(c.v6 ? AF_INET6 : AF_INET, c.addr, src, sizeof src);
    char line[160];
    std::snprintf(line, sizeof line, "PROXY %s %s %s %u 80\r\n",
                  c.v6 ? "TCP6" : "TCP4", src, c.v6 ? "::1" : "127.0.0.1",
                  c.port);
    return line;
  }
  std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
  h += '\x21';                    // version 2, PROXY
  h += c.v6 ? '\x21' : '\x11';    // TCP over IPv6 / IPv4
  const unsigned len = c.v6 ? 36 : 12;
  h += static_cast<char>(len >> 8);
  h += static_cast<char>(len & 0xff);
  const size_t alen = c.v6 ? 16 : 4;
  h.append(reinterpret_cast<const char *>(c.addr), alen);
  unsigned char dst[16] = {};
  if (c.v6) {
    dst[15] = 1;
  } else {
    dst[0] = 127;
    dst[3] = 1;
  }
  h.append(reinterpret_cast<const char *>(dst), alen);
  h += static_cast<char>(c.port >> 8);
  h += static_cast<char>(c.port & 0xff);
  h += '\0';
  h += '\x50';
  return h;
}

bool send_all(int fd, const std::string &s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t w = send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    done += static_cast<size_t>(w);
  }
  return true;
}

enum class line_status { line, closed, timeout };

// Reads one line (no newline) before `deadline`; on "closed", `*line` holds
// whatever came before the end of the stream.
line_status read_line(int fd, std::string *line, long deadline) {
  line->clear();
  for (;;) {
    const long left = deadline - now_ms();
    if (left <= 0) return line_status::timeout;
    pollfd p{fd, POLLIN, 0};
    const int rc = poll(&p, 1, static_cast<int>(left));
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) return line_status::timeout;
    char ch;
    const ssize_t r = recv(fd, &ch, 1, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return line_status::closed;
    if (ch == '\n') return line_status::line;
    *line += ch;
  }
}

int run_flood() {
  std::atomic<long> next{0}, ok{0}, bad{0}, errors{0};
  const long start = now_ms();
  auto worker = [&]() {
    for (;;) {
      const long i = next++;
      if (i >= opt.flood) return;
      const claim c = make_claim(i + 1, (i / 2) % 2 == 1);
      const int version = i % 2 == 0 ? 2 : 1;
      const int fd = connect_target();
      if (fd < 0) {
        errors++;
        continue;
      }
      const long deadline = now_ms() + opt.max_wait_ms;
      std::string hello, reply;
      if (!send_all(fd, make_header(c, version) + "claim " + c.text + "\n") ||
          read_line(fd, &hello, deadline) != line_status::line ||
          read_line(fd, &reply, deadline) != line_status::line) {
        errors++;
      } else if (reply == "ok") {
        ok++;
      } else {
        if (bad++ < 5) std::fprintf(stderr, "load_client: %s\n", reply.c_str());
      }
      close(fd);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < opt.concurrency; ++t) pool.emplace_back(worker);
  for (auto &t : pool) t.join();
  std::printf("flood connections=%ld ok=%ld bad=%ld errors=%ld elapsed_ms=%ld\n",
              opt.flood, ok.load(), bad.load(), errors.load(), now_ms() - start);
  return 0;
}

int run_ordering() {
  const int silent = connect_target();
  if (silent < 0) {
    std::printf("ordering result=connect-failed\n");
    return 1;
  }
  sleep_ms(opt.settle_ms);
  const claim c = make_claim(4242, false);
  const int fd = connect_target();
  if (fd < 0) {
    std::printf("ordering result=connect-failed\n");
    return 1;
  }
  const long start = now_ms();
  send_all(fd, make_header(c, 2) + "claim " + c.text + "\n");
  const long deadline = start + opt.max_wait_ms;
  std::string hello, reply;
  long hello_ms = -1, reply_ms = -1;
  const char *result = "ok";
  if (read_line(fd, &hello, deadline) != line_status::line) {
    result = "no-hello";
  } else {
    hello_ms = now_ms() - start;
    if (read_line(fd, &reply, deadline) != line_status::line) {
      result = "no-reply";
    } else {
      reply_ms = now_ms() - start;
      if (reply != "ok") result = "mismatch";
    }
  }
  std::printf("ordering hello_ms=%ld reply_ms=%ld result=%s hello=%s reply=%s\n",
              hello_ms, reply_ms, result, hello.c_str(), reply.c_str());
  close(fd);
  close(silent);
  return 0;
}

int run_split() {
  const claim c = make_claim(777, opt.version == 2);
  const std::string header = make_header(c, opt.version);
  const int fd = connect_target();
  if (fd < 0) {
    std::printf("split result=connect-failed\n");
    return 1;
  }
  srand(static_cast<unsigned>(now_ms()));
  const size_t k = static_cast<size_t>(opt.segments);
  const long start = now_ms();
  std::string gaps;
  size_t done = 0;
  for (size_t s = 0; s < k; ++s) {
    const size_t end = s + 1 == k ? header.size() : header.size() * (s + 1) / k;
    if (s > 0) {
      const long want = opt.gap_min + rand() % (opt.gap_max - opt.gap_min + 1);
      const long t0 = now_ms();
      sleep_ms(want);
      gaps += (gaps.empty() ? "" : ",") + std::to_string(now_ms() - t0);
    }
    send_all(fd, header.substr(done, end - done));
    done = end;
  }
  send_all(fd, std::string("claim ") + c.text + "\n");
  const long deadline = now_ms() + opt.max_wait_ms;
  std::string hello, reply;
  const char *result = "ok";
  if (read_line(fd, &hello, deadline) != line_status::line) {
    result = "no-hello";
  } else if (read_line(fd, &reply, deadline) != line_status::line) {
    result = "no-reply";
  } else if (reply != "ok") {
    result = "mismatch";
  }
  std::printf("split version=%d segments=%d gaps_ms=%s total_ms=%ld claim=%s "
              "hello=%s reply=%s result=%s\n",
              opt.version, opt.segments, gaps.c_str(), now_ms() - start, c.text,
              hello.c_str(), reply.c_str(), result);
  close(fd);
  return 0;
}

int run_partial() {
  const claim c = make_claim(99, false);
  const std::string header = make_header(c, opt.version);
  const int fd = connect_target();
  if (fd < 0) {
    std::printf("partial result=connect-failed\n");
    return 1;
  }
  const size_t n = std::min(header.size() - 1, static_cast<size_t>(opt.bytes));
  const long start = now_ms();
  send_all(fd, header.substr(0, n));
  std::string got;
  const line_status st = read_line(fd, &got, start + opt.max_wait_ms);
  const char *result = st == line_status::timeout ? "open"
                       : st == line_status::line || !got.empty() ? "served"
                                                                   : "dropped";
  std::printf("partial version=%d bytes=%zu closed_ms=%ld result=%s got=%s\n",
              opt.version, n, now_ms() - start, result, got.c_str());
  close(fd);
  return 0;
}

int run_silent() {
  const int fd = connect_target();
  if (fd < 0) {
    std::printf("silent result=connect-failed\n");
    return 1;
  }
  sockaddr_in self{};
  socklen_t len = sizeof self;
  getsockname(fd, reinterpret_cast<sockaddr *>(&self), &len);
  char self_text[64];
  char a[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &self.sin_addr, a, sizeof a);
  std::snprintf(self_text, sizeof self_text, "inet %s %u", a,
                ntohs(self.sin_port));
  const long start = now_ms();
  std::string hello, reply;
  const line_status st = read_line(fd, &hello, start + opt.max_wait_ms);
  const long hello_ms = now_ms() - start;
  std::string result;
  if (st == line_status::timeout) {
    result = "open";
  } else if (st == line_status::closed) {
    result = hello.empty() ? "dropped" : "closed-after-data";
  } else {
    send_all(fd, std::string("claim ") + self_text + "\n");
    if (read_line(fd, &reply, now_ms() + opt.max_wait_ms) != line_status::line)
      result = "no-reply";
    else
      result = reply == "ok" ? "ok" : "mismatch";
  }
  std::printf("silent hello_ms=%ld self=%s hello=%s reply=%s result=%s\n",
              hello_ms, self_text, hello.c_str(), reply.c_str(),
              result.c_str());
  close(fd);
  return 0;
}

}  // namespace

int main(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : "";
    auto num = [&]() {
      ++i;
      return std::atoi(v);
    };
    if (!std::strcmp(a, "--port")) opt.port = num();
    else if (!std::strcmp(a, "--unix")) opt.unix_path = v, ++i;
    else if (!std::strcmp(a, "--max-wait-ms")) opt.max_wait_ms = num();
    else if (!std::strcmp(a, "--flood")) opt.mode = "flood", opt.flood = num();
    else if (!std::strcmp(a, "--concurrency")) opt.concurrency = num();
    else if (!std::strcmp(a, "--ordering")) opt.mode = "ordering";
    else if (!std::strcmp(a, "--settle-ms")) opt.settle_ms = num();
    else if (!std::strcmp(a, "--split")) opt.mode = "split";
    else if (!std::strcmp(a, "--partial")) opt.mode = "partial";
    else if (!std::strcmp(a, "--silent")) opt.mode = "silent";
    else if (!std::strcmp(a, "--version")) opt.version = num();
    else if (!std::strcmp(a, "--segments")) opt.segments = num();
    else if (!std::strcmp(a, "--gap-min")) opt.gap_min = num();
    else if (!std::strcmp(a, "--gap-max")) opt.gap_max = num();
    else if (!std::strcmp(a, "--bytes")) opt.bytes = num();
    else {
      std::fprintf(stderr, "load_client: unknown option %s\n", a);
      return 2;
    }
  }
  if (opt.mode == nullptr) {
    std::fprintf(stderr, "load_client: no mode given\n");
    return 2;
  }
  if (!std::strcmp(opt.mode, "flood")) return run_flood();
  if (!std::strcmp(opt.mode, "ordering")) return run_ordering();
  if (!std::strcmp(opt.mode, "split")) return run_split();
  if (!std::strcmp(opt.mode, "partial")) return run_partial();
  return run_silent();
}
