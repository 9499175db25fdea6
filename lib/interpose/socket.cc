// socket(): how the library learns which descriptors are UDP sockets. Only
// an AF_INET or AF_INET6 datagram socket of UDP loads the settings; with
// LIBPROXYPROTO_UDP on and version 2 enabled, in a process where the
// library acts, it is marked for the receive and send calls
// (lib/datagram/socket_states.h).
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "core/proxy_header.h"
#include "datagram/receive_entries.h"
#include "datagram/socket_states.h"
#include "runtime/export.h"
#include "runtime/real_datagram_calls.h"
#include "settings/server_settings.h"

namespace {

bool is_udp(int domain, int type, int protocol) noexcept {
  return (domain == AF_INET || domain == AF_INET6) &&
         (type & 0xF) == SOCK_DGRAM &&
         (protocol == 0 || protocol == IPPROTO_UDP);
}

}  // namespace

extern "C" PROXYPROTO_EXPORT int socket(int domain, int type, int protocol) {
  const int fd = proxyproto::real::socket(domain, type, protocol);
  if (fd >= 0 && is_udp(domain, type, protocol)) {
    const int saved = errno;
    const proxyproto::server_config &config = proxyproto::server_settings();
    // Only version 2 is defined for UDP: without it nothing is a header.
    if (config.active && config.udp && (config.versions & proxyproto::accept_v2) != 0)
      proxyproto::receive_entries::udp_socket_created(fd, domain);
    else proxyproto::udp_sockets::forget(fd);
    errno = saved;
  } else if (fd >= 0) {
    proxyproto::udp_sockets::forget(fd);
  }
  return fd;
}
