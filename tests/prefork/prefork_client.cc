// Clients for the pre-forked server tests (tests/prefork/): HTTP/1.0 over a
// PROXY header that comes late, in two segments, or never.
//
// Each round opens --concurrency connections at once, all to 127.0.0.1:PORT,
// in turn of these kinds (the header written by this program, v1 and v2 in
// turn, each claiming its own source address 198.18.R.C and port):
//   d0, d10, d100, d1000   the header (and the request) that many ms after
//                          connect() returned
//   split                  the header in two segments 50 ms apart
// and --silent more that send nothing for --silent-ms, then a request with
// no header. A connection passes when the answer names its claimed address
// ("client ADDR PORT" anywhere in the response) within its delay plus
// --bound-ms. A silent one passes when it is answered with its own real
// address (header optional) or, with --must-use, closed unanswered by
// --silent-ms.
//
// Prints one line per failure ("fail kind=... ms=... got=...") and then
//   "result opened=N ok=K failed=F worst_late_ms=W worst_kind=..."
// where worst_late_ms is the longest time between the end of a header and
// its answer (the delay the library added, plus the server's own time).
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

struct options {
  int port = 0;
  int rounds = 3;
  int concurrency = 20;
  int silent = 0;
  int silent_ms = 0;
  bool must_use = false;
  int bound_ms = 1500;
  int max_wait_ms = 15000;
  const char *kinds = "d0,d10,d100,d1000,split";
};

options opt;
std::mutex out_lock;
std::atomic<long> opened{0}, ok{0}, failed{0};
std::atomic<long> worst_late{-1};
std::string worst_kind;

long now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  // Milliseconds of the monotonic clock (since boot), which fit a long;
  // tv_sec is 64 bits wide with a 64-bit time_t on a 32-bit target.
  return static_cast<long>(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

void sleep_ms(long ms) {
  if (ms <= 0) return;
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

void fail(const std::string &kind, long ms, const std::string &got) {
  failed.fetch_add(1);
  std::string g = got.substr(0, 160);
  for (char &c : g)
    if (c == '\r' || c == '\n') c = ' ';
  std::lock_guard<std::mutex> l(out_lock);
  std::printf("fail kind=%s ms=%ld got=%s\n", kind.c_str(), ms, g.c_str());
  std::fflush(stdout);
}

void note_late(const std::string &kind, long ms) {
  std::lock_guard<std::mutex> l(out_lock);
  if (ms > worst_late.load()) {
    worst_late.store(ms);
    worst_kind = kind;
  }
}

int connect_target() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(static_cast<uint16_t>(opt.port));
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr *>(&sin), sizeof sin) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool write_all(int fd, const void *p, size_t n) {
  const char *c = static_cast<const char *>(p);
  while (n > 0) {
    const ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    c += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Reads until EOF, an error, or `deadline`; true on EOF/error (closed).
bool read_response(int fd, long deadline, std::string *out) {
  char buf[2048];
  for (;;) {
    const long left = deadline - now_ms();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    const int rc = poll(&p, 1, static_cast<int>(left));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return false;
    const ssize_t r = recv(fd, buf, sizeof buf, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return true;
    out->append(buf, static_cast<size_t>(r));
  }
}

std::string header_for(int version, const char *ip, int port) {
  if (version == 1)
    return std::string("PROXY TCP4 ") + ip + " 127.0.0.1 " + std::to_string(port) +
           " " + std::to_string(opt.port) + "\r\n";
  std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
  h += '\x21';  // v2, PROXY
  h += '\x11';  // TCP over IPv4
  h += '\0';
  h += '\x0c';
  in_addr a{};
  inet_pton(AF_INET, ip, &a);
  h.append(reinterpret_cast<const char *>(&a), 4);
  in_addr d{};
  d.s_addr = htonl(INADDR_LOOPBACK);
  h.append(reinterpret_cast<const char *>(&d), 4);
  const uint16_t sp = htons(static_cast<uint16_t>(port));
  const uint16_t dp = htons(static_cast<uint16_t>(opt.port));
  h.append(reinterpret_cast<const char *>(&sp), 2);
  h.append(reinterpret_cast<const char *>(&dp), 2);
  return h;
}

const char request[] = "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";

void proxied_client(std::string kind, int round, int index) {
  char ip[32];
  std::snprintf(ip, sizeof ip, "198.18.%d.%d", round % 250 + 1, index % 250 + 1);
  const int port = 20000 + round * 100 + index;
  const int version = index % 2 == 0 ? 1 : 2;
  const int fd = connect_target();
  if (fd < 0) {
    fail(kind, 0, std::string("connect: ") + std::strerror(errno));
    return;
  }
  opened.fetch_add(1);
  const long start = now_ms();
  const std::string h = header_for(version, ip, port);
  long delay = 0;
  bool sent;
  if (kind == "split") {
    const size_t half = h.size() / 2;
    sent = write_all(fd, h.data(), half);
    sleep_ms(50);
    delay = 50;
    sent = sent && write_all(fd, h.data() + half, h.size() - half) &&
           write_all(fd, request, sizeof request - 1);
  } else {
    delay = std::atol(kind.c_str() + 1);
    sleep_ms(delay);
    std::string all = h + request;
    sent = write_all(fd, all.data(), all.size());
  }
  const long header_done = now_ms();
  std::string got;
  const bool closed = read_response(fd, start + opt.max_wait_ms, &got);
  const long answered = now_ms();
  close(fd);
  const std::string want = std::string("client ") + ip + " " + std::to_string(port);
  const long late = answered - header_done;
  if (!sent) {
    fail(kind, answered - start, "send failed");
  } else if (!closed && got.find(want) == std::string::npos) {
    fail(kind, answered - start, "no answer within " + std::to_string(opt.max_wait_ms) + " ms: " + got);
  } else if (got.find(want) == std::string::npos) {
    fail(kind, answered - start, "wrong answer (want '" + want + "'): " + got);
  } else if (answered - start > delay + opt.bound_ms) {
    fail(kind, answered - start, "answered late (bound " +
                                     std::to_string(delay + opt.bound_ms) + " ms)");
  } else {
    ok.fetch_add(1);
  }
  if (got.find(want) != std::string::npos) note_late(kind, late);
}

void silent_client() {
  const int fd = connect_target();
  if (fd < 0) {
    fail("silent", 0, std::string("connect: ") + std::strerror(errno));
    return;
  }
  opened.fetch_add(1);
  const long start = now_ms();
  sockaddr_in self{};
  socklen_t len = sizeof self;
  getsockname(fd, reinterpret_cast<sockaddr *>(&self), &len);
  char ip[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &self.sin_addr, ip, sizeof ip);
  const std::string want =
      std::string("client ") + ip + " " + std::to_string(ntohs(self.sin_port));
  // Silence: under must-use the library closes it meanwhile.
  std::string early;
  const bool closed_early = read_response(fd, start + opt.silent_ms, &early);
  const long silence_end = now_ms();
  if (closed_early) {
    close(fd);
    if (opt.must_use && early.empty())
      ok.fetch_add(1);
    else
      fail("silent", silence_end - start, "closed during its silence: " + early);
    return;
  }
  const bool sent = write_all(fd, request, sizeof request - 1);
  std::string got;
  const bool closed = read_response(fd, now_ms() + opt.bound_ms + 1000, &got);
  const long end = now_ms();
  close(fd);
  if (opt.must_use) {
    if (got.empty() && (closed || !sent))
      ok.fetch_add(1);  // dropped: closed as soon as it spoke at the latest
    else
      fail("silent", end - start, "must-use: answered or left open: " + got);
    return;
  }
  if (sent && got.find(want) != std::string::npos)
    ok.fetch_add(1);
  else
    fail("silent", end - start, "want '" + want + "': " + got);
}

std::vector<std::string> split_kinds(const char *s) {
  std::vector<std::string> v;
  std::string cur;
  for (const char *p = s;; ++p) {
    if (*p == ',' || *p == '\0') {
      if (!cur.empty()) v.push_back(cur);
      cur.clear();
      if (*p == '\0') break;
    } else {
      cur += *p;
    }
  }
  return v;
}

}  // namespace

int main(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char * {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "prefork_client: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--port") opt.port = std::atoi(next());
    else if (a == "--rounds") opt.rounds = std::atoi(next());
    else if (a == "--concurrency") opt.concurrency = std::atoi(next());
    else if (a == "--silent") opt.silent = std::atoi(next());
    else if (a == "--silent-ms") opt.silent_ms = std::atoi(next());
    else if (a == "--must-use") opt.must_use = true;
    else if (a == "--bound-ms") opt.bound_ms = std::atoi(next());
    else if (a == "--max-wait-ms") opt.max_wait_ms = std::atoi(next());
    else if (a == "--kinds") opt.kinds = next();
    else {
      std::fprintf(stderr, "prefork_client: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (opt.port <= 0) {
    std::fprintf(stderr, "prefork_client: --port is required\n");
    return 2;
  }
  const std::vector<std::string> kinds = split_kinds(opt.kinds);
  for (int round = 0; round < opt.rounds; ++round) {
    std::vector<std::thread> threads;
    for (int s = 0; s < opt.silent; ++s) threads.emplace_back(silent_client);
    for (int c = 0; c < opt.concurrency; ++c)
      threads.emplace_back(proxied_client, kinds[static_cast<size_t>(c) % kinds.size()],
                           round, c);
    for (std::thread &t : threads) t.join();
  }
  std::printf("result opened=%ld ok=%ld failed=%ld worst_late_ms=%ld worst_kind=%s\n",
              opened.load(), ok.load(), failed.load(), worst_late.load(),
              worst_kind.empty() ? "-" : worst_kind.c_str());
  return failed.load() == 0 ? 0 : 1;
}
