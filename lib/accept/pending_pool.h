// Connections accepted from the kernel whose header has not arrived yet:
// parked here, per listener, until it does or their deadline passes, so that
// a silent or slow client never holds up the connections behind it.
//
// A parked connection belongs to this process: it is watched by the
// listener's readiness descriptor (listener_readiness.h) from the moment it
// is parked until it is taken, both under the pool's lock, so that every
// watched descriptor is a parked one.
//
// A static pool: no allocation, bounded memory (pool_capacity slots, at most
// listener_capacity per listener). One mutex guards it; it is taken only
// while something is parked or being parked, never on the fast path (a
// header that arrives with its connection), which checks anything_parked(),
// a single relaxed load.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

#include "accept/header_reader.h"

namespace proxyproto::pending {

inline constexpr size_t pool_capacity = 1024;
inline constexpr size_t listener_capacity = 128;

// Every default is zero, so that the pool's static table of them needs no
// initialiser and lies in .bss, not in the library's file and in .data of
// every process it is preloaded into; a slot says itself whether it is used.
struct connection {
  int listener = 0;         // set by accept(), like every field below
  int fd = 0;
  int accept_flags = 0;     // the flags of the accept4() that took it
  int listener_family = 0;  // AF_INET, AF_INET6 or AF_UNIX
  int64_t deadline_ms = 0;  // CLOCK_MONOTONIC
  uint64_t order = 0;       // when it was first parked: the oldest goes first
  size_t seen = 0;          // bytes queued at the last look
  bool stalled = false;     // its last readiness brought no new byte
  int64_t parked_ms = 0;    // when it was last parked (a stalled one is
                            // looked at again stall_recheck_ms later)
  low_water saved_low_water;
  sockaddr_storage peer;  // the real peer, from accept4(): peer_len bytes of it
  socklen_t peer_len = 0;
};

// Names one parked connection; stale once it has been taken.
struct ticket {
  uint32_t index;
  uint32_t generation;
};

int64_t now_ms() noexcept;

// True when some connection is parked in this process.
bool anything_parked() noexcept;
size_t parked_for(int listener) noexcept;

enum class park_outcome {
  parked,
  parked_evicting,  // parked; the listener's oldest was taken out into *evicted
  no_room,          // not parked: the pool is full of other listeners' ones,
                    // or it could not be watched
  no_room_evicting, // not parked, and the oldest was taken out into *evicted
};
// Parks `c` (its `order` is set on the first park) and watches it on its
// listener's readiness descriptor, which the caller has made sure of. The
// caller settles an evicted connection, and `c` itself when it is not
// parked, as if its deadline had passed.
park_outcome park(connection *c, connection *evicted) noexcept;

// The key a parked connection is reported with by the readiness descriptor.
uint64_t key_of(ticket t) noexcept;
ticket ticket_of(uint64_t key) noexcept;

// Fills `tickets` with the parked connections of `listener` that are due
// at `now` (deadline passed, or stalled: looked at again on a timer), up to
// `capacity`. *next gets the time the listener's timer is next needed (the
// nearest deadline, or stall_recheck_ms from now with a stalled one; -1
// with nothing parked).
inline constexpr int stall_recheck_ms = 20;
size_t due(int listener, int64_t now, ticket *tickets, size_t capacity,
           int64_t *next) noexcept;

// Takes the connection out of the pool (and out of its readiness
// descriptor); false when another thread took it.
bool take(ticket t, connection *out) noexcept;

// The descriptors [low, high] were closed: parked connections of a listener
// among them are closed, and parked descriptors among them are forgotten
// (their number may already belong to something else).
void forget_descriptors(unsigned low, unsigned high) noexcept;
inline void forget_descriptor(int fd) noexcept {
  if (fd >= 0 && anything_parked())
    forget_descriptors(static_cast<unsigned>(fd), static_cast<unsigned>(fd));
}

}  // namespace proxyproto::pending
