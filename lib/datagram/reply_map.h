// Where replies to a client learnt from a header must go: to the proxy
// that sent the header. A UDP server answers the sender recvfrom() gave it;
// the library gave it the header's source, so a reply sent there is
// redirected to the proxy's real address, which relays it (dnsdist, for
// one, takes the answer back on the socket it sent the query from).
//
// Bounded in memory and in time: at most LIBPROXYPROTO_UDP_REPLY_ENTRIES
// clients (rounded up to a power of two, mapped once, on the first header),
// each forgotten LIBPROXYPROTO_UDP_REPLY_SECONDS after its last datagram;
// when the map is full, a new client takes the place of the oldest one in
// its neighbourhood. A reply whose client has been forgotten goes where the
// application sends it, as it would without the library.
#pragma once

#include <sys/socket.h>

namespace proxyproto::reply_map {

// After a datagram from `proxy` whose header named `client` (the address
// as the application was given it).
void remember(const sockaddr *client, socklen_t client_len,
              const sockaddr_storage &proxy, socklen_t proxy_len) noexcept;

// The proxy to send to instead of `client`; false when there is none.
bool lookup(const sockaddr *client, socklen_t client_len,
            sockaddr_storage *proxy, socklen_t *proxy_len) noexcept;

}  // namespace proxyproto::reply_map
