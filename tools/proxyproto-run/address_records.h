// The claimed addresses of the connections handed to the program, keyed by
// socket identity (SO_COOKIE): a dup, a close or a fork in the program needs
// no tracking, since every descriptor of one socket has its cookie, and a
// cookie is never reused while the system runs.
//
// A record dies with its socket: the supervisor keeps no copy of a
// connection it handed out, and now and then (when the table has doubled
// since the last look) asks the kernel which TCP sockets exist in a state
// a descriptor can hold (sock_diag, one dump per family, without
// TIME_WAIT) and forgets the records of the others.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <unordered_set>

namespace proxyproto::run {

struct claimed_addresses {
  sockaddr_storage peer;
  socklen_t peer_len = 0;
  sockaddr_storage local;  // the header's destination, when asked for
  socklen_t local_len = 0;
};

// SO_COOKIE of a socket, or 0 (not a socket, or an old kernel).
uint64_t socket_cookie(int fd) noexcept;

// `socket_family`: the connection's own family (AF_INET, AF_INET6,
// AF_UNIX), which says where the sweep looks for it.
void record_claim(uint64_t cookie, const claimed_addresses &claim, int socket_family) noexcept;
const claimed_addresses *find_claim(uint64_t cookie) noexcept;
bool any_claims() noexcept;
void forget_claim(uint64_t cookie) noexcept;
size_t claim_count() noexcept;

// Forgetting the records of sockets that no longer exist, in three steps,
// so that the kernel's dump, the slow part, runs without the state lock
// (address_records.cc): due when the table has doubled since the last
// sweep (and holds at least 8192 records); begun and finished under the
// lock, the live sockets listed between, without it.
struct live_sockets {
  uint64_t sweep;                      // records made since are kept
  bool inet, inet6;                    // the families to dump
  std::unordered_set<uint64_t> cookies;
  bool complete;                       // false: the kernel could not say
};
bool claims_sweep_due() noexcept;
live_sockets begin_claims_sweep() noexcept;
void list_live_sockets(live_sockets *live) noexcept;
void finish_claims_sweep(const live_sockets &live) noexcept;

}  // namespace proxyproto::run
