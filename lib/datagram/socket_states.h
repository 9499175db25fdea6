// The UDP sockets the library handles (records/udp_marks.h holds which):
// what a socket created under LIBPROXYPROTO_UDP is, and whether its port is
// in scope once it is bound.
#pragma once

#include "records/udp_marks.h"

namespace proxyproto::udp_sockets {

// socket(): an AF_INET or AF_INET6 UDP socket, created while UDP handling
// is on; its scope is decided on its first receive, once it is bound.
void created(int fd, int domain) noexcept;

// The scope of a socket of state undecided_*, decided now if its port is
// known: returns in_scope_* or none (and remembers it), or the undecided
// state while the socket is unbound.
state decide(int fd, state current) noexcept;

}  // namespace proxyproto::udp_sockets
