// From a header's endpoint to the struct sockaddr an application sees, and
// accept(2)'s rule for copying it into a caller's buffer.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "proxy_header.h"

namespace proxyproto {

namespace sockaddr_convert_detail {
inline constexpr uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};

inline void map_v4_to_v6(ip_endpoint *ep) noexcept {
  uint8_t v4[4];
  std::memcpy(v4, ep->address, 4);
  std::memcpy(ep->address, v4_mapped_prefix, 12);
  std::memcpy(ep->address + 12, v4, 4);
}

}  // namespace sockaddr_convert_detail

// Builds the sockaddr for `endpoint` of `family` (inet or inet6) as seen by
// a listener of `listener_family` (AF_INET, AF_INET6, AF_UNIX...). An IPv4
// source on an AF_INET6 listener becomes ::ffff:a.b.c.d, as the kernel
// reports it on dual-stack sockets; anything else keeps its own family.
// Returns the sockaddr's length, or 0 when family is neither inet nor inet6.
// The first sizeof(sockaddr_in6) bytes of *out are written (padding zero);
// the rest of the sockaddr_storage is left as it was.
// Inline: the accept path converts every header's source.
inline socklen_t endpoint_to_sockaddr(address_family family, const ip_endpoint &endpoint,
                                      int listener_family, sockaddr_storage *out) noexcept {
  // Only the part a sockaddr_in6 can fill is written (zeroed past the
  // address): no caller reads past the returned length, and clearing all
  // 128 bytes costs more than the rest of the conversion. Each address is
  // built whole on the stack and copied in one fixed-size move, which the
  // compiler turns into two stores (a memset of `out` of its own became a
  // string instruction, one count per word).
  if (family == address_family::inet && listener_family != AF_INET6) {
    struct {
      sockaddr_in sin;
      uint8_t rest[sizeof(sockaddr_in6) - sizeof(sockaddr_in)];
    } v4{};
    v4.sin.sin_family = AF_INET;
    v4.sin.sin_port = htons(endpoint.port);
    std::memcpy(&v4.sin.sin_addr, endpoint.address, 4);
    static_assert(sizeof v4 == sizeof(sockaddr_in6));
    std::memcpy(out, &v4, sizeof v4);
    return sizeof(sockaddr_in);
  }
  if (family == address_family::inet || family == address_family::inet6) {
    // An IPv4 source on an IPv6 listener is shown as the kernel shows it on
    // a dual-stack socket: ::ffff:a.b.c.d.
    ip_endpoint ep = endpoint;
    if (family == address_family::inet) sockaddr_convert_detail::map_v4_to_v6(&ep);
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(ep.port);
    std::memcpy(&sin6.sin6_addr, ep.address, 16);
    std::memcpy(out, &sin6, sizeof sin6);
    return sizeof sin6;
  }
  std::memset(out, 0, sizeof(sockaddr_in6));
  return 0;
}

address_family sockaddr_to_endpoint(const sockaddr *sa, socklen_t len,
                                    ip_endpoint *out) noexcept;

// accept(2)/getpeername(2) semantics: copy min(*addrlen, len) bytes of `src`
// into `dst` and set *addrlen to len, the full size, so that callers can see
// that it was truncated. Does nothing when dst or addrlen is null.
void copy_sockaddr_truncated(const sockaddr_storage &src, socklen_t len,
                             sockaddr *dst, socklen_t *addrlen) noexcept;

// v1 and v2 carry one family for both ends. If one endpoint is IPv4 and the
// other IPv6, the IPv4 one is rewritten as IPv4-mapped IPv6. Returns the
// common family.
address_family map_to_common_family(address_family source_family,
                                    ip_endpoint *source,
                                    address_family destination_family,
                                    ip_endpoint *destination) noexcept;

}  // namespace proxyproto
