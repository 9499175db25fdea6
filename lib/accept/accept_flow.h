// The accept engine's entry point: what accept(2) and accept4(2) do under
// the library (lib/interpose/accept.cc holds the two exported shims).
#pragma once

#include <sys/socket.h>

namespace proxyproto {

// accept4() with the PROXY header read and removed: returns a connection
// whose header is complete (its source reported through addr/addrlen and
// recorded for getpeername), one that is passed through untouched, or -1
// with errno as the kernel's accept4() would set it. Connections with a bad
// header, or none under must-use, are closed here and never returned.
int accept_connection(int listener, sockaddr *addr, socklen_t *addrlen,
                      int flags) noexcept;

}  // namespace proxyproto
