// Connections accepted from the kernel whose header has not arrived yet:
// parked here, per listener, until it does, their own deadline passes or
// their peer hangs up, so that a silent or slow client never holds up the
// connections behind it, and is never settled because of the others.
//
// A parked connection belongs to this process: it is watched by the
// listener's readiness descriptor (listener_readiness.h) from the moment it
// is parked until it is settled, both under the pool's lock, so that every
// watched descriptor is a parked one. The watch is one-shot: a report
// disarms it, and only the thread that claimed the connection arms it again.
//
// Capacity grows on demand: slots live in chunks mapped at the first park
// that needs them (nothing at start, nothing in a process that never
// parks), and are kept for reuse. The bound is the process's descriptors
// (each parked connection holds one) and memory, up to max_parked slots.
// Every operation is O(1) in the number parked:
//  - park appends to its listener's deadline list (every connection gets
//    the same timeout, so arrival order is deadline order);
//  - claiming a reported connection is a look-up by its key;
//  - the due scan looks at the heads of the listener's two lists (the
//    deadline list and the stall list, see stall_recheck_ms);
//  - close() of a parked descriptor finds it by number (an index by fd),
//    and close() of any other is told by the readiness table's bitmap of
//    descriptors close() must look up (readiness::note_parked()).
// One mutex guards it; it is taken only while something is parked or being
// parked, never on the fast path (a header that arrives with its
// connection), which checks anything_parked(), a single relaxed load.
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

#include "accept/header_reader.h"

namespace proxyproto::pending {

// Slots are mapped chunk_slots at a time, up to max_chunks chunks: 2^20
// parked connections, the kernel's default ceiling of descriptors per
// process (fs.nr_open).
inline constexpr size_t chunk_slots = 256;
inline constexpr size_t max_chunks = 4096;
inline constexpr size_t max_parked = chunk_slots * max_chunks;
// Listeners with parked connections at once (as many as have a readiness
// descriptor, readiness_table.h).
inline constexpr size_t max_listeners = 64;

struct connection {
  int listener = 0;
  int fd = 0;
  int accept_flags = 0;     // the flags of the accept4() that took it
  int listener_family = 0;  // AF_INET, AF_INET6 or AF_UNIX
  int64_t deadline_ms = 0;  // CLOCK_MONOTONIC
  size_t seen = 0;          // bytes queued at the last look
  bool stalled = false;     // its last readiness brought no new byte
  low_water saved_low_water;
  sockaddr_storage peer;  // the real peer, from accept4(): peer_len bytes of it
  socklen_t peer_len = 0;
};

// Names one parked connection; stale once it has left the pool.
struct ticket {
  uint32_t index;
  uint32_t generation;
};

int64_t now_ms() noexcept;

// True when some connection is parked in this process.
bool anything_parked() noexcept;
// How many `listener` has parked: no lock, one look-up.
size_t parked_for(int listener) noexcept;

enum class park_outcome {
  parked,
  no_room,  // not parked: no memory for a slot, no listener entry left, or
            // it could not be watched. The caller closes it unseen.
};
// Parks a new connection and watches it on its listener's readiness
// descriptor, which the caller has made sure of.
park_outcome park(const connection &c) noexcept;

// The key a parked connection is reported with by the readiness descriptor.
uint64_t key_of(ticket t) noexcept;
ticket ticket_of(uint64_t key) noexcept;

// Claims a parked connection to look at it again: a copy goes to *out and
// it stays parked (in its lists, at its place) but no other thread can
// claim it until claimed_waits() or claimed_settled(). False when it is
// gone or claimed by another thread.
bool claim(ticket t, connection *out) noexcept;

// A stalled connection (woken without a new byte: a socket whose poll()
// ignores SO_RCVLOWAT) is watched for hang-up only and looked at again
// stall_recheck_ms after its last look.
inline constexpr int stall_recheck_ms = 20;
// Claims the first connection of `listener` that is due at `now`: its
// deadline passed, or it is stalled and its recheck time came. False when
// none is.
bool claim_due(int listener, int64_t now, ticket *t, connection *out) noexcept;
// When the listener's timer is next needed: the nearest deadline or stall
// recheck among its unclaimed connections; -1 with none.
int64_t next_due(int listener) noexcept;

// The end of a claim.
enum class claim_end {
  kept,        // claimed_waits: parked again, its watch armed
  settled,     // claimed_settled: out of the pool, no longer watched
  gone,        // its descriptor was closed meanwhile (close, close_range),
               // or its listener was and the pool closed it: not the
               // caller's any more, not to be touched
};
// The claimed connection waits on, with c's `seen` and `stalled`.
claim_end claimed_waits(ticket t, const connection &c) noexcept;
// The claimed connection is settled: it leaves the pool.
claim_end claimed_settled(ticket t) noexcept;

// The descriptors [low, high] were closed: parked connections of a listener
// among them are closed, and parked descriptors among them are forgotten
// (their number may already belong to something else). Walks the index of
// parked descriptors over the range (never beyond the highest descriptor
// ever parked) and the listeners, not the parked connections.
void forget_descriptors(unsigned low, unsigned high) noexcept;
void forget_parked_descriptor(int fd) noexcept;
inline void forget_descriptor(int fd) noexcept {
  if (fd >= 0 && anything_parked()) forget_parked_descriptor(fd);
}


// Bytes of user memory a parked connection costs (its slot and its index
// entry), for the documentation and the tests.
size_t bytes_per_parked() noexcept;

}  // namespace proxyproto::pending
