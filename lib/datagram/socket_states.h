// The UDP sockets the library handles (records/udp_marks.h holds which):
// whether a socket's port is in scope once it is bound. A socket is marked
// when it is created, by receive_entries::udp_socket_created(), which also
// switches the receive calls; this unit only decides, and knows nothing of
// the entries.
#pragma once

#include "records/udp_marks.h"

namespace proxyproto::udp_sockets {

// The scope of a socket of state undecided_*, decided now if its port is
// known: returns in_scope_* or none (and remembers it), or the undecided
// state while the socket is unbound.
state decide(int fd, state current) noexcept;

}  // namespace proxyproto::udp_sockets
