// Whether this process has ever recorded anything about a descriptor: a
// peer address, a listener, a kept header, a UDP socket or a connection
// parked by the accept engine.
// close(), dup*() and close_range() test it first, so that the many
// processes that never accept a proxied connection (the library may be
// preloaded into every process of a host) pay one load and one branch.
//
// Each kind's bit is set before its first record is published and never
// cleared; a fork()ed
// child inherits it with the records. Relaxed is enough: a descriptor with
// a record reaches another thread's close() only through something that
// happens after the record was stored (accept() returning it, then the
// application's own synchronisation), which carries the flag along.
#pragma once

#include <atomic>
#include <cstdint>

namespace proxyproto::records {

// What was recorded, so that close() tests only what may be there: the
// address records are erased inline, the listeners' readiness and the
// parked connections are told by one bitmap (the readiness table's),
// inline too, and the rest (kept headers, UDP sockets) is looked at out of
// line.
inline constexpr uint8_t address_kind = 1;   // peer_addresses
inline constexpr uint8_t listener_kind = 2;  // a listener marked (readiness)
inline constexpr uint8_t other_kinds = 4;    // kept headers, UDP
inline constexpr uint8_t parked_kind = 8;    // a connection parked (pending pool)

// A full word, not a byte: a read-modify-write of a byte is a call into
// libatomic on some targets (riscv64 with gcc 12), and a word costs the
// loads of close() nothing more.
inline constinit std::atomic<uint32_t> recorded{0};

inline uint32_t kinds() noexcept { return recorded.load(std::memory_order_relaxed); }

inline bool anything() noexcept { return kinds() != 0; }

// Before storing a record of `kind` (or parking a connection). The load
// first keeps the cache line shared once the bit is up.
inline void note_recording(uint8_t kind) noexcept {
  if (!(kinds() & kind)) recorded.fetch_or(kind, std::memory_order_relaxed);
}

}  // namespace proxyproto::records
