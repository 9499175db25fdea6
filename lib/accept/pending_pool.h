// Connections accepted from the kernel whose header has not arrived yet:
// parked here, per listener, until it does or their deadline passes, so that
// a silent or slow client never holds up the connections behind it.
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
  bool stalled = false;     // the last wake-up brought no new byte
  low_water saved_low_water;
  sockaddr_storage peer{};  // the real peer, from accept4()
  socklen_t peer_len = 0;
  sockaddr_storage listener_address{};  // where the waker connects
  socklen_t listener_address_len = 0;
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
  no_room,          // not parked: the pool is full of other listeners' ones
};
// Parks `c` (its `order` is set on the first park). The caller settles an
// evicted connection, or `c` itself on no_room, as if its deadline had passed.
park_outcome park(connection *c, connection *evicted) noexcept;

// Fills `fds`/`tickets` with the parked connections of `listener`, or of
// every listener with -1 (the waker). A stalled connection is watched for
// hang-up only (looked at again after stall_recheck_ms instead). With
// `skip_announced`, connections the waker has already announced are left
// out: a connection is announced once. *earliest is the nearest deadline among them.
inline constexpr int stall_recheck_ms = 20;
size_t watch(int listener, bool skip_announced, pollfd *fds, ticket *tickets,
             size_t capacity, int64_t *earliest, bool *any_stalled) noexcept;

// Takes the connection out of the pool; false when another thread took it.
bool take(ticket t, connection *out) noexcept;
// Copies the connection without taking it (the waker looks without owning).
bool peek(ticket t, connection *out) noexcept;
// Records a look at a connection that is still parked (by a thread that does
// not own it: the waker). With new bytes, raises its SO_RCVLOWAT under the
// pool's lock, so that the descriptor cannot meanwhile have been handed to
// the application and its number reused.
void record_look(ticket t, size_t seen) noexcept;
// Marks it announced by a wake-up connection; false if already so or gone.
// Once ready (header complete, hang-up, deadline) a connection stays ready,
// so one wake-up is enough.
bool announce(ticket t) noexcept;

// The descriptors [low, high] were closed: parked connections of a listener
// among them are closed, and parked descriptors among them are forgotten
// (their number may already belong to something else).
void forget_descriptors(unsigned low, unsigned high) noexcept;
inline void forget_descriptor(int fd) noexcept {
  if (fd >= 0 && anything_parked())
    forget_descriptors(static_cast<unsigned>(fd), static_cast<unsigned>(fd));
}

// For the waker thread: blocks until something is parked.
void wait_until_parked() noexcept;

}  // namespace proxyproto::pending
