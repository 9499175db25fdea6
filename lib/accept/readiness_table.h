// The table behind the listeners' readiness descriptors
// (listener_readiness.h), shared by listener_readiness.cc (the descriptors,
// their timers, forgetting) and epoll_registrations.cc (following the
// application's epoll_ctl on a listener). Internal to lib/accept.
//
// A small table of listeners (entry_capacity entries, mapped at the first
// one), each with its epoll instance, timerfd and the application's epoll
// registrations of it. The table changes under one mutex, only on slow
// paths (a listener's epoll registration, the first park, close);
// descriptor_of() reads it without a lock, after a bitmap test for
// descriptors below bitmap_fds.
#pragma once

#include <pthread.h>
#include <sys/epoll.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "records/descriptor_table.h"
#include "runtime/mutex_guard.h"

namespace proxyproto::readiness::detail {

inline constexpr size_t entry_capacity = 64;
inline constexpr size_t registration_capacity = 4;  // epoll sets per listener
inline constexpr unsigned bitmap_fds = 65536;

struct registration {
  int epfd = -1;
  uint32_t events = 0;
  epoll_data_t data{};
  bool joined = false;  // the readiness descriptor is in epfd
};

struct entry {
  std::atomic<int> listener{-1};
  std::atomic<int> ready_fd{-1};  // epoll instance
  int timer_fd = -1;
  int wait_fd = -1;  // for a blocking accept(): the listener and ready_fd
  int64_t armed_ms = -1;
  registration regs[registration_capacity];
};

// Found by descriptor number alone (descriptor_table), so that accept()
// with connections parked decides which to ask first (kernel_first()) with
// a few loads inline, without a look-up of the entry.
struct listener_mark {
  std::atomic<uint8_t> is_listener;
  std::atomic<uint8_t> entry;  // its entry's index + 1, or 0: found in O(1)
  // For kernel_first(): seen_nonblocking once the listener was seen
  // non-blocking while it has an entry (cleared once it is seen blocking or
  // loses its entry), plus the accept() calls left in the run that ask the
  // kernel first.
  std::atomic<uint8_t> kernel_first_state;
  // Its entry's readiness descriptor + 1, or 0, set and cleared with the
  // has_ready_fd bit (publish_ready_fd()): the looks at the parked
  // connections (next_ready(), look_once()) read it here.
  std::atomic<int> ready_fd_plus_one;
};
static_assert(entry_capacity < 256);

extern pthread_mutex_t table_mutex;
extern std::atomic<int> live;  // entries with a readiness descriptor
extern std::atomic<int> used;  // entries in use
// Listeners with a readiness descriptor, for descriptor_of().
extern std::atomic<uint64_t> has_ready_fd[bitmap_fds / 64];
// Descriptors that close() must look up here: every marked listener (with
// an entry or not), epoll sets holding one, our own, and the connections
// parked by the pending pool (note_parked()). A bit is set when
// a number becomes one of those and cleared when that number is closed, so
// that close() or epoll_ctl() of any other descriptor costs one load.
extern std::atomic<uint64_t> involved[bitmap_fds / 64];
extern descriptor_table<listener_mark> marks;

// The entries as they are (none before the first listener's), or made.
struct entry_range {
  entry *first;
  entry *begin() const noexcept { return first; }
  entry *end() const noexcept { return first == nullptr ? nullptr : first + entry_capacity; }
};
entry_range entries_now() noexcept;
entry_range entries_made() noexcept;  // under table_mutex

inline bool is_involved(int fd) noexcept {
  if (static_cast<unsigned>(fd) >= bitmap_fds) return true;
  return (involved[static_cast<unsigned>(fd) / 64].load(std::memory_order_acquire) >>
          (static_cast<unsigned>(fd) % 64)) & 1;
}
void involve(int fd) noexcept;
void uninvolve(int fd) noexcept;
// The listener's readiness descriptor is rfd now (-1: it has none): its
// has_ready_fd bit and its mark.
void publish_ready_fd(int listener, int rfd) noexcept;

// The listener's entry, or null, found by its mark without a lock (the
// entry may be changing: its fields are atomics or read under the lock).
entry *find_entry(int listener) noexcept;
// Under table_mutex.
entry *find_locked(int listener) noexcept;
entry *find_or_add_locked(int listener) noexcept;
// Puts the readiness descriptor in r's epoll set with r's event data (or
// takes it out when r no longer asks for EPOLLIN).
void join_locked(entry &e, registration &r) noexcept;
void close_descriptors_locked(entry &e, bool leave_sets) noexcept;
void remove_entry_locked(entry &e) noexcept;

// Whether fd is a listening socket (SO_ACCEPTCONN).
bool accepts_connections(int fd) noexcept;

// The descriptors [first, last] were closed: entries of listeners among
// them go, entries whose own descriptors are among them lose those, and
// registrations in epoll sets among them are forgotten.
void forget_entries_in(unsigned first, unsigned last) noexcept;

}  // namespace proxyproto::readiness::detail
