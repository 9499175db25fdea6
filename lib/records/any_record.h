// Whether this process has ever recorded anything about a descriptor: a
// peer address, a kept header, or a connection parked by the accept engine.
// close(), dup*() and close_range() test it first, so that the many
// processes that never accept a proxied connection (the library may be
// preloaded into every process of a host) pay one load and one branch.
//
// Set before the first record is published and never cleared; a fork()ed
// child inherits it with the records. Relaxed is enough: a descriptor with
// a record reaches another thread's close() only through something that
// happens after the record was stored (accept() returning it, then the
// application's own synchronisation), which carries the flag along.
#pragma once

#include <atomic>

namespace proxyproto::records {

inline constinit std::atomic<bool> anything_recorded{false};

inline bool anything() noexcept {
  return anything_recorded.load(std::memory_order_relaxed);
}

// Before storing a record (or parking a connection). The load first keeps
// the cache line shared once the flag is up.
inline void note_recording() noexcept {
  if (!anything()) anything_recorded.store(true, std::memory_order_relaxed);
}

}  // namespace proxyproto::records
