// getpeername()'s records: one entry per descriptor in a descriptor_table
// (see descriptor_table.h for its shape and bounds).
//
// Concurrency: each entry is a sequence lock. A writer moves the sequence
// from even to odd with a compare-and-swap, writes, and makes it even again;
// readers copy the entry and retry if the sequence was odd or changed.
// Erasing is one store of length 0 (detail::erase in peer_addresses.h).
// Readers (getpeername) never block writers and nothing takes a global lock.
// Records are written by accept() before the descriptor is returned, and
// erased by close() before the real close, so a number reused by another
// thread's accept() never loses its fresh record to a late erase.
//
// fork(): the child inherits the table as it is, which is right: it
// inherits the descriptors too. A writer interrupted by fork() in another
// thread would leave an odd sequence behind in the child, so a child
// handler (registered once, on the first page allocation) makes every odd
// entry even and empty again. No lock is ever held across fork().
#include "records/peer_addresses.h"

#include <netinet/in.h>
#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <cstring>

#include "records/any_record.h"
#include "records/descriptor_table.h"

namespace proxyproto::peer_addresses {

constinit descriptor_table<detail::entry> detail::table;

namespace {

using detail::entry;
using detail::table;
static_assert(sizeof(sockaddr_in6) <= sizeof(entry::words));
constinit pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

void repair_after_fork() noexcept {
  table.for_each([](entry &e) {
    const uint32_t seq = e.sequence.load(std::memory_order_relaxed);
    if (seq & 1u) {
      e.length.store(0, std::memory_order_relaxed);
      e.sequence.store(seq + 1, std::memory_order_relaxed);
    }
  });
}

void register_atfork() noexcept {
  pthread_atfork(nullptr, nullptr, repair_after_fork);
}

void begin_write(entry *e) noexcept {
  uint32_t seq = e->sequence.load(std::memory_order_relaxed);
  for (;;) {
    if (seq & 1u) {
      seq = e->sequence.load(std::memory_order_relaxed);
      continue;
    }
    if (e->sequence.compare_exchange_weak(seq, seq + 1,
                                          std::memory_order_acquire,
                                          std::memory_order_relaxed))
      break;
  }
  std::atomic_thread_fence(std::memory_order_release);
}

void end_write(entry *e) noexcept {
  e->sequence.fetch_add(1, std::memory_order_release);
}

// The i-th word of a sockaddr of at most 28 bytes.
inline detail::word word_of(const void *addr, size_t i) noexcept {
  detail::word w;
  std::memcpy(&w, static_cast<const unsigned char *>(addr) + sizeof w * i, sizeof w);
  return w;
}

// All the words, whatever `length` says (a fixed-size copy is four moves on
// a 64-bit target; a sockaddr_storage always has them): lookup() hands out
// only `length` bytes. Unrolled, and read from `addr` only once the entry
// is held: a loop left as a loop costs a counter, and a copy taken before
// begin_write() goes through the stack.
void write_entry(entry *e, const sockaddr_storage &addr, uint32_t length) noexcept {
  begin_write(e);
#pragma GCC unroll 8
  for (size_t i = 0; i < detail::word_count; ++i)
    e->words[i].store(word_of(&addr, i), std::memory_order_relaxed);
  e->length.store(length, std::memory_order_relaxed);
  end_write(e);
}

// Copies an entry consistently; returns its length (0: no record).
uint32_t read_entry(const entry *e, detail::word (&words)[detail::word_count]) noexcept {
  for (;;) {
    const uint32_t before = e->sequence.load(std::memory_order_acquire);
    if (before & 1u) continue;
    const uint32_t length = e->length.load(std::memory_order_relaxed);
    for (size_t i = 0; i < detail::word_count; ++i)
      words[i] = e->words[i].load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (e->sequence.load(std::memory_order_relaxed) == before) return length;
  }
}

// An entry with no record and no writer at work: the common case, told by
// two plain loads, so that lookups and erasures of descriptors that never
// carried a header skip the sequence-lock protocol.
bool plainly_empty(const entry *e) noexcept {
  return e->length.load(std::memory_order_relaxed) == 0 &&
         (e->sequence.load(std::memory_order_relaxed) & 1u) == 0;
}

// The first record in a page of the table: the page is mapped (and the
// fork handler registered, once). Out of line, so that store() itself
// stays a leaf for every later connection.
__attribute__((noinline)) entry *first_in_page(int fd) noexcept {
  pthread_once(&atfork_once, register_atfork);
  return table.find_or_map(fd);
}

bool store_first_in_page(int fd, const sockaddr_storage &addr, socklen_t len) noexcept;

}  // namespace

// A leaf for every connection after a page's first: the mapping is a
// tail call, so no register is saved around it. A page is in use only once
// store_first_in_page() noted the kind of record for close().
bool store(int fd, const sockaddr_storage &addr, socklen_t len) noexcept {
  if (len == 0 || len > sizeof(entry::words)) return false;
  entry *e = table.find_in_use(fd);
  if (e == nullptr) [[unlikely]] return store_first_in_page(fd, addr, len);
  write_entry(e, addr, len);
  return true;
}

// store() for a descriptor whose page of the table is not mapped yet: maps
// it, then stores as for any other (so that writing an entry has one
// caller and stays inline in store()).
namespace {
__attribute__((noinline)) bool store_first_in_page(int fd, const sockaddr_storage &addr,
                                                   socklen_t len) noexcept {
  records::note_recording(records::address_kind);
  if (first_in_page(fd) == nullptr) return false;
  return store(fd, addr, len);
}
}  // namespace

bool lookup(int fd, sockaddr_storage *addr, socklen_t *len) noexcept {
  const entry *e = table.find(fd);
  if (e == nullptr) return false;
  // Most descriptors never had a record: answer without the retry loop.
  if (plainly_empty(e)) return false;
  detail::word words[detail::word_count];
  const uint32_t length = read_entry(e, words);
  if (length == 0) return false;
  std::memset(addr, 0, sizeof *addr);
  std::memcpy(addr, words, length);
  *len = length;
  return true;
}

void forget_range(unsigned first, unsigned last) noexcept {
  table.for_range(first, last, [](int, entry &e) {
    detail::erase(&e);
  });
}

bool maybe_any() noexcept {
  return records::anything();
}

int next(int after, sockaddr_storage *addr, socklen_t *len) noexcept {
  using table_type = descriptor_table<entry>;
  constexpr size_t end = table_type::page_entries * table_type::page_count;
  // Only entries that may hold a record are looked at (the table skips
  // whatever was never wanted).
  for (size_t index = table.next_in_use(after < 0 ? ~size_t{0} : static_cast<size_t>(after));
       index < end; index = table.next_in_use(index)) {
    const int fd = static_cast<int>(index);
    const entry *e = table.find(fd);
    if (!plainly_empty(e) && lookup(fd, addr, len)) return fd;
  }
  return -1;
}

void copy(int from, int to) noexcept {
  sockaddr_storage addr;
  socklen_t len = 0;
  if (lookup(from, &addr, &len))
    store(to, addr, len);
  else
    forget(to);
}

}  // namespace proxyproto::peer_addresses
