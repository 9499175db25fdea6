#include "accept/inherited_connections.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "accept/connection_scope.h"
#include "accept/header_reader.h"
#include "core/inet_text.h"
#include "records/peer_addresses.h"
#include "runtime/log.h"
#include "runtime/real_calls.h"
#include "settings/server_settings.h"

// glibc exports poll() as a weak alias of __poll, which no interposer of
// poll() replaces.
extern "C" int __poll(pollfd *fds, nfds_t nfds, int timeout) noexcept;

namespace proxyproto::inherited_connections {

namespace {

// At most this many LISTEN_FDS descriptors are looked at.
constexpr long max_listen_fds = 64;
constexpr int listen_fds_start = 3;  // SD_LISTEN_FDS_START
// A stream whose kind ignores SO_RCVLOWAT (AF_UNIX) is looked at again this
// often while its header is incomplete.
constexpr int recheck_ms = 20;

// What the environment says about this process.
struct marks {
  const char *listen_fds = nullptr;  // LISTEN_FDS's value
  const char *listen_pid = nullptr;  // LISTEN_PID's value
  bool per_connection = false;       // REMOTE_ADDR or TCPREMOTEIP
  bool inetd_variable = false;       // LIBPROXYPROTO_INETD
  bool config_named = false;         // LIBPROXYPROTO_CONFIG
};

// The value of `entry` if it is "NAME=value", else null. Compared by hand:
// this runs at every program's start, where the library calls no libc
// function (a first call through the PLT costs more than the whole walk).
template <size_t N>
const char *value_of(const char *entry, const char (&name)[N]) noexcept {
  for (size_t i = 0; i + 1 < N; ++i)
    if (entry[i] != name[i]) return nullptr;
  return entry + N - 1;
}

#define PP_VALUE_OF(entry, literal) value_of((entry), literal)

marks scan(char **environment) noexcept {
  marks m;
  for (char **e = environment; *e != nullptr; ++e) {
    const char *entry = *e;
    // The first two bytes rule out nearly every entry (LANG, LD_PRELOAD,
    // LS_COLORS... included); an empty entry's second byte is not read.
    if (entry[0] == '\0') continue;
    switch ((entry[0] << 8) | entry[1]) {
      case ('L' << 8) | 'I':
        if (const char *v = PP_VALUE_OF(entry, "LISTEN_FDS=")) m.listen_fds = v;
        else if (const char *v2 = PP_VALUE_OF(entry, "LISTEN_PID=")) m.listen_pid = v2;
        else if (PP_VALUE_OF(entry, "LIBPROXYPROTO_INETD=")) m.inetd_variable = true;
        else if (PP_VALUE_OF(entry, "LIBPROXYPROTO_CONFIG=")) m.config_named = true;
        break;
      case ('R' << 8) | 'E':
        if (PP_VALUE_OF(entry, "REMOTE_ADDR=")) m.per_connection = true;
        break;
      case ('T' << 8) | 'C':
        if (PP_VALUE_OF(entry, "TCPREMOTEIP=")) m.per_connection = true;
        break;
      default:
        break;
    }
  }
  return m;
}

// A decimal number of at most 9 digits, or -1.
long parse_count(const char *text) noexcept {
  if (text == nullptr || *text == '\0') return -1;
  long n = 0;
  for (size_t i = 0; text[i] != '\0'; ++i) {
    if (text[i] < '0' || text[i] > '9' || i >= 9) return -1;
    n = n * 10 + (text[i] - '0');
  }
  return n;
}

bool is_stream_socket(int fd) noexcept {
  int type = 0;
  socklen_t len = sizeof type;
  return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;
}

int64_t monotonic_ms() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// fd is a connected stream socket of a family the library reads: its real
// peer in *peer, its own family in *local_family.
bool is_connection(int fd, sockaddr_storage *peer, socklen_t *peer_len,
                   int *local_family) noexcept {
  int type = 0, listening = 0;
  socklen_t len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM)
    return false;
  len = sizeof listening;
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || listening)
    return false;
  *peer_len = sizeof *peer;
  if (real::getpeername(fd, reinterpret_cast<sockaddr *>(peer), peer_len) != 0)
    return false;
  sockaddr_storage local;
  socklen_t local_len = sizeof local;
  if (real::getsockname(fd, reinterpret_cast<sockaddr *>(&local), &local_len) != 0)
    return false;
  *local_family = local.ss_family;
  return *local_family == AF_INET || *local_family == AF_INET6 ||
         *local_family == AF_UNIX;
}

// Reads fd's header, waiting for it up to the timeout: the accept flow's
// looks and fates, with the wait in place (this process has nothing else to
// do until its connection is settled).
connection_fate read_header(int fd, const server_config &config, int local_family,
                            header_verdict *v) noexcept {
  const int64_t deadline = monotonic_ms() + config.timeout_ms;
  low_water saved;
  connection_fate fate;
  for (;;) {
    const header_state state = inspect_header(fd, config, local_family, true, v);
    const int64_t left = deadline - monotonic_ms();
    fate = fate_of(state, *v, config, left <= 0);
    if (fate != connection_fate::wait) break;
    pollfd p{fd, POLLIN | POLLRDHUP, 0};
    int wait_ms = static_cast<int>(left);
    if (local_family == AF_UNIX && v->seen > 0) {
      // Readable already: a pause, then another look.
      wait_ms = wait_ms < recheck_ms ? wait_ms : recheck_ms;
      __poll(nullptr, 0, wait_ms);
      continue;
    }
    expect_more_than(fd, v->seen, &saved);
    if (__poll(&p, 1, wait_ms) < 0 && errno != EINTR) break;
  }
  restore_low_water(fd, &saved);
  return fate;
}

// Calls fn(std_fd) for each of 0, 1 and 2 other than fd that is the same
// socket as fd: an inetd puts the connection on all three.
template <typename Fn>
void for_each_standard_copy(int fd, Fn fn) noexcept {
  struct stat st;
  if (real::fstat(fd, &st) != 0) return;
  for (int std_fd = 0; std_fd <= 2; ++std_fd) {
    struct stat other;
    if (std_fd != fd && real::fstat(std_fd, &other) == 0 && other.st_dev == st.st_dev &&
        other.st_ino == st.st_ino)
      fn(std_fd);
  }
}

// Cuts the connection under the program: the client sees the close, and
// every descriptor of this socket among 0, 1, 2 and fd reads end of file.
void cut(int fd) noexcept {
  shutdown(fd, SHUT_RDWR);
  int dead[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, dead) != 0) {
    real::close(fd);
    return;
  }
  real::close(dead[1]);
  auto replace = [&](int target) {
    const int flags = fcntl(target, F_GETFD);
    real::dup3(dead[0], target, (flags >= 0 && (flags & FD_CLOEXEC)) ? O_CLOEXEC : 0);
  };
  for_each_standard_copy(fd, replace);
  replace(fd);
  if (dead[0] != fd) real::close(dead[0]);
}

// ---- The environment of a per-connection server --------------------------

constinit char remote_addr_entry[sizeof "REMOTE_ADDR=" + 46];
constinit char remote_port_entry[sizeof "REMOTE_PORT=" + 6];
constinit char tcp_remote_ip_entry[sizeof "TCPREMOTEIP=" + 46];
constinit char tcp_remote_port_entry[sizeof "TCPREMOTEPORT=" + 6];

// "NAME=" followed by text, into `entry`.
char *compose(char *entry, size_t capacity, const char *name, const char *text) noexcept {
  const size_t name_len = std::strlen(name), text_len = std::strlen(text);
  if (name_len + text_len + 1 > capacity) return nullptr;
  std::memcpy(entry, name, name_len);
  std::memcpy(entry + name_len, text, text_len + 1);
  return entry;
}

// The client's address and port as text, NUL-terminated; an IPv4-mapped
// address as IPv4.
bool client_text(const sockaddr_storage &ss, char *address, size_t capacity, char *port,
                 size_t port_capacity) noexcept {
  uint16_t p = 0;
  size_t n = 0;
  if (ss.ss_family == AF_INET) {
    const auto *sin = reinterpret_cast<const sockaddr_in *>(&ss);
    n = format_ipv4(reinterpret_cast<const uint8_t *>(&sin->sin_addr), address, capacity - 1);
    p = ntohs(sin->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto *sin6 = reinterpret_cast<const sockaddr_in6 *>(&ss);
    const auto *a = reinterpret_cast<const uint8_t *>(&sin6->sin6_addr);
    static constexpr uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    n = std::memcmp(a, mapped, sizeof mapped) == 0 ? format_ipv4(a + 12, address, capacity - 1)
                                                   : format_ipv6(a, address, capacity - 1);
    p = ntohs(sin6->sin6_port);
  }
  if (n == 0) return false;
  address[n] = '\0';
  const size_t m = format_decimal(p, port, port_capacity - 1);
  if (m == 0) return false;
  port[m] = '\0';
  return true;
}

void rewrite_environment(char **environment, const sockaddr_storage &client) noexcept {
  char address[48], port[8];
  if (!client_text(client, address, sizeof address, port, sizeof port)) return;
  size_t kept = 0;
  for (size_t i = 0; environment[i] != nullptr; ++i) {
    char *entry = environment[i];
    char *replacement = entry;
    if (PP_VALUE_OF(entry, "REMOTE_ADDR="))
      replacement = compose(remote_addr_entry, sizeof remote_addr_entry, "REMOTE_ADDR=", address);
    else if (PP_VALUE_OF(entry, "REMOTE_PORT="))
      replacement = compose(remote_port_entry, sizeof remote_port_entry, "REMOTE_PORT=", port);
    else if (PP_VALUE_OF(entry, "TCPREMOTEIP="))
      replacement = compose(tcp_remote_ip_entry, sizeof tcp_remote_ip_entry, "TCPREMOTEIP=", address);
    else if (PP_VALUE_OF(entry, "TCPREMOTEPORT="))
      replacement =
          compose(tcp_remote_port_entry, sizeof tcp_remote_port_entry, "TCPREMOTEPORT=", port);
    else if (PP_VALUE_OF(entry, "TCPREMOTEHOST="))
      continue;  // the proxy's name: dropped
    environment[kept++] = replacement != nullptr ? replacement : entry;
  }
  environment[kept] = nullptr;
}

// Reads the header of one inherited connection; true when it gave the
// client's address (in *client).
bool settle(int fd, const server_config &config, sockaddr_storage *client) noexcept {
  sockaddr_storage peer;
  socklen_t peer_len = 0;
  int local_family = 0;
  if (!is_connection(fd, &peer, &peer_len, &local_family)) return false;
  switch (connection_scope(config, fd, peer, peer_len)) {
    case scope_decision::pass_through:
      return false;
    case scope_decision::drop:
      cut(fd);
      return false;
    case scope_decision::handle:
      break;
  }
  header_verdict v;
  switch (read_header(fd, config, local_family, &v)) {
    case connection_fate::proxied:
      peer_addresses::store(fd, v.source, v.source_len);
      // The same socket on 1 and 2 reports the same peer: sshd -i, for
      // one, trusts the address only when its input and output agree.
      for_each_standard_copy(fd, [fd](int copy) { peer_addresses::copy(fd, copy); });
      PP_DEBUG("inherited connection %d: header read", fd);
      *client = v.source;
      return true;
    case connection_fate::drop:
    case connection_fate::wait:  // the wait failed: nothing to hand over
      PP_DEBUG("inherited connection %d: cut", fd);
      cut(fd);
      return false;
    case connection_fate::real_peer:
      return false;
  }
  return false;
}

}  // namespace

void read_at_load(char **environment) noexcept {
  if (environment == nullptr) return;
  const marks m = scan(environment);
  long listen_fds = 0;
  if (m.listen_fds != nullptr && parse_count(m.listen_pid) == static_cast<long>(getpid()))
    listen_fds = parse_count(m.listen_fds);
  if (listen_fds <= 0 && !m.per_connection && !m.inetd_variable && !m.config_named) return;
  const int saved_errno = errno;
  // A named configuration file may hold the `inetd` key; it is read only if
  // standard input is a stream socket at all, so that the other programs
  // started with LIBPROXYPROTO_CONFIG pay one getsockopt() and read no file.
  if (listen_fds <= 0 && !m.per_connection && !m.inetd_variable && !is_stream_socket(0)) {
    errno = saved_errno;
    return;
  }
  const server_config &config = server_settings();
  if (config.active && config.versions != accept_none) {
    bool rewritten = false;
    sockaddr_storage client;
    if (m.per_connection || config.inetd) {
      if (settle(0, config, &client)) {
        rewrite_environment(environment, client);
        rewritten = true;
      }
    }
    const long count = listen_fds < max_listen_fds ? listen_fds : max_listen_fds;
    for (long i = 0; i < count; ++i) {
      if (settle(listen_fds_start + static_cast<int>(i), config, &client) && !rewritten &&
          m.per_connection) {
        rewrite_environment(environment, client);
        rewritten = true;
      }
    }
  }
  errno = saved_errno;
}

}  // namespace proxyproto::inherited_connections
