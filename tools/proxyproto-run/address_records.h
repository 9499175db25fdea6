// The claimed addresses of the connections handed to the program, keyed by
// socket identity (SO_COOKIE): a dup, a close or a fork in the program needs
// no tracking, since every descriptor of one socket has its cookie, and a
// cookie is never reused while the system runs.
//
// A record dies with its socket: the supervisor keeps no copy of a
// connection it handed out, and now and then (when the table has doubled
// since the last look) asks the kernel which TCP sockets exist (sock_diag,
// one dump per family) and forgets the records of the others.
#pragma once

#include <sys/socket.h>

#include <cstdint>

namespace proxyproto::run {

struct claimed_addresses {
  sockaddr_storage peer;
  socklen_t peer_len = 0;
  sockaddr_storage local;  // the header's destination, when asked for
  socklen_t local_len = 0;
};

// SO_COOKIE of a socket, or 0 (not a socket, or an old kernel).
uint64_t socket_cookie(int fd) noexcept;

void record_claim(uint64_t cookie, const claimed_addresses &claim) noexcept;
const claimed_addresses *find_claim(uint64_t cookie) noexcept;
bool any_claims() noexcept;
void forget_claim(uint64_t cookie) noexcept;
size_t claim_count() noexcept;

// Forgets the records of sockets that no longer exist, when the table has
// doubled since the last sweep (at least 1024 records).
void sweep_claims_if_due() noexcept;

}  // namespace proxyproto::run
