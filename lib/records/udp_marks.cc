// A page of the table (past its static first entries) is mapped only when
// a descriptor in it is a UDP socket created under LIBPROXYPROTO_UDP, and a
// program that never asks does not look at the table at all (in_use()).
// fork() copies it with the
// descriptors; exec() starts a new one (a UDP socket inherited across exec
// is not recognised: see README, LIMITATIONS).
#include "records/udp_marks.h"

#include "records/any_record.h"

namespace proxyproto::udp_sockets {

constinit descriptor_table<std::atomic<uint8_t>> table;

void mark(int fd, state s) noexcept {
  // close() and dup*() look at the records only once something was noted.
  records::note_recording(records::other_kinds);
  if (!in_use()) any_marked.store(true, std::memory_order_relaxed);
  if (std::atomic<uint8_t> *entry = table.find_or_map(fd))
    entry->store(s, std::memory_order_relaxed);
}

void forget_marked(int fd) noexcept {
  std::atomic<uint8_t> *entry = table.find(fd);
  if (entry != nullptr && entry->load(std::memory_order_relaxed) != none)
    entry->store(none, std::memory_order_relaxed);
}

void forget_range_marked(unsigned first, unsigned last) noexcept {
  table.for_range(first, last, [](int, std::atomic<uint8_t> &entry) {
    if (entry.load(std::memory_order_relaxed) != none)
      entry.store(none, std::memory_order_relaxed);
  });
}

void copy_marked(int from, int to) noexcept {
  const state s = of(from);
  if (s != none)
    mark(to, s);
  else
    forget(to);
}

}  // namespace proxyproto::udp_sockets
