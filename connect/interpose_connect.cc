// connect(2) for the test client: once a TCP connection is established,
// write one PROXY header before the application can write anything.
//
// A non-blocking connect() that would answer EINPROGRESS is completed here
// (poll for writability, then SO_ERROR), because the header has to go out
// before the application's first byte and nothing else is intercepted; the
// caller then sees 0 or the connection's error, which POSIX allows for a
// non-blocking connect too.
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "build_header.h"
#include "connect_config.h"
#include "runtime/export.h"
#include "runtime/log.h"
#include "runtime/real_calls.h"
#include "runtime/real_datagram_calls.h"

namespace proxyproto {

namespace {

bool is_tcp_socket(int fd) noexcept {
  int type = 0, protocol = 0;
  socklen_t len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) return false;
  len = sizeof protocol;
  if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) != 0)
    return false;
  return type == SOCK_STREAM && protocol == IPPROTO_TCP;
}

bool wait_writable(int fd) noexcept {
  for (;;) {
    pollfd p{fd, POLLOUT, 0};
    const int rc = poll(&p, 1, -1);
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return false;
  }
}

// Finishes a connect() that answered EINPROGRESS. Returns 0 or -1/errno.
int finish_connect(int fd) noexcept {
  if (!wait_writable(fd)) return -1;
  int error = 0;
  socklen_t len = sizeof error;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) return -1;
  if (error != 0) {
    errno = error;
    return -1;
  }
  return 0;
}

// Writes all of the header, waiting on a non-blocking socket if needed.
int send_header(int fd, const uint8_t *buf, size_t len) noexcept {
  size_t done = 0;
  while (done < len) {
    const ssize_t n = real::send(fd, buf + done, len - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      if (!wait_writable(fd)) return -1;
    } else {
      return -1;
    }
  }
  return 0;
}

int connect_with_header(int fd, const sockaddr *addr, socklen_t len) noexcept {
  const connect_config &config = connect_settings();
  if (config.version == 0 || !config.source_ok || addr == nullptr ||
      (addr->sa_family != AF_INET && addr->sa_family != AF_INET6) ||
      !is_tcp_socket(fd))
    return real::connect(fd, addr, len);

  uint8_t header[connect_header_capacity];
  const size_t header_len =
      build_header(config, addr, len, false, header, sizeof header);
  if (header_len == 0) return real::connect(fd, addr, len);

  int rc = real::connect(fd, addr, len);
  if (rc != 0 && errno == EINPROGRESS) rc = finish_connect(fd);
  if (rc != 0) return rc;
  if (send_header(fd, header, header_len) != 0) {
    PP_DEBUG("could not send the v%u header (errno %d)", config.version, errno);
    return -1;
  }
  PP_DEBUG("sent a %zu-byte v%u header", header_len, config.version);
  return 0;
}

}  // namespace

}  // namespace proxyproto

extern "C" PROXYPROTO_EXPORT int connect(int fd, const sockaddr *addr,
                                         socklen_t len) {
  return proxyproto::connect_with_header(fd, addr, len);
}
