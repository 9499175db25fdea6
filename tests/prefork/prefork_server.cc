// A pre-forked HTTP/1.0 server for tests/prefork/: --workers processes
// accept on one listener (or, with --reuseport, each on its own listener in
// one SO_REUSEPORT group) in one of three shapes:
//   blocking  a blocking listener; accept() in a loop, a thread per connection
//   epoll     a non-blocking listener in an epoll set (level-triggered, or
//             --edge: edge-triggered and accept4 until EAGAIN; --exclusive:
//             EPOLLEXCLUSIVE); connections served in the same loop
//   select    a non-blocking listener and its connections in select()
// Knows nothing of the protocol: it answers every request with
//   "HTTP/1.0 200 OK ... client ADDR PORT\n" (the address accept() returned)
// and appends one line per connection its application accepted,
//   "accepted PID ADDR PORT"
// to --record FILE, so that a test can compare the connections the
// application saw with those the clients opened. Prints "port N" once
// listening; stops its workers on SIGTERM.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

struct options {
  const char *shape = "blocking";
  int workers = 3;
  bool reuseport = false;
  bool edge = false;
  bool exclusive = false;
  const char *record = nullptr;
};

options opt;
int record_fd = -1;
std::vector<pid_t> children;

[[noreturn]] void die(const char *what) {
  std::fprintf(stderr, "prefork_server: %s: %s\n", what, std::strerror(errno));
  std::exit(2);
}

std::string describe(const sockaddr_storage &ss) {
  char ip[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (ss.ss_family == AF_INET) {
    const auto &s = reinterpret_cast<const sockaddr_in &>(ss);
    inet_ntop(AF_INET, &s.sin_addr, ip, sizeof ip);
    port = ntohs(s.sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto &s = reinterpret_cast<const sockaddr_in6 &>(ss);
    inet_ntop(AF_INET6, &s.sin6_addr, ip, sizeof ip);
    port = ntohs(s.sin6_port);
  }
  return std::string(ip) + " " + std::to_string(port);
}

void record_accept(const std::string &peer) {
  const std::string line =
      "accepted " + std::to_string(getpid()) + " " + peer + "\n";
  if (record_fd >= 0) {
    ssize_t ignored = write(record_fd, line.data(), line.size());
    (void)ignored;
  }
}

std::string answer_for(const std::string &peer) {
  const std::string body = "client " + peer + "\n";
  return "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

int open_listener(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (opt.reuseport) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(static_cast<uint16_t>(port));
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr *>(&sin), sizeof sin) != 0) die("bind");
  return fd;
}

int bound_port(int fd) {
  sockaddr_in sin{};
  socklen_t len = sizeof sin;
  if (getsockname(fd, reinterpret_cast<sockaddr *>(&sin), &len) != 0)
    die("getsockname");
  return ntohs(sin.sin_port);
}

// One connection's state in the event-loop shapes.
struct conn {
  int fd = -1;
  std::string peer;
  std::string in;
  std::string out;
  bool answered = false;
};

// Returns true when the connection is finished (to be closed).
bool on_readable(conn &c) {
  char buf[4096];
  for (;;) {
    const ssize_t r = recv(c.fd, buf, sizeof buf, 0);
    if (r > 0) {
      c.in.append(buf, static_cast<size_t>(r));
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) break;
    return true;  // EOF or error
  }
  if (!c.answered && c.in.find("\r\n\r\n") != std::string::npos) {
    c.answered = true;
    const std::string a = answer_for(c.peer);
    ssize_t ignored = send(c.fd, a.data(), a.size(), MSG_NOSIGNAL);
    (void)ignored;
    return true;
  }
  return false;
}

void serve_blocking_connection(int fd, std::string peer) {
  std::string in;
  char buf[4096];
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  while (in.find("\r\n\r\n") == std::string::npos) {
    const ssize_t r = recv(fd, buf, sizeof buf, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    in.append(buf, static_cast<size_t>(r));
  }
  if (in.find("\r\n\r\n") != std::string::npos) {
    const std::string a = answer_for(peer);
    ssize_t ignored = send(fd, a.data(), a.size(), MSG_NOSIGNAL);
    (void)ignored;
  }
  close(fd);
}

void run_blocking(int listener) {
  for (;;) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    const int fd = accept(listener, reinterpret_cast<sockaddr *>(&ss), &len);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      die("accept");
    }
    const std::string peer = describe(ss);
    record_accept(peer);
    std::thread(serve_blocking_connection, fd, peer).detach();
  }
}

void make_nonblocking(int fd) {
  const int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) die("fcntl");
}

void run_epoll(int listener) {
  make_nonblocking(listener);
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  epoll_event ev{};
  ev.events = EPOLLIN;
  if (opt.edge) ev.events |= EPOLLET;
  if (opt.exclusive) ev.events |= EPOLLEXCLUSIVE;
  ev.data.fd = listener;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev) != 0) die("epoll_ctl");
  std::vector<conn> conns(65536);
  auto at = [&conns](int fd) -> conn & { return conns[static_cast<size_t>(fd)]; };
  for (;;) {
    epoll_event evs[64];
    const int n = epoll_wait(ep, evs, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
      const int fd = evs[i].data.fd;
      if (fd == listener) {
        for (;;) {
          sockaddr_storage ss{};
          socklen_t len = sizeof ss;
          const int c = accept4(listener, reinterpret_cast<sockaddr *>(&ss), &len,
                                SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno != EAGAIN) die("accept4");
            break;
          }
          at(c) = conn{c, describe(ss), {}, {}, false};
          record_accept(at(c).peer);
          epoll_event cev{};
          cev.events = EPOLLIN | EPOLLRDHUP;
          cev.data.fd = c;
          if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev) != 0) die("epoll_ctl add");
          // Level-triggered: one accept per event, as nginx without
          // multi_accept; edge-triggered: until EAGAIN.
          if (!opt.edge) break;
        }
      } else if (on_readable(at(fd))) {
        epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
        close(fd);
        at(fd).fd = -1;
      }
    }
  }
}

void run_select(int listener) {
  make_nonblocking(listener);
  std::vector<conn> conns(FD_SETSIZE);
  auto at = [&conns](int fd) -> conn & { return conns[static_cast<size_t>(fd)]; };
  for (;;) {
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(listener, &rd);
    int maxfd = listener;
    for (int fd = 0; fd < FD_SETSIZE; ++fd) {
      if (at(fd).fd >= 0 && !at(fd).peer.empty()) {
        FD_SET(fd, &rd);
        if (fd > maxfd) maxfd = fd;
      }
    }
    const int n = select(maxfd + 1, &rd, nullptr, nullptr, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("select");
    }
    if (FD_ISSET(listener, &rd)) {
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      const int c = accept4(listener, reinterpret_cast<sockaddr *>(&ss), &len,
                            SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (c >= FD_SETSIZE) {
        close(c);
      } else if (c >= 0) {
        at(c) = conn{c, describe(ss), {}, {}, false};
        record_accept(at(c).peer);
      } else if (errno != EAGAIN && errno != EINTR &&
                 errno != ECONNABORTED) {
        die("accept4");
      }
    }
    for (int fd = 0; fd <= maxfd; ++fd) {
      if (fd == listener || !FD_ISSET(fd, &rd) || at(fd).fd < 0) continue;
      if (on_readable(at(fd))) {
        close(fd);
        at(fd) = conn{};
      }
    }
  }
}

void worker(int listener) {
  signal(SIGTERM, SIG_DFL);
  if (std::strcmp(opt.shape, "blocking") == 0) run_blocking(listener);
  else if (std::strcmp(opt.shape, "epoll") == 0) run_epoll(listener);
  else run_select(listener);
  std::exit(0);
}

volatile sig_atomic_t stop = 0;
void on_term(int) { stop = 1; }

}  // namespace

int main(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char * {
      if (i + 1 >= argc) std::exit(2);
      return argv[++i];
    };
    if (a == "--shape") opt.shape = next();
    else if (a == "--workers") opt.workers = std::atoi(next());
    else if (a == "--reuseport") opt.reuseport = true;
    else if (a == "--edge") opt.edge = true;
    else if (a == "--exclusive") opt.exclusive = true;
    else if (a == "--record") opt.record = next();
    else {
      std::fprintf(stderr, "prefork_server: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (opt.record != nullptr) {
    record_fd = open(opt.record, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (record_fd < 0) die("open --record");
  }
  signal(SIGPIPE, SIG_IGN);
  // One listener shared by every worker; with --reuseport, this one only
  // reserves the port (bound, never listening) and each worker has its own.
  const int first = open_listener(0);
  const int port = bound_port(first);
  if (!opt.reuseport && listen(first, 128) != 0) die("listen");
  for (int w = 0; w < opt.workers; ++w) {
    int listener = first;
    if (opt.reuseport) {
      listener = open_listener(port);
      if (listen(listener, 128) != 0) die("listen");
    }
    const pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
      if (opt.reuseport) close(first);
      worker(listener);
    }
    children.push_back(pid);
    if (opt.reuseport) close(listener);
  }
  struct sigaction sa{};
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  std::printf("port %d\n", port);
  std::fflush(stdout);
  while (!stop) {
    int status;
    const pid_t p = waitpid(-1, &status, 0);
    if (p < 0 && errno != EINTR) break;
    if (p > 0) {
      std::fprintf(stderr, "prefork_server: worker %d ended (status %d)\n",
                   static_cast<int>(p), status);
      break;
    }
  }
  for (pid_t p : children) kill(p, SIGTERM);
  for (pid_t p : children) waitpid(p, nullptr, 0);
  return 0;
}
