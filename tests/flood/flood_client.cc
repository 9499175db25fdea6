// The client side of the flood tests (tests/flood/): legitimate clients
// whose PROXY header comes late, among a flood of silent connections, all
// against flood_server under the library. One thread, one epoll loop.
//
//  - Legitimate clients connect from 127.0.0.1 and, --header-delay-ms after
//    connecting (and not before the flood is open, with --order after),
//    send a v1 or v2 header claiming 198.51.100.x:port, then "PING\n". Each
//    must receive exactly "hello A|A\necho PING\n", A being its claim: its
//    claimed address, and only its payload (a header byte seen by the
//    application would be echoed). --bound-ms after sending is the limit.
//  - Silent connections come from 127.0.0.2 and up and send nothing. The
//    library must settle each at its own deadline (--timeout-ms after it
//    connected), never earlier, and at most --bound-ms later: passed
//    through ("hello" with its real address, then the client closes), or
//    with --must-use, closed unseen (end of stream, no byte).
//  - --order before: the flood connects first; after: the legitimate
//    clients first, so that they are the oldest parked connections.
//
// Prints one line:
//   legit_ok=N legit_bad=N silent_ok=N silent_early=N silent_late=N
//   silent_bad=N errors=N legit_max_ms=X silent_min_ms=Y silent_max_ms=Z
// (silent times relative to each one's deadline) and up to 5 lines
// "bad: ..." describing failures on stderr; exits 0 when all were as
// they must be, 1 otherwise.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct options {
  int port = 0;
  int silent = 0;
  int legit = 40;
  bool after = false;   // --order after
  int version = 1;
  int header_delay_ms = 300;
  int spread_ms = 0;    // legitimate connections opened over this time
  int timeout_ms = 3000;
  bool must_use = false;
  int bound_ms = 3000;
};

options opt;

double now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1000.0 + static_cast<double>(ts.tv_nsec) / 1e6;
}

struct conn {
  int fd = -1;
  bool silent = false;
  int index = 0;
  double opened = 0;     // before connect(): the library's clock starts later
  double sent = 0;       // legitimate: when the header went
  double finished = 0;
  bool done = false;
  std::string got;
  std::string want;      // legitimate: the whole expected answer
  std::string claim;     // the address the server must report
};

std::vector<conn> conns;
int ep = -1;
long errors = 0;
int bad_lines = 0;

void bad(const conn &c, const char *what) {
  if (bad_lines++ < 5)
    std::fprintf(stderr, "bad: %s %d: %s after %.1f ms, got \"%s\"\n",
                 c.silent ? "silent" : "legit", c.index, what, now_ms() - c.opened,
                 c.got.substr(0, 120).c_str());
}

int open_one(const char *source, conn &c) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  inet_pton(AF_INET, source, &src.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr *>(&src), sizeof src) != 0) {
    close(fd);
    return -1;
  }
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<uint16_t>(opt.port));
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  c.opened = now_ms();
  if (connect(fd, reinterpret_cast<sockaddr *>(&dst), sizeof dst) != 0) {
    close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

void open_silent(int count) {
  for (int i = 0; i < count; ++i) {
    conn c;
    c.silent = true;
    c.index = i;
    char source[32];
    std::snprintf(source, sizeof source, "127.0.%d.%d", 1 + i / 250, 2 + i % 250);
    c.fd = open_one(source, c);
    if (c.fd < 0) {
      ++errors;
      continue;
    }
    sockaddr_in me{};
    socklen_t len = sizeof me;
    getsockname(c.fd, reinterpret_cast<sockaddr *>(&me), &len);
    char text[64];
    std::snprintf(text, sizeof text, "inet %s %u", source, ntohs(me.sin_port));
    c.claim = text;
    conns.push_back(std::move(c));
  }
}

void open_legit(int count) {
  const double start = now_ms();
  for (int i = 0; i < count; ++i) {
    if (opt.spread_ms > 0) {
      const double at = start + static_cast<double>(opt.spread_ms) * i / count;
      while (now_ms() < at) usleep(200);
    }
    conn c;
    c.index = i;
    c.fd = open_one("127.0.0.1", c);
    if (c.fd < 0) {
      ++errors;
      continue;
    }
    char address[64];
    std::snprintf(address, sizeof address, "198.51.100.%d", 1 + i % 250);
    const unsigned port = 10000 + static_cast<unsigned>(i);
    c.claim = std::string("inet ") + address + " " + std::to_string(port);
    c.want = "hello " + c.claim + "|" + c.claim + "\necho PING\n";
    conns.push_back(std::move(c));
  }
}

std::string header_of(const conn &c) {
  char address[64];
  std::snprintf(address, sizeof address, "198.51.100.%d", 1 + c.index % 250);
  const unsigned port = 10000 + static_cast<unsigned>(c.index);
  if (opt.version == 1) {
    char line[128];
    std::snprintf(line, sizeof line, "PROXY TCP4 %s 127.0.0.1 %u %d\r\n", address, port,
                  opt.port);
    return line;
  }
  std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
  h += static_cast<char>(0x21);  // v2, PROXY
  h += static_cast<char>(0x11);  // TCP over IPv4
  h += '\0';
  h += static_cast<char>(12);
  in_addr src{}, dst{};
  inet_pton(AF_INET, address, &src);
  inet_pton(AF_INET, "127.0.0.1", &dst);
  h.append(reinterpret_cast<const char *>(&src), 4);
  h.append(reinterpret_cast<const char *>(&dst), 4);
  const uint16_t sp = htons(static_cast<uint16_t>(port));
  const uint16_t dp = htons(static_cast<uint16_t>(opt.port));
  h.append(reinterpret_cast<const char *>(&sp), 2);
  h.append(reinterpret_cast<const char *>(&dp), 2);
  return h;
}

void finish(conn &c) {
  c.done = true;
  c.finished = now_ms();
  epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
  close(c.fd);
}

void parse(int argc, char **argv) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *a = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (!std::strcmp(a, "--port")) opt.port = v;
    else if (!std::strcmp(a, "--silent")) opt.silent = v;
    else if (!std::strcmp(a, "--legit")) opt.legit = v;
    else if (!std::strcmp(a, "--order")) opt.after = !std::strcmp(argv[i + 1], "after");
    else if (!std::strcmp(a, "--version")) opt.version = v;
    else if (!std::strcmp(a, "--header-delay-ms")) opt.header_delay_ms = v;
    else if (!std::strcmp(a, "--spread-ms")) opt.spread_ms = v;
    else if (!std::strcmp(a, "--timeout-ms")) opt.timeout_ms = v;
    else if (!std::strcmp(a, "--must-use")) opt.must_use = v != 0;
    else if (!std::strcmp(a, "--bound-ms")) opt.bound_ms = v;
    else {
      std::fprintf(stderr, "flood_client: unknown option %s\n", a);
      std::exit(2);
    }
  }
}

}  // namespace

int main(int argc, char **argv) {
  parse(argc, argv);
  rlimit r{};
  getrlimit(RLIMIT_NOFILE, &r);
  r.rlim_cur = r.rlim_max;
  setrlimit(RLIMIT_NOFILE, &r);
  conns.reserve(static_cast<size_t>(opt.silent + opt.legit));
  if (opt.after) {
    open_legit(opt.legit);
    open_silent(opt.silent);
  } else {
    open_silent(opt.silent);
    open_legit(opt.legit);
  }
  const double all_open = now_ms();
  ep = epoll_create1(EPOLL_CLOEXEC);
  for (size_t i = 0; i < conns.size(); ++i) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
  }
  size_t left = conns.size();
  const double give_up = all_open + opt.header_delay_ms + opt.spread_ms + 2 * opt.timeout_ms +
                         opt.bound_ms + 4000;
  long legit_ok = 0, legit_bad = 0, silent_ok = 0, silent_early = 0, silent_late = 0,
       silent_bad = 0;
  double legit_max = 0, silent_min = 1e18, silent_max = -1e18;
  while (left > 0 && now_ms() < give_up) {
    // Headers that are due.
    const double now = now_ms();
    double next_send = 1e18;
    for (conn &c : conns) {
      if (c.silent || c.done || c.sent != 0) continue;
      double at = c.opened + opt.header_delay_ms;
      if (opt.after && at < all_open) at = all_open;
      if (at > now) {
        if (at < next_send) next_send = at;
        continue;
      }
      const std::string h = header_of(c) + "PING\n";
      c.sent = now_ms();
      if (send(c.fd, h.data(), h.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(h.size())) {
        ++errors;
        bad(c, "send failed");
      }
    }
    int wait = next_send < 1e17 ? static_cast<int>(next_send - now_ms()) + 1 : 100;
    if (wait < 0) wait = 0;
    if (wait > 100) wait = 100;
    epoll_event events[512];
    const int n = epoll_wait(ep, events, 512, wait);
    for (int i = 0; i < n; ++i) {
      conn &c = conns[static_cast<size_t>(events[i].data.u64)];
      if (c.done) continue;
      char buf[1024];
      bool ended = false;
      for (;;) {
        const ssize_t got = recv(c.fd, buf, sizeof buf, 0);
        if (got > 0) {
          c.got.append(buf, static_cast<size_t>(got));
          continue;
        }
        if (got < 0 && errno == EINTR) continue;
        if (got < 0 && errno == EAGAIN) break;
        ended = true;  // end of stream or reset
        break;
      }
      const double t = now_ms();
      if (!c.silent) {
        if (c.got.size() < c.want.size() && !ended) continue;
        const double took = c.sent == 0 ? 1e9 : t - c.sent;
        if (took > legit_max) legit_max = took;
        if (c.got != c.want) {
          ++legit_bad;
          bad(c, c.sent == 0 ? "answered before its header was sent" : "wrong answer");
        } else if (took > opt.bound_ms) {
          ++legit_bad;
          bad(c, "served too late");
        } else {
          ++legit_ok;
        }
        finish(c);
        --left;
        continue;
      }
      // A silent one: settled now, relative to its own deadline. The
      // library's clock started after `opened`, and counts whole ms.
      const bool complete_hello = c.got.find('\n') != std::string::npos;
      if (!ended && !complete_hello) continue;
      const double late = t - (c.opened + opt.timeout_ms);
      if (late < silent_min) silent_min = late;
      if (late > silent_max) silent_max = late;
      const std::string hello = "hello " + c.claim + "|" + c.claim + "\n";
      if (late < -1.5) {
        ++silent_early;
        bad(c, "settled before its deadline");
      } else if (late > opt.bound_ms) {
        ++silent_late;
        bad(c, "settled too late");
      } else if (opt.must_use ? !(ended && c.got.empty()) : c.got != hello) {
        ++silent_bad;
        bad(c, opt.must_use ? "not dropped unseen" : "not passed through as itself");
      } else {
        ++silent_ok;
      }
      finish(c);
      --left;
    }
  }
  for (conn &c : conns) {
    if (c.done) continue;
    if (c.silent) ++silent_late; else ++legit_bad;
    bad(c, "never settled");
  }
  std::printf("legit_ok=%ld legit_bad=%ld silent_ok=%ld silent_early=%ld silent_late=%ld "
              "silent_bad=%ld errors=%ld legit_max_ms=%.0f silent_min_ms=%.1f "
              "silent_max_ms=%.0f\n",
              legit_ok, legit_bad, silent_ok, silent_early, silent_late, silent_bad, errors,
              legit_max, silent_min < 1e17 ? silent_min : 0.0,
              silent_max > -1e17 ? silent_max : 0.0);
  const bool all_good = legit_ok == opt.legit && silent_ok == opt.silent && errors == 0;
  return all_good ? 0 : 1;
}
