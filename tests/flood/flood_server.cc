// An echo server for the flood tests (tests/flood/), run under
// LD_PRELOAD=libproxyproto.so; knows nothing of the protocol.
//
// On each connection it writes at once
//   "hello <accept-address>|<getpeername-address>\n"
// then reads one line and answers "echo <line>\n" and closes; a client that
// closes first is closed. Addresses are written "inet 1.2.3.4 5678".
// Connections are served concurrently whatever the accept shape, so that
// thousands of silent clients handed out at their deadline hold nothing up.
//
// Options:
//   --mode epoll|blocking   epoll: one thread, O_NONBLOCK listener,
//                           accept4(SOCK_NONBLOCK) until EAGAIN;
//                           blocking: a thread blocked in accept(), the
//                           connections served by another thread's epoll
//   --threads N             blocking: N threads blocked in accept() on the
//                           listener (default 1)
//   --workers N             pre-forked: N processes after listen(), each in
//                           the mode above (default 0: this process alone)
// Prints "port N" when listening; runs until SIGTERM (workers end with it).
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace {

struct connection {
  int fd = -1;
  char line[512];
  size_t have = 0;
};

[[noreturn]] void die(const char *what) {
  std::fprintf(stderr, "flood_server: %s: %s\n", what, std::strerror(errno));
  std::exit(2);
}

void format_address(const sockaddr_storage &ss, socklen_t len, char *out, size_t size) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (ss.ss_family == AF_INET && len >= sizeof(sockaddr_in)) {
    const auto &a = reinterpret_cast<const sockaddr_in &>(ss);
    inet_ntop(AF_INET, &a.sin_addr, text, sizeof text);
    std::snprintf(out, size, "inet %s %u", text, ntohs(a.sin_port));
  } else if (ss.ss_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    const auto &a = reinterpret_cast<const sockaddr_in6 &>(ss);
    inet_ntop(AF_INET6, &a.sin6_addr, text, sizeof text);
    std::snprintf(out, size, "inet6 %s %u", text, ntohs(a.sin6_port));
  } else {
    std::snprintf(out, size, "family%d", ss.ss_family);
  }
}

void send_text(int fd, const char *s) {
  size_t n = std::strlen(s);
  while (n > 0) {
    const ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;  // the client's business
    s += w;
    n -= static_cast<size_t>(w);
  }
}

// Greets a connection just accepted and hands it to the epoll set `ep`.
void greet(int ep, int fd, const sockaddr_storage &ss, socklen_t len) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  const int fl = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  char accepted[128], peer[128], hello[300];
  format_address(ss, len, accepted, sizeof accepted);
  sockaddr_storage ps{};
  socklen_t plen = sizeof ps;
  if (getpeername(fd, reinterpret_cast<sockaddr *>(&ps), &plen) == 0)
    format_address(ps, plen, peer, sizeof peer);
  else
    std::snprintf(peer, sizeof peer, "error%d", errno);
  std::snprintf(hello, sizeof hello, "hello %s|%s\n", accepted, peer);
  send_text(fd, hello);
  auto *c = new connection;
  c->fd = fd;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.ptr = c;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl");
}

// Reads what a connection sent; true when it is finished (and closed).
bool serve(int ep, connection *c) {
  for (;;) {
    const ssize_t r = recv(c->fd, c->line + c->have, 1, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) return false;
    if (r > 0 && c->line[c->have] != '\n' && c->have + 2 < sizeof c->line) {
      c->have++;
      continue;
    }
    if (r > 0) {
      c->line[c->have] = '\0';
      char reply[600];
      std::snprintf(reply, sizeof reply, "echo %s\n", c->line);
      send_text(c->fd, reply);
    }
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, nullptr);
    close(c->fd);
    delete c;
    return true;
  }
}

void serve_forever(int ep, int listener) {
  for (;;) {
    epoll_event events[256];
    const int n = epoll_wait(ep, events, 256, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die("epoll_wait");
    for (int i = 0; i < n; ++i) {
      auto *c = static_cast<connection *>(events[i].data.ptr);
      if (c != nullptr) {
        serve(ep, c);
        continue;
      }
      for (;;) {  // the listener: accept until it would block
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        const int fd = accept4(listener, reinterpret_cast<sockaddr *>(&ss), &len,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
          if (errno == EINTR || errno == ECONNABORTED) continue;
          if (errno == EAGAIN) break;
          if (errno == EMFILE || errno == ENFILE) break;
          die("accept4");
        }
        greet(ep, fd, ss, len);
      }
    }
  }
}

void run_epoll(int listener) {
  fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK);
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev) != 0) die("epoll_ctl");
  serve_forever(ep, listener);
}

int accept_threads = 1;

void accept_forever(int ep, int listener) {
  for (;;) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const int fd = accept(listener, reinterpret_cast<sockaddr *>(&ss), &len);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE) {
        usleep(1000);
        continue;
      }
      die("accept");
    }
    greet(ep, fd, ss, len);
  }
}

void run_blocking(int listener) {
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  std::thread([ep] { serve_forever(ep, -1); }).detach();
  for (int i = 1; i < accept_threads; ++i)
    std::thread([ep, listener] { accept_forever(ep, listener); }).detach();
  accept_forever(ep, listener);
}

}  // namespace

int main(int argc, char **argv) {
  const char *mode = "epoll";
  int workers = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--mode") == 0) {
      mode = argv[i + 1];
    } else if (std::strcmp(argv[i], "--threads") == 0) {
      accept_threads = std::atoi(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--workers") == 0) {
      workers = std::atoi(argv[i + 1]);
    } else {
      std::fprintf(stderr, "flood_server: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  rlimit r{};
  getrlimit(RLIMIT_NOFILE, &r);
  r.rlim_cur = r.rlim_max;
  setrlimit(RLIMIT_NOFILE, &r);

  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) die("socket");
  const int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) die("bind");
  if (listen(listener, 8192) != 0) die("listen");
  socklen_t len = sizeof a;
  getsockname(listener, reinterpret_cast<sockaddr *>(&a), &len);

  void (*run)(int) = std::strcmp(mode, "blocking") == 0 ? run_blocking : run_epoll;
  if (workers <= 0) {
    std::printf("port %u\n", ntohs(a.sin_port));
    std::fflush(stdout);
    run(listener);
    return 0;
  }
  const pid_t parent = getpid();
  for (int w = 0; w < workers; ++w) {
    const pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(0);
      run(listener);
      _exit(0);
    }
  }
  std::printf("port %u\n", ntohs(a.sin_port));
  std::fflush(stdout);
  // SIGTERM's default action ends this process; the workers follow it.
  for (;;) {
    int status;
    if (wait(&status) < 0 && errno == ECHILD) return 1;
  }
}
