// The per-descriptor record table.
//
// Shape: a two-level array indexed by descriptor number. The first level is
// a static array of page pointers (in .bss: no page of it is touched until
// used); each page holds `page_entries` records and is mmap()ed the first
// time a record lands in it. 2^15 pages of 2^15 entries cover 2^30
// descriptors, above the kernel's largest fs.nr_open, so there is no
// descriptor limit like the 1024 of a fixed array. Pages are never freed:
// their number is bounded by the highest descriptor the process used, so
// memory stays bounded however many connections come and go.
//
// Concurrency: each entry is a sequence lock. A writer moves the sequence
// from even to odd with a compare-and-swap, writes, and makes it even again;
// readers copy the entry and retry if the sequence was odd or changed.
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
#include <sys/mman.h>

#include <atomic>
#include <cstdint>
#include <cstring>

#include "records/any_record.h"

namespace proxyproto::peer_addresses {

namespace {

constexpr unsigned page_bits = 15;
constexpr size_t page_entries = size_t{1} << page_bits;
constexpr size_t page_count = size_t{1} << 15;

struct entry {
  std::atomic<uint32_t> sequence;  // odd while being written
  std::atomic<uint32_t> length;    // sockaddr length; 0 = no record
  std::atomic<uint64_t> words[4];  // the sockaddr (at most 28 bytes)
};
static_assert(sizeof(sockaddr_in6) <= sizeof(entry::words));

constexpr size_t page_bytes = page_entries * sizeof(entry);

constinit std::atomic<entry *> pages[page_count] = {};
constinit pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

void repair_after_fork() noexcept {
  for (auto &slot : pages) {
    entry *page = slot.load(std::memory_order_relaxed);
    if (page == nullptr) continue;
    for (size_t i = 0; i < page_entries; ++i) {
      const uint32_t seq = page[i].sequence.load(std::memory_order_relaxed);
      if (seq & 1u) {
        page[i].length.store(0, std::memory_order_relaxed);
        page[i].sequence.store(seq + 1, std::memory_order_relaxed);
      }
    }
  }
}

void register_atfork() noexcept {
  pthread_atfork(nullptr, nullptr, repair_after_fork);
}

// Maps the page at page_index, or finds the one another thread mapped.
entry *map_page(size_t page_index) noexcept {
  pthread_once(&atfork_once, register_atfork);
  void *mem = mmap(nullptr, page_bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return nullptr;
  // Anonymous memory is zero: every entry starts even and empty.
  entry *fresh = static_cast<entry *>(mem);
  entry *page = nullptr;
  if (pages[page_index].compare_exchange_strong(page, fresh,
                                                std::memory_order_acq_rel,
                                                std::memory_order_acquire))
    return fresh;
  munmap(mem, page_bytes);  // another thread won; `page` holds its page
  return page;
}

// The entry for fd, or null. With `create`, maps its page if needed. Inline:
// every accept and close asks, and the page exists but for the first time.
inline entry *find(int fd, bool create) noexcept {
  if (fd < 0) return nullptr;
  const size_t index = static_cast<size_t>(fd);
  const size_t page_index = index >> page_bits;
  if (page_index >= page_count) return nullptr;
  entry *page = pages[page_index].load(std::memory_order_acquire);
  if (page == nullptr) [[unlikely]] {
    if (!create) return nullptr;
    page = map_page(page_index);
    if (page == nullptr) return nullptr;
  }
  return &page[index & (page_entries - 1)];
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

void write_entry(entry *e, const uint64_t (&words)[4], uint32_t length) noexcept {
  begin_write(e);
  for (size_t i = 0; i < 4; ++i)
    e->words[i].store(words[i], std::memory_order_relaxed);
  e->length.store(length, std::memory_order_relaxed);
  end_write(e);
}

// Copies an entry consistently; returns its length (0: no record).
uint32_t read_entry(const entry *e, uint64_t (&words)[4]) noexcept {
  for (;;) {
    const uint32_t before = e->sequence.load(std::memory_order_acquire);
    if (before & 1u) continue;
    const uint32_t length = e->length.load(std::memory_order_relaxed);
    for (size_t i = 0; i < 4; ++i)
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

}  // namespace

bool store(int fd, const sockaddr_storage &addr, socklen_t len) noexcept {
  if (len == 0 || len > sizeof(entry::words)) return false;
  records::note_recording();
  entry *e = find(fd, true);
  if (e == nullptr) return false;
  // All four words, whatever len says (a fixed-size copy is four moves; a
  // sockaddr_storage always has them): lookup() hands out only `len` bytes.
  uint64_t words[4];
  std::memcpy(words, &addr, sizeof words);
  write_entry(e, words, len);
  return true;
}

bool lookup(int fd, sockaddr_storage *addr, socklen_t *len) noexcept {
  const entry *e = find(fd, false);
  if (e == nullptr) return false;
  // Most descriptors never had a record: answer without the retry loop.
  if (plainly_empty(e)) return false;
  uint64_t words[4];
  const uint32_t length = read_entry(e, words);
  if (length == 0) return false;
  std::memset(addr, 0, sizeof *addr);
  std::memcpy(addr, words, length);
  *len = length;
  return true;
}

void forget(int fd) noexcept {
  entry *e = find(fd, false);
  if (e == nullptr) return;
  if (plainly_empty(e)) return;  // keep close() free of atomic writes
  const uint64_t zeros[4] = {};
  write_entry(e, zeros, 0);
}

void forget_range(unsigned first, unsigned last) noexcept {
  // Walk only pages that exist: close_range(3, ~0U) is the common call.
  for (size_t page_index = first >> page_bits; page_index < page_count;
       ++page_index) {
    const size_t page_first = page_index << page_bits;
    if (page_first > last) break;
    entry *page = pages[page_index].load(std::memory_order_acquire);
    if (page == nullptr) continue;
    for (size_t i = 0; i < page_entries; ++i) {
      const size_t fd = page_first + i;
      if (fd < first || fd > last) continue;
      if (plainly_empty(&page[i])) continue;
      const uint64_t zeros[4] = {};
      write_entry(&page[i], zeros, 0);
    }
  }
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
