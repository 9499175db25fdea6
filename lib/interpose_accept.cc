// accept(2) and accept4(2): take the connection from the kernel, read its
// PROXY header, and return it with the header's source address.
//
// A connection whose header is malformed (or absent, under must-use) is
// closed here and never reaches the application: the loop goes on to the
// next pending connection, which on a blocking listener means waiting for
// one, and on a non-blocking listener usually means EAGAIN, exactly as if
// the dropped connection had never arrived.
#include <errno.h>
#include <sys/socket.h>

#include "config.h"
#include "core/sockaddr_convert.h"
#include "fd_table.h"
#include "header_reader.h"
#include "header_store.h"  // issue 7
#include "runtime/export.h"
#include "runtime/log.h"
#include "runtime/real_calls.h"

namespace proxyproto {

namespace {

bool is_ip_family(sa_family_t family) {
  return family == AF_INET || family == AF_INET6;
}

int accept_connection(int listener, sockaddr *addr, socklen_t *addrlen,
                      int flags) {
  const server_config &config = server_settings();
  // Inert when disabled, and when the caller's arguments are such that the
  // kernel must answer with an error (addr without addrlen): let it.
  if (config.versions == accept_none || (addr != nullptr && addrlen == nullptr))
    return real::accept4(listener, addr, addrlen, flags);

  for (;;) {
    sockaddr_storage peer;
    socklen_t peer_len = sizeof peer;
    const int fd = real::accept4(listener, reinterpret_cast<sockaddr *>(&peer),
                                 &peer_len, flags);
    if (fd < 0) return fd;
    // A fresh descriptor has no record: clear what a number reused behind
    // our back (a close that bypassed close()) may have left.
    fd_table::forget(fd);
    header_store::forget(fd);  // issue 7 hook: a fresh fd has no kept header

    if (!is_ip_family(peer.ss_family)) {
      copy_sockaddr_truncated(peer, peer_len, addr, addrlen);
      return fd;
    }

    sockaddr_storage source;
    socklen_t source_len = 0;
    switch (read_proxy_header(fd, config, peer.ss_family, &source, &source_len)) {
      case header_outcome::proxied:
        fd_table::store(fd, source, source_len);
        copy_sockaddr_truncated(source, source_len, addr, addrlen);
        return fd;
      case header_outcome::real_peer:
        copy_sockaddr_truncated(peer, peer_len, addr, addrlen);
        return fd;
      case header_outcome::drop:
        real::close(fd);
        break;
    }
  }
}

}  // namespace

}  // namespace proxyproto

extern "C" {

PROXYPROTO_EXPORT int accept(int fd, sockaddr *addr, socklen_t *addrlen) {
  return proxyproto::accept_connection(fd, addr, addrlen, 0);
}

PROXYPROTO_EXPORT int accept4(int fd, sockaddr *addr, socklen_t *addrlen,
                              int flags) {
  return proxyproto::accept_connection(fd, addr, addrlen, flags);
}

}  // extern "C"
