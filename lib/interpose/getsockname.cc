// getsockname(2): under LIBPROXYPROTO_GETSOCKNAME=1, the header's destination
// address for a proxied descriptor (for servers that pick a virtual host by
// the address the client connected to); otherwise, and for every other
// descriptor, the kernel's answer.
#include <errno.h>
#include <sys/socket.h>

#include "core/sockaddr_convert.h"
#include "records/kept_headers.h"
#include "runtime/export.h"
#include "runtime/real_calls.h"
#include "settings/header_features.h"

extern "C" PROXYPROTO_EXPORT int getsockname(int fd, sockaddr *addr,
                                             socklen_t *addrlen) {
  using namespace proxyproto;
  if (addr == nullptr || addrlen == nullptr || !getsockname_reports_destination())
    return real::getsockname(fd, addr, addrlen);
  // The kernel's answer first: it validates fd, and its family says how an
  // IPv4 destination is shown (v4-mapped on an AF_INET6 socket).
  sockaddr_storage local;
  socklen_t local_len = sizeof local;
  sockaddr_storage recorded;
  socklen_t recorded_len = 0;
  if (real::getsockname(fd, reinterpret_cast<sockaddr *>(&local), &local_len) != 0 ||
      !kept_headers::destination(fd, &recorded, &recorded_len))
    return real::getsockname(fd, addr, addrlen);
  ip_endpoint endpoint;
  const address_family family = sockaddr_to_endpoint(
      reinterpret_cast<const sockaddr *>(&recorded), recorded_len, &endpoint);
  sockaddr_storage shown;
  const socklen_t shown_len =
      endpoint_to_sockaddr(family, endpoint, local.ss_family, &shown);
  if (shown_len == 0) return real::getsockname(fd, addr, addrlen);
  copy_sockaddr_truncated(shown, shown_len, addr, addrlen);
  return 0;
}
