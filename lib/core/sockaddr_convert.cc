#include "core/sockaddr_convert.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace proxyproto {

namespace {

constexpr uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};

void map_v4_to_v6(ip_endpoint *ep) noexcept {
  uint8_t v4[4];
  std::memcpy(v4, ep->address, 4);
  std::memcpy(ep->address, v4_mapped_prefix, 12);
  std::memcpy(ep->address + 12, v4, 4);
}

}  // namespace

socklen_t endpoint_to_sockaddr(address_family family,
                               const ip_endpoint &endpoint,
                               int listener_family,
                               sockaddr_storage *out) noexcept {
  // Only the part a sockaddr_in6 can fill is cleared: no caller reads past
  // the returned length, and clearing all 128 bytes costs more than the
  // rest of the conversion.
  std::memset(out, 0, sizeof(sockaddr_in6));
  if (family == address_family::inet && listener_family != AF_INET6) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(endpoint.port);
    std::memcpy(&sin.sin_addr, endpoint.address, 4);
    std::memcpy(out, &sin, sizeof sin);
    return sizeof sin;
  }
  if (family == address_family::inet || family == address_family::inet6) {
    // An IPv4 source on an IPv6 listener is shown as the kernel shows it on
    // a dual-stack socket: ::ffff:a.b.c.d.
    ip_endpoint ep = endpoint;
    if (family == address_family::inet) map_v4_to_v6(&ep);
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(ep.port);
    std::memcpy(&sin6.sin6_addr, ep.address, 16);
    std::memcpy(out, &sin6, sizeof sin6);
    return sizeof sin6;
  }
  return 0;
}

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
    map_v4_to_v6(source);
    return address_family::inet6;
  }
  if (source_family == address_family::inet6 &&
      destination_family == address_family::inet) {
    map_v4_to_v6(destination);
    return address_family::inet6;
  }
  return address_family::unspec;
}

}  // namespace proxyproto
