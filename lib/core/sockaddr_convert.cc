#include "core/sockaddr_convert.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace proxyproto {

address_family sockaddr_to_endpoint(const sockaddr *sa, socklen_t len,
                                    ip_endpoint *out) noexcept {
  // Read the family only once `len` says it is there.
  if (sa == nullptr || len < sizeof(sa_family_t)) return address_family::unspec;
  if (sa->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
    sockaddr_in sin;
    std::memcpy(&sin, sa, sizeof sin);
    *out = ip_endpoint{};
    std::memcpy(out->address, &sin.sin_addr, 4);
    out->port = ntohs(sin.sin_port);
    return address_family::inet;
  }
  if (sa->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, sa, sizeof sin6);
    *out = ip_endpoint{};
    std::memcpy(out->address, &sin6.sin6_addr, 16);
    out->port = ntohs(sin6.sin6_port);
    return address_family::inet6;
  }
  return address_family::unspec;
}

void copy_sockaddr_truncated(const sockaddr_storage &src, socklen_t len,
                             sockaddr *dst, socklen_t *addrlen) noexcept {
  if (dst == nullptr || addrlen == nullptr) return;
  const socklen_t n = *addrlen < len ? *addrlen : len;
  std::memcpy(dst, &src, n);
  *addrlen = len;
}

address_family map_to_common_family(address_family source_family,
                                    ip_endpoint *source,
                                    address_family destination_family,
                                    ip_endpoint *destination) noexcept {
  if (source_family == destination_family) return source_family;
  if (source_family == address_family::inet &&
      destination_family == address_family::inet6) {
    sockaddr_convert_detail::map_v4_to_v6(source);
    return address_family::inet6;
  }
  if (source_family == address_family::inet6 &&
      destination_family == address_family::inet) {
    sockaddr_convert_detail::map_v4_to_v6(destination);
    return address_family::inet6;
  }
  return address_family::unspec;
}

}  // namespace proxyproto
