// A small TCP server for the integration tests, run under LD_PRELOAD.
//
// It listens on the loopback, prints "port N" as its first line on stdout,
// then for each connection prints one line describing what the application
// saw, and exits after --count connections (or runs until killed with 0):
//
//   conn fd=5 accept=inet 8.8.8.8 4321 len=16 peer=inet 8.8.8.8 4321
//        nonblock=0 cloexec=1 data=68656c6c6f
//
// "accept" is what accept()/accept4() put in its addr argument, "peer" what
// getpeername() reports afterwards, "data" every byte read until EOF (hex).
//
// Options:
//   --family 4|6|mapped  listen on 127.0.0.1 (default), ::1, or on an
//                    AF_INET6 socket bound to ::ffff:127.0.0.1 (IPv4 clients
//                    then appear as IPv4-mapped peers, as on dual stack)
//   --count N        connections to serve before exiting (default 0: forever)
//   --accept4 FLAGS  use accept4 with "nonblock", "cloexec" or "nonblock,cloexec"
//   --addrlen N      pass an addr buffer of N bytes (default sizeof storage)
//   --null-addr      pass addr = NULL, addrlen = NULL
//   --nonblocking    make the listener O_NONBLOCK and poll() for connections
//   --min-fd N       move each accepted connection to a descriptor >= N (dup2)
//   --reply TEXT     write TEXT to each connection before reading
//   --free-port      print a free loopback port and exit
//   --unix PATH      listen on an AF_UNIX stream socket at PATH instead
//                    (prints "port 0")
//   --port N         listen on port N (default 0: any free port)
//   --extra-port N   also listen on a second loopback port N (0: any; it is
//                    printed as "port2 N"); each conn line then ends with
//                    " lport=N", the local port of the listener it came from
//   --clear-env      clear the whole environment before listening, as
//                    daemons do in their workers
//   --retitle        overwrite argv[0] in place before listening, as nginx
//                    does to set its process title
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

struct options {
  int family = AF_INET;
  bool mapped = false;
  long count = 0;
  bool use_accept4 = false;
  int accept4_flags = 0;
  socklen_t addrlen = sizeof(sockaddr_storage);
  bool null_addr = false;
  bool nonblocking = false;
  int min_fd = -1;
  const char *reply = nullptr;
  bool free_port = false;
  const char *unix_path = nullptr;
  int port = 0;
  bool extra_port = false;
  int extra_port_number = 0;
  bool clear_env = false;
  bool retitle = false;
};

[[noreturn]] void die(const char *what) {
  std::fprintf(stderr, "pp_server: %s: %s\n", what, std::strerror(errno));
  std::exit(2);
}

options parse_options(int argc, char **argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (!std::strcmp(a, "--family") && v) {
      o.mapped = std::strcmp(v, "mapped") == 0;
      o.family = std::strcmp(v, "6") == 0 || o.mapped ? AF_INET6 : AF_INET;
      ++i;
    } else if (!std::strcmp(a, "--count") && v) {
      o.count = std::atol(v);
      ++i;
    } else if (!std::strcmp(a, "--accept4") && v) {
      o.use_accept4 = true;
      if (std::strstr(v, "nonblock")) o.accept4_flags |= SOCK_NONBLOCK;
      if (std::strstr(v, "cloexec")) o.accept4_flags |= SOCK_CLOEXEC;
      ++i;
    } else if (!std::strcmp(a, "--addrlen") && v) {
      o.addrlen = static_cast<socklen_t>(std::atoi(v));
      ++i;
    } else if (!std::strcmp(a, "--null-addr")) {
      o.null_addr = true;
    } else if (!std::strcmp(a, "--nonblocking")) {
      o.nonblocking = true;
    } else if (!std::strcmp(a, "--min-fd") && v) {
      o.min_fd = std::atoi(v);
      ++i;
    } else if (!std::strcmp(a, "--reply") && v) {
      o.reply = v;
      ++i;
    } else if (!std::strcmp(a, "--unix") && v) {
      o.unix_path = v;
      ++i;
    } else if (!std::strcmp(a, "--port") && v) {
      o.port = std::atoi(v);
      ++i;
    } else if (!std::strcmp(a, "--extra-port") && v) {
      o.extra_port = true;
      o.extra_port_number = std::atoi(v);
      ++i;
    } else if (!std::strcmp(a, "--retitle")) {
      o.retitle = true;
    } else if (!std::strcmp(a, "--clear-env")) {
      o.clear_env = true;
    } else if (!std::strcmp(a, "--free-port")) {
      o.free_port = true;
    } else {
      std::fprintf(stderr, "pp_server: unknown option %s\n", a);
      std::exit(2);
    }
  }
  return o;
}

// "inet 1.2.3.4 80", "inet6 ::1 80", or "none".
void describe(const sockaddr_storage &ss, socklen_t len, char *out, size_t cap) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (ss.ss_family == AF_INET && len >= sizeof(sockaddr_in)) {
    const auto *sin = reinterpret_cast<const sockaddr_in *>(&ss);
    inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
    std::snprintf(out, cap, "inet %s %u", text, ntohs(sin->sin_port));
  } else if (ss.ss_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    const auto *sin6 = reinterpret_cast<const sockaddr_in6 *>(&ss);
    inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
    std::snprintf(out, cap, "inet6 %s %u", text, ntohs(sin6->sin6_port));
  } else if (ss.ss_family == AF_INET && len >= 4) {
    // A truncated sockaddr_in: family and port fit in 4 bytes.
    const auto *sin = reinterpret_cast<const sockaddr_in *>(&ss);
    std::snprintf(out, cap, "inet-truncated %u", ntohs(sin->sin_port));
  } else if (ss.ss_family == AF_INET6 && len >= 4) {
    const auto *sin6 = reinterpret_cast<const sockaddr_in6 *>(&ss);
    std::snprintf(out, cap, "inet6-truncated %u", ntohs(sin6->sin6_port));
  } else if (ss.ss_family == AF_UNIX && len >= sizeof(sa_family_t)) {
    std::snprintf(out, cap, "unix");
  } else {
    std::snprintf(out, cap, "none");
  }
}

int open_unix_listener(const char *path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
  unlink(path);
  if (bind(fd, reinterpret_cast<sockaddr *>(&sun), sizeof sun) != 0) die("bind");
  if (listen(fd, 128) != 0) die("listen");
  return fd;
}

int open_listener(const options &o) {
  if (o.unix_path != nullptr) return open_unix_listener(o.unix_path);
  const int fd = socket(o.family, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage ss{};
  socklen_t len;
  if (o.family == AF_INET6) {
    auto *sin6 = reinterpret_cast<sockaddr_in6 *>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_addr = in6addr_loopback;
    sin6->sin6_port = htons(static_cast<uint16_t>(o.port));
    if (o.mapped) {
      inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6->sin6_addr);
      const int zero = 0;
      setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    }
    len = sizeof *sin6;
  } else {
    auto *sin = reinterpret_cast<sockaddr_in *>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin->sin_port = htons(static_cast<uint16_t>(o.port));
    len = sizeof *sin;
  }
  if (bind(fd, reinterpret_cast<sockaddr *>(&ss), len) != 0) die("bind");
  if (listen(fd, 128) != 0) die("listen");
  return fd;
}

int local_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len) != 0)
    die("getsockname");
  if (ss.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_port);
  if (ss.ss_family != AF_INET) return 0;
  return ntohs(reinterpret_cast<sockaddr_in *>(&ss)->sin_port);
}

// With a second listener, waits for either and sets *listener to it.
void pick_listener(int first, int second, int *listener) {
  pollfd p[2] = {{first, POLLIN, 0}, {second, POLLIN, 0}};
  while (poll(p, 2, -1) < 0)
    if (errno != EINTR) die("poll");
  *listener = (p[0].revents & POLLIN) ? first : second;
}

int accept_one(const options &o, int listener, sockaddr_storage *ss,
               socklen_t *len) {
  for (;;) {
    if (o.nonblocking) {
      pollfd p{listener, POLLIN, 0};
      if (poll(&p, 1, -1) < 0 && errno != EINTR) die("poll");
    }
    sockaddr *addr = o.null_addr ? nullptr : reinterpret_cast<sockaddr *>(ss);
    socklen_t *addrlen = o.null_addr ? nullptr : len;
    const int fd = o.use_accept4 ? accept4(listener, addr, addrlen, o.accept4_flags)
                                 : accept(listener, addr, addrlen);
    if (fd >= 0) return fd;
    // With two listeners, both non-blocking: let the caller wait on both.
    if (o.extra_port && errno == EAGAIN) return -1;
    if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) continue;
    die("accept");
  }
}

void read_all(int fd, char *hex, size_t cap) {
  static const char digits[] = "0123456789abcdef";
  size_t used = 0;
  for (;;) {
    unsigned char buf[4096];
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR)) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLIN, 0};
      poll(&p, 1, -1);
      continue;
    }
    if (n <= 0) break;
    for (ssize_t i = 0; i < n && used + 2 < cap; ++i) {
      hex[used++] = digits[buf[i] >> 4];
      hex[used++] = digits[buf[i] & 15];
    }
  }
  hex[used] = '\0';
}

}  // namespace

int main(int argc, char **argv) {
  const options o = parse_options(argc, argv);
  if (o.min_fd > 0) {
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur <= static_cast<rlim_t>(o.min_fd) + 16) {
      rl.rlim_cur = rl.rlim_max;
      setrlimit(RLIMIT_NOFILE, &rl);
    }
  }
  if (o.clear_env) clearenv();
  if (o.retitle) std::memset(argv[0], 'x', std::strlen(argv[0]));
  const int listener = open_listener(o);
  std::printf("port %d\n", local_port(listener));
  int second = -1;
  if (o.extra_port) {
    options other = o;
    other.unix_path = nullptr;
    other.port = o.extra_port_number;
    second = open_listener(other);
    std::printf("port2 %d\n", local_port(second));
    // A connection the library drops must not leave accept() blocked on
    // one listener while the other has one waiting.
    fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK);
    fcntl(second, F_SETFL, fcntl(second, F_GETFL) | O_NONBLOCK);
  }
  std::fflush(stdout);
  if (o.free_port) return 0;
  if (o.nonblocking) fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK);

  for (long served = 0; o.count == 0 || served < o.count; ++served) {
    sockaddr_storage ss;
    std::memset(&ss, 0, sizeof ss);
    socklen_t len = o.addrlen;
    int from = listener;
    int fd = -1;
    while (fd < 0) {
      if (second >= 0) pick_listener(listener, second, &from);
      len = o.addrlen;
      fd = accept_one(o, from, &ss, &len);
    }
    if (o.min_fd > 0) {
      const int moved = dup2(fd, o.min_fd + static_cast<int>(served));
      if (moved < 0) die("dup2");
      close(fd);
      fd = moved;
    }
    const int fl = fcntl(fd, F_GETFL);
    const int fdfl = fcntl(fd, F_GETFD);
    char accepted[96], peer[96];
    describe(ss, o.null_addr ? 0 : (len < o.addrlen ? len : o.addrlen), accepted,
             sizeof accepted);
    sockaddr_storage ps{};
    socklen_t plen = sizeof ps;
    if (getpeername(fd, reinterpret_cast<sockaddr *>(&ps), &plen) != 0)
      std::snprintf(peer, sizeof peer, "error");
    else
      describe(ps, plen, peer, sizeof peer);
    if (o.reply) {
      ssize_t ignored = write(fd, o.reply, std::strlen(o.reply));
      (void)ignored;
    }
    static char hex[1 << 17];
    read_all(fd, hex, sizeof hex);
    std::printf("conn fd=%d accept=%s len=%u peer=%s nonblock=%d cloexec=%d data=%s",
                fd, accepted, o.null_addr ? 0u : static_cast<unsigned>(len), peer,
                (fl & O_NONBLOCK) ? 1 : 0, (fdfl & FD_CLOEXEC) ? 1 : 0, hex);
    if (second >= 0) std::printf(" lport=%d", local_port(from));
    std::printf("\n");
    std::fflush(stdout);
    close(fd);
  }
  return 0;
}
