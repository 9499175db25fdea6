// A real server, in one of four shapes, for the tests in tests/servers/.
// Run under LD_PRELOAD=libproxyproto.so; knows nothing of the protocol.
//
// Every shape speaks the same tiny protocol on each connection:
//   server: "hello <accept-address>|<getpeername-address>\n"   (at once)
//   client: "claim <address>\n"   the address its PROXY header claimed
//   server: "ok\n", or "mismatch accept=... peer=... claim=...\n"; closes.
// Addresses are written "inet 1.2.3.4 5678", "inet6 ::1 5678" or "unix".
// A client that sends no claim within --read-timeout seconds is closed.
//
// It prints "port N" (or "unix PATH") when listening, one "mismatch ..." line
// per mismatch, and after --count connections a final line
//   "summary served=N mismatches=M max_accept_ms=X"
// where max_accept_ms is the longest single accept()/accept4() call that
// returned a connection or EAGAIN: in the epoll shape, the longest the event
// loop was held up inside the library.
//
// Options:
//   --mode blocking|epoll|threads|fork   (default blocking)
//     blocking  one thread, blocking listener, accept(), one connection at a time
//     epoll     one thread, O_NONBLOCK listener, epoll, accept4(SOCK_NONBLOCK)
//     threads   --threads N (default 8) threads all blocked in accept() on
//               one listener, each serving its own connections
//     fork      blocking accept(); a child per connection checks
//               getpeername() and reports by its exit status
//   --family 4|6     listen on 127.0.0.1 (default) or ::1
//   --unix PATH      listen on an AF_UNIX stream socket instead
//   --count N        connections to serve, then print the summary and exit
//   --read-timeout S seconds to wait for a claim line (default 5)
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

namespace {

struct options {
  const char *mode = "blocking";
  int family = AF_INET;
  const char *unix_path = nullptr;
  long count = 1;
  int threads = 8;
  int read_timeout = 5;
};

options opt;
volatile sig_atomic_t stop_requested = 0;
std::atomic<long> served{0};
std::atomic<long> mismatches{0};
std::atomic<long> max_accept_ms{0};
std::mutex out_lock;

[[noreturn]] void die(const char *what) {
  std::fprintf(stderr, "load_server: %s: %s\n", what, std::strerror(errno));
  std::exit(2);
}

long now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  // Milliseconds of the monotonic clock (since boot), which fit a long;
  // tv_sec is 64 bits wide with a 64-bit time_t on a 32-bit target.
  return static_cast<long>(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

void note_accept_time(long ms) {
  long cur = max_accept_ms.load();
  while (ms > cur && !max_accept_ms.compare_exchange_weak(cur, ms)) {
  }
}

void format_address(const sockaddr_storage &ss, socklen_t len, char *out,
                    size_t size) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (ss.ss_family == AF_INET && len >= sizeof(sockaddr_in)) {
    const auto &a = reinterpret_cast<const sockaddr_in &>(ss);
    inet_ntop(AF_INET, &a.sin_addr, text, sizeof text);
    std::snprintf(out, size, "inet %s %u", text, ntohs(a.sin_port));
  } else if (ss.ss_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    const auto &a = reinterpret_cast<const sockaddr_in6 &>(ss);
    inet_ntop(AF_INET6, &a.sin6_addr, text, sizeof text);
    std::snprintf(out, size, "inet6 %s %u", text, ntohs(a.sin6_port));
  } else if (ss.ss_family == AF_UNIX) {
    std::snprintf(out, size, "unix");
  } else {
    std::snprintf(out, size, "family%d len%u", ss.ss_family,
                  static_cast<unsigned>(len));
  }
}

void peer_of(int fd, char *out, size_t size) {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  std::memset(&ss, 0, sizeof ss);
  if (getpeername(fd, reinterpret_cast<sockaddr *>(&ss), &len) != 0) {
    std::snprintf(out, size, "error%d", errno);
    return;
  }
  format_address(ss, len, out, size);
}

// The server writes twice per exchange (hello, verdict): without
// TCP_NODELAY the second write waits for a delayed ACK (40 ms) and the
// tests would measure Nagle instead of the library.
void no_delay(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

bool write_all(int fd, const char *s, size_t n) {
  while (n > 0) {
    const ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    s += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Compares what the application saw with what the client claimed; builds
// the reply. Returns true on a match.
bool judge(const char *accepted, const char *peer, const char *line,
           char *reply, size_t size) {
  const char *claim = std::strncmp(line, "claim ", 6) == 0 ? line + 6 : "";
  if (*claim != '\0' && std::strcmp(accepted, claim) == 0 &&
      std::strcmp(peer, claim) == 0) {
    std::snprintf(reply, size, "ok\n");
    return true;
  }
  std::snprintf(reply, size, "mismatch accept=%s peer=%s claim=%s\n", accepted,
                peer, claim);
  return false;
}

void record(bool match, const char *reply) {
  if (!match) {
    mismatches++;
    std::lock_guard<std::mutex> g(out_lock);
    std::fputs(reply, stdout);
    std::fflush(stdout);
  }
}

// Reads one line (without the newline) from a blocking descriptor.
bool read_line(int fd, char *buf, size_t size) {
  size_t n = 0;
  while (n + 1 < size) {
    const ssize_t r = recv(fd, buf + n, 1, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    if (buf[n] == '\n') {
      buf[n] = '\0';
      return true;
    }
    n++;
  }
  buf[n] = '\0';
  return false;
}

// The whole exchange on a blocking connection. Returns true on a match.
bool serve_blocking(int fd, const char *accepted) {
  timeval tv{opt.read_timeout, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  no_delay(fd);
  char peer[128], hello[300], line[256], reply[600];
  peer_of(fd, peer, sizeof peer);
  std::snprintf(hello, sizeof hello, "hello %s|%s\n", accepted, peer);
  write_all(fd, hello, std::strlen(hello));
  if (!read_line(fd, line, sizeof line)) {
    // A silent (or vanished) client: nothing to judge.
    return true;
  }
  const bool match = judge(accepted, peer, line, reply, sizeof reply);
  write_all(fd, reply, std::strlen(reply));
  record(match, reply);
  return match;
}

void finish() {
  std::lock_guard<std::mutex> g(out_lock);
  std::printf("summary served=%ld mismatches=%ld max_accept_ms=%ld\n",
              served.load(), mismatches.load(), max_accept_ms.load());
  std::fflush(stdout);
  if (opt.unix_path != nullptr) unlink(opt.unix_path);
  _exit(0);
}

int timed_accept(int listener, char *accepted, size_t size, int flags) {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  std::memset(&ss, 0, sizeof ss);
  const long start = now_ms();
  const int fd = flags == 0
                     ? accept(listener, reinterpret_cast<sockaddr *>(&ss), &len)
                     : accept4(listener, reinterpret_cast<sockaddr *>(&ss),
                               &len, flags);
  const int saved = errno;
  note_accept_time(now_ms() - start);
  if (fd >= 0) format_address(ss, len, accepted, size);
  errno = saved;
  return fd;
}

int make_listener() {
  int fd;
  if (opt.unix_path != nullptr) {
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    std::snprintf(sun.sun_path, sizeof sun.sun_path, "%s", opt.unix_path);
    unlink(opt.unix_path);
    if (bind(fd, reinterpret_cast<sockaddr *>(&sun), sizeof sun) != 0)
      die("bind");
  } else {
    fd = socket(opt.family, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_storage ss{};
    socklen_t len;
    if (opt.family == AF_INET) {
      auto &a = reinterpret_cast<sockaddr_in &>(ss);
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof a;
    } else {
      auto &a = reinterpret_cast<sockaddr_in6 &>(ss);
      a.sin6_family = AF_INET6;
      a.sin6_addr = in6addr_loopback;
      len = sizeof a;
    }
    if (bind(fd, reinterpret_cast<sockaddr *>(&ss), len) != 0) die("bind");
  }
  if (listen(fd, 4096) != 0) die("listen");
  if (opt.unix_path != nullptr) {
    std::printf("unix %s\n", opt.unix_path);
  } else {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len);
    const unsigned port =
        ss.ss_family == AF_INET
            ? ntohs(reinterpret_cast<sockaddr_in &>(ss).sin_port)
            : ntohs(reinterpret_cast<sockaddr_in6 &>(ss).sin6_port);
    std::printf("port %u\n", port);
  }
  std::fflush(stdout);
  return fd;
}

// If a wait inside the library retries on EINTR, the flag is not seen soon:
// the default action of SIGALRM then ends the process 2 s later, so that
// stopping the server is always bounded.
void on_term(int) {
  stop_requested = 1;
  alarm(2);
}

// SIGTERM ends the server with its summary: installed without SA_RESTART so
// that a blocked accept() or epoll_wait() returns EINTR and sees the flag.
void catch_term() {
  struct sigaction sa {};
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, nullptr);
}

void count_one() {
  if (++served >= opt.count) finish();
}

void run_blocking(int listener) {
  for (;;) {
    if (stop_requested) finish();
    char accepted[128];
    const int fd = timed_accept(listener, accepted, sizeof accepted, 0);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      die("accept");
    }
    serve_blocking(fd, accepted);
    close(fd);
    count_one();
  }
}

void run_threads(int listener) {
  std::vector<std::thread> pool;
  for (int i = 0; i < opt.threads; ++i) pool.emplace_back(run_blocking, listener);
  for (auto &t : pool) t.join();
}

void run_fork(int listener) {
  signal(SIGPIPE, SIG_IGN);
  long children = 0;
  for (;;) {
    char accepted[128];
    const int fd = timed_accept(listener, accepted, sizeof accepted, 0);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      die("accept");
    }
    const pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
      close(listener);
      const bool match = serve_blocking(fd, accepted);
      close(fd);
      std::fflush(stdout);
      _exit(match ? 0 : 1);
    }
    close(fd);
    children++;
    // Reap what has finished; count a child's mismatch by its status.
    int status;
    pid_t done;
    const bool last = children >= opt.count;
    while ((done = waitpid(-1, &status, last ? 0 : WNOHANG)) > 0) {
      served++;
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) mismatches++;
    }
    if (last) finish();
  }
}

// The epoll shape: one thread, nothing blocks but epoll_wait().
struct connection {
  int fd = -1;
  char accepted[128];
  char peer[128];
  char line[256];
  size_t have = 0;
};

void run_epoll(int listener) {
  const int flags = fcntl(listener, F_GETFL);
  fcntl(listener, F_SETFL, flags | O_NONBLOCK);
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the listener
  if (epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev) != 0) die("epoll_ctl");

  auto close_conn = [&](connection *c) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, nullptr);
    close(c->fd);
    delete c;
    count_one();
  };

  for (;;) {
    epoll_event events[64];
    if (stop_requested) finish();
    const int n = epoll_wait(ep, events, 64, 1000);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("epoll_wait");
    for (int i = 0; i < n; ++i) {
      auto *c = static_cast<connection *>(events[i].data.ptr);
      if (c == nullptr) {
        // Drain the listener: accept until it would block.
        for (;;) {
          char accepted[128];
          const int fd = timed_accept(listener, accepted, sizeof accepted,
                                      SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EAGAIN) break;
            die("accept4");
          }
          if ((fcntl(fd, F_GETFL) & O_NONBLOCK) == 0) {
            std::lock_guard<std::mutex> g(out_lock);
            std::printf("error accept4 returned a blocking descriptor\n");
            std::fflush(stdout);
            mismatches++;
          }
          no_delay(fd);
          auto *nc = new connection;
          nc->fd = fd;
          std::snprintf(nc->accepted, sizeof nc->accepted, "%s", accepted);
          peer_of(fd, nc->peer, sizeof nc->peer);
          char hello[300];
          std::snprintf(hello, sizeof hello, "hello %s|%s\n", nc->accepted,
                        nc->peer);
          write_all(fd, hello, std::strlen(hello));
          epoll_event cev{};
          cev.events = EPOLLIN | EPOLLRDHUP;
          cev.data.ptr = nc;
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
        }
        continue;
      }
      // Data from a client: collect one line.
      for (;;) {
        const ssize_t r = recv(c->fd, c->line + c->have, 1, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && (errno == EAGAIN)) break;
        if (r <= 0) {  // closed without a claim: a silent client
          close_conn(c);
          c = nullptr;
          break;
        }
        if (c->line[c->have] == '\n' || c->have + 2 >= sizeof c->line) {
          c->line[c->have] = '\0';
          char reply[600];
          const bool match =
              judge(c->accepted, c->peer, c->line, reply, sizeof reply);
          write_all(c->fd, reply, std::strlen(reply));
          record(match, reply);
          close_conn(c);
          c = nullptr;
          break;
        }
        c->have++;
      }
    }
  }
}

options parse_options(int argc, char **argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (v == nullptr) {
      std::fprintf(stderr, "load_server: %s needs a value\n", a);
      std::exit(2);
    }
    if (std::strcmp(a, "--mode") == 0) {
      o.mode = v;
    } else if (std::strcmp(a, "--family") == 0) {
      o.family = std::strcmp(v, "6") == 0 ? AF_INET6 : AF_INET;
    } else if (std::strcmp(a, "--unix") == 0) {
      o.unix_path = v;
    } else if (std::strcmp(a, "--count") == 0) {
      o.count = std::atol(v);
    } else if (std::strcmp(a, "--threads") == 0) {
      o.threads = std::atoi(v);
    } else if (std::strcmp(a, "--read-timeout") == 0) {
      o.read_timeout = std::atoi(v);
    } else {
      std::fprintf(stderr, "load_server: unknown option %s\n", a);
      std::exit(2);
    }
    ++i;
  }
  return o;
}

}  // namespace

int main(int argc, char **argv) {
  opt = parse_options(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  if (std::strcmp(opt.mode, "threads") != 0) catch_term();
  const int listener = make_listener();
  if (std::strcmp(opt.mode, "blocking") == 0) {
    run_blocking(listener);
  } else if (std::strcmp(opt.mode, "epoll") == 0) {
    run_epoll(listener);
  } else if (std::strcmp(opt.mode, "threads") == 0) {
    run_threads(listener);
  } else if (std::strcmp(opt.mode, "fork") == 0) {
    run_fork(listener);
  } else {
    std::fprintf(stderr, "load_server: unknown mode %s\n", opt.mode);
    return 2;
  }
  return 0;
}
