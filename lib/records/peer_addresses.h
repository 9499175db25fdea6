// What getpeername() must report for a descriptor that carried a PROXY
// header: the header's source address as accept() returned it.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "records/descriptor_table.h"

namespace proxyproto::peer_addresses {

namespace detail {
// The sockaddr is kept in pointer-sized words: an atomic of that size is a
// plain load or store on every target, where a 64-bit one is a call into
// libatomic on some 32-bit ones (armv5).
using word = uintptr_t;
inline constexpr size_t word_count = 32 / sizeof(word);
// One record; its protocol is described in peer_addresses.cc.
struct entry {
  std::atomic<uint32_t> sequence;          // odd while being written
  std::atomic<uint32_t> length;            // sockaddr length; 0 = no record
  std::atomic<word> words[word_count];     // the sockaddr (at most 28 bytes)
};
extern constinit descriptor_table<entry> table;

// An erased entry is one of length 0: readers copy no word of it, so the
// words are left as they are, and the erasure is one store outside the
// sequence lock (inline, since close() asks it of every descriptor). A reader that
// raced it read either 0 (no record) or the old length with the old words,
// which an erasure never touches: the record as it was just before the
// close, consistent either way.
inline void erase(entry *e) noexcept {
  if (e->length.load(std::memory_order_relaxed) != 0)
    e->length.store(0, std::memory_order_release);
}
}  // namespace detail

// Records `addr` for `fd`, replacing any earlier record. Returns false when
// no record can be kept (fd beyond the table, or no memory for its page);
// getpeername() then reports the real peer.
bool store(int fd, const sockaddr_storage &addr, socklen_t len) noexcept;

// Fills *addr / *len with fd's record; false when it has none.
bool lookup(int fd, sockaddr_storage *addr, socklen_t *len) noexcept;

// Drops fd's record (close, or a descriptor replaced by dup2/dup3). Inline,
// since close() asks it of every descriptor: an erasure is one store of
// length 0, outside the sequence lock (see peer_addresses.cc), and a
// descriptor that never had a record gets no store at all.
inline void forget(int fd) noexcept {
  if (detail::entry *e = detail::table.find(fd)) detail::erase(e);
}

// Drops the records of every descriptor in [first, last] (close_range).
void forget_range(unsigned first, unsigned last) noexcept;

// Makes `to` carry the record of `from`, or none if `from` has none (dup*).
void copy(int from, int to) noexcept;

// Whether any descriptor may have a record: false when this process never
// recorded anything (records/any_record.h). One load.
bool maybe_any() noexcept;

// The lowest descriptor above `after` (-1: from 0) that has a record, with
// the record in *addr / *len; -1 when there is none. Walks only the pages
// of the table that exist (exec() only: the accept and close paths keep no
// count for it).
int next(int after, sockaddr_storage *addr, socklen_t *len) noexcept;

}  // namespace proxyproto::peer_addresses
