// A benchmark echo server in the usual modern shape: one thread, epoll, a
// non-blocking listener drained with accept4(SOCK_NONBLOCK) until EAGAIN,
// and each connection echoing what it reads until the peer closes.
//
//   pp_echo_server [--port N] [--defer-accept] [--defer-accept-after-ms M]
//                  [--max-conns N]
//
// It binds 127.0.0.1 (port 0 by default), prints "listening PORT" on
// standard output, and serves until killed, or until --max-conns
// connections have been accepted and closed (so that strace -c and
// callgrind see a fixed amount of work and a clean exit).
//
// --defer-accept sets TCP_DEFER_ACCEPT: the listener wakes only once the
// first data has arrived, as behind a proxy that sends the header with the
// connection. Every variant of a comparison uses the same setting.
// --defer-accept-after-ms M sets it only M ms after start: connections
// opened before (the benchmark's silent ones, parked by the library) were
// accepted at once, the ones measured after are deferred like the others.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

namespace {

struct options {
  unsigned port = 0;
  bool defer_accept = false;
  long max_conns = -1;  // serve forever
  long defer_after_ms = -1;
};

[[noreturn]] void die(const char *what) {
  fprintf(stderr, "pp_echo_server: %s: %s\n", what, strerror(errno));
  exit(1);
}

options parse_options(int argc, char **argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
      o.port = static_cast<unsigned>(strtoul(argv[++i], nullptr, 10));
    } else if (strcmp(argv[i], "--defer-accept") == 0) {
      o.defer_accept = true;
    } else if (strcmp(argv[i], "--defer-accept-after-ms") == 0 && i + 1 < argc) {
      o.defer_after_ms = strtol(argv[++i], nullptr, 10);
    } else if (strcmp(argv[i], "--max-conns") == 0 && i + 1 < argc) {
      o.max_conns = strtol(argv[++i], nullptr, 10);
    } else {
      fprintf(stderr,
              "usage: pp_echo_server [--port N] [--defer-accept] "
              "[--defer-accept-after-ms M] [--max-conns N]\n");
      exit(2);
    }
  }
  return o;
}

void defer_accept(int fd) {
  const int seconds = 5;
  if (setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &seconds, sizeof seconds))
    die("TCP_DEFER_ACCEPT");
}

long now_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int listen_on(const options &o) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (o.defer_accept) defer_accept(fd);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(static_cast<uint16_t>(o.port));
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr *>(&sin), sizeof sin)) die("bind");
  if (listen(fd, 4096)) die("listen");
  socklen_t len = sizeof sin;
  if (getsockname(fd, reinterpret_cast<sockaddr *>(&sin), &len))
    die("getsockname");
  printf("listening %u\n", ntohs(sin.sin_port));
  fflush(stdout);
  return fd;
}

}  // namespace

int main(int argc, char **argv) {
  const options o = parse_options(argc, argv);
  const int listener = listen_on(o);
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listener;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev)) die("epoll_ctl");

  long accepted = 0, closed = 0;
  const long defer_at = o.defer_after_ms >= 0 ? now_ms() + o.defer_after_ms : -1;
  bool deferred = false;
  static char buf[65536];
  epoll_event events[256];
  while (o.max_conns < 0 || closed < o.max_conns) {
    int wait_ms = -1;
    if (defer_at >= 0 && !deferred) {
      const long left = defer_at - now_ms();
      if (left <= 0) {
        defer_accept(listener);
        deferred = true;
      } else {
        wait_ms = static_cast<int>(left);
      }
    }
    const int n = epoll_wait(ep, events, 256, wait_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listener) {
        for (;;) {
          const int c = accept4(listener, nullptr, nullptr,
                                SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break;  // EAGAIN: drained
          ++accepted;
          epoll_event cev{};
          cev.events = EPOLLIN;
          cev.data.fd = c;
          if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev)) die("epoll_ctl");
        }
        continue;
      }
      // Echo everything that is queued; close on EOF or error.
      for (;;) {
        const ssize_t r = read(fd, buf, sizeof buf);
        if (r > 0) {
          ssize_t off = 0;
          while (off < r) {
            const ssize_t w = write(fd, buf + off, static_cast<size_t>(r - off));
            if (w <= 0) break;  // a full send buffer: the client misbehaves
            off += w;
          }
          if (r < static_cast<ssize_t>(sizeof buf)) break;
          continue;
        }
        if (r < 0 && errno == EAGAIN) break;
        close(fd);  // also leaves the epoll set
        ++closed;
        break;
      }
    }
  }
  fprintf(stderr, "pp_echo_server: %ld accepted, %ld closed\n", accepted,
          closed);
  return 0;
}
