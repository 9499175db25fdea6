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
// application sends it, as it would without the library. Replies do not
// keep a client remembered: only its datagrams do.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

namespace proxyproto::reply_map {

// The map's clock, in milliseconds: CLOCK_MONOTONIC_COARSE, read through
// the vDSO (no system call). A batch of datagrams reads it once.
uint64_t now_ms() noexcept;

// After a datagram from `proxy` whose header named `client` (the address
// as the application was given it), at time `now` (now_ms()).
void remember_at(uint64_t now, const sockaddr *client, socklen_t client_len,
                 const sockaddr_storage &proxy, socklen_t proxy_len) noexcept;

// The proxy to send to instead of `client` at time `now`; false when there
// is none.
bool lookup_at(uint64_t now, const sockaddr *client, socklen_t client_len,
               sockaddr_storage *proxy, socklen_t *proxy_len) noexcept;

inline void remember(const sockaddr *client, socklen_t client_len,
                     const sockaddr_storage &proxy, socklen_t proxy_len) noexcept {
  remember_at(now_ms(), client, client_len, proxy, proxy_len);
}

inline bool lookup(const sockaddr *client, socklen_t client_len,
                   sockaddr_storage *proxy, socklen_t *proxy_len) noexcept {
  return lookup_at(now_ms(), client, client_len, proxy, proxy_len);
}

// How many clients the map holds (0 when it is off, or before the first
// remember_at/lookup_at, which map it).
size_t capacity() noexcept;

}  // namespace proxyproto::reply_map
