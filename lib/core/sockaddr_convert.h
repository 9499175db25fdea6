// From a header's endpoint to the struct sockaddr an application sees, and
// accept(2)'s rule for copying it into a caller's buffer.
#pragma once

#include <sys/socket.h>

#include "proxy_header.h"

namespace proxyproto {

// Builds the sockaddr for `endpoint` of `family` (inet or inet6) as seen by
// a listener of `listener_family` (AF_INET, AF_INET6, AF_UNIX...). An IPv4
// source on an AF_INET6 listener becomes ::ffff:a.b.c.d, as the kernel
// reports it on dual-stack sockets; anything else keeps its own family.
// Returns the sockaddr's length, or 0 when family is neither inet nor inet6.
// The first sizeof(sockaddr_in6) bytes of *out are written (padding zero);
// the rest of the sockaddr_storage is left as it was.
socklen_t endpoint_to_sockaddr(address_family family,
                               const ip_endpoint &endpoint,
                               int listener_family,
                               sockaddr_storage *out) noexcept;

// The reverse, for senders: AF_INET/AF_INET6 sockaddr to endpoint. Returns
// inet, inet6, or unspec when the sockaddr is neither or too short.
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
