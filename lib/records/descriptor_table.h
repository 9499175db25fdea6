// One table indexed by descriptor number, shared by every per-descriptor
// record (peer_addresses, kept_headers, udp_marks, the readiness table's
// listener marks).
//
// Shape: a two-level array. The first level is a static array of page
// pointers (in .bss: no page of it is touched until used); each page holds
// `page_entries` entries and is mmap()ed, zero-filled, the first time an
// entry in it is wanted. The first `static_entries` entries (descriptors 0
// to 4095: every descriptor of most processes) are static too, in .bss:
// found without a pointer to load, and walked only once one was wanted.
// 2^15 pages of 2^15 entries cover 2^30 descriptors,
// above the kernel's largest fs.nr_open, so there is no descriptor limit
// like the 1024 of a fixed array. Pages are never freed: their number is
// bounded by the highest descriptor the process used, so memory stays
// bounded however many connections come and go.
//
// An Entry must be valid when all its bytes are zero (the state of a fresh
// page) and is otherwise the record's own business: the table only finds
// it. Finding takes no lock; a page mapped by two threads at once is kept
// once and the loser's copy unmapped.
#pragma once

#include <sys/mman.h>

#include <atomic>
#include <cstddef>

namespace proxyproto {

template <typename Entry>
class descriptor_table {
 public:
  static constexpr unsigned page_bits = 15;
  static constexpr size_t page_entries = size_t{1} << page_bits;
  static constexpr size_t page_count = size_t{1} << 15;
  static constexpr size_t static_entries = 4096;
  static_assert(static_entries <= page_entries);
  // find() relies on it: the smallest negative fd, as unsigned, is 2^31.
  static_assert(((size_t{1} << 31) >> page_bits) >= page_count);

  constexpr descriptor_table() noexcept = default;
  descriptor_table(const descriptor_table &) = delete;
  descriptor_table &operator=(const descriptor_table &) = delete;

  // fd's entry, or null when fd is negative, beyond the table, or its page
  // was never mapped (so it holds no record). A static entry is found even
  // before any was wanted: zeroed, it holds no record either.
  Entry *find(int fd) const noexcept {
    // A negative fd, as unsigned, is beyond the table too: one comparison.
    const size_t index = static_cast<unsigned>(fd);
    if (index < static_entries) [[likely]] return &static_[index];
    if ((index >> page_bits) >= page_count) return nullptr;
    Entry *page = pages_[index >> page_bits].load(std::memory_order_acquire);
    return page == nullptr ? nullptr : &page[index & (page_entries - 1)];
  }

  // fd's entry when its page (or the static entries) is in use, else null:
  // for a writer whose first entry in a page has more to set up
  // (find_or_map, then its own).
  Entry *find_in_use(int fd) const noexcept {
    const size_t index = static_cast<unsigned>(fd);
    if (index < static_entries) [[likely]]
      return static_used_.load(std::memory_order_relaxed) ? &static_[index] : nullptr;
    return find(fd);
  }

  // fd's entry, mapping its page first if needed; null when fd is out of
  // range or the page cannot be mapped.
  Entry *find_or_map(int fd) noexcept {
    const size_t index = static_cast<unsigned>(fd);  // negative: beyond it
    if (index < static_entries) [[likely]] {
      if (!static_used_.load(std::memory_order_relaxed)) [[unlikely]]
        static_used_.store(true, std::memory_order_relaxed);
      return &static_[index];
    }
    const size_t page_index = index >> page_bits;
    if (page_index >= page_count) return nullptr;
    Entry *page = pages_[page_index].load(std::memory_order_acquire);
    if (page == nullptr) {
      void *mem = mmap(nullptr, page_bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (mem == MAP_FAILED) return nullptr;
      Entry *fresh = static_cast<Entry *>(mem);
      if (pages_[page_index].compare_exchange_strong(
              page, fresh, std::memory_order_acq_rel, std::memory_order_acquire))
        page = fresh;
      else
        munmap(mem, page_bytes);  // another thread won; `page` holds its page
    }
    return &page[index & (page_entries - 1)];
  }

  // The first descriptor after `fd` whose entry may hold a record: the
  // next one, or the start of the next part in use (page_entries *
  // page_count when there is none).
  size_t next_in_use(size_t fd) const noexcept {
    size_t index = fd + 1;
    if (index < static_entries) {
      if (static_used_.load(std::memory_order_relaxed)) return index;
      index = static_entries;
    }
    while ((index >> page_bits) < page_count &&
           pages_[index >> page_bits].load(std::memory_order_acquire) == nullptr)
      index = ((index >> page_bits) + 1) << page_bits;
    return index;
  }

  // Calls visit(fd, entry) for every descriptor in [first, last] whose
  // entry is in use (static or in a mapped page). Only those are walked, so
  // close_range(3, ~0U, 0) in a process that recorded nothing costs a scan
  // of the page pointers.
  template <typename Visit>
  void for_range(unsigned first, unsigned last, Visit visit) noexcept {
    if (static_used_.load(std::memory_order_relaxed))
      for (size_t fd = first; fd < static_entries && fd <= last; ++fd)
        visit(static_cast<int>(fd), static_[fd]);
    for (size_t p = first >> page_bits; p < page_count && p <= (last >> page_bits);
         ++p) {
      Entry *page = pages_[p].load(std::memory_order_acquire);
      if (page == nullptr) continue;
      const size_t begin = p << page_bits;
      for (size_t i = 0; i < page_entries; ++i) {
        const size_t fd = begin + i;
        if (fd < first || fd > last || fd < static_entries) continue;
        visit(static_cast<int>(fd), page[i]);
      }
    }
  }

  // Calls visit(entry) for every entry in use (fork repair).
  template <typename Visit>
  void for_each(Visit visit) noexcept {
    for_range(0, ~0u, [&](int, Entry &e) { visit(e); });
  }

 private:
  static constexpr size_t page_bytes = page_entries * sizeof(Entry);
  mutable Entry static_[static_entries] = {};
  // Set (and never cleared) when a static entry is first wanted: a relaxed
  // flag, since the entries are valid zeroed either way.
  std::atomic<bool> static_used_{false};
  // Page 0, once mapped, holds the descriptors from static_entries on.
  std::atomic<Entry *> pages_[page_count] = {};
};

}  // namespace proxyproto
