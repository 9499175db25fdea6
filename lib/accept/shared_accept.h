// accept4() once, without blocking, on a blocking listening socket shared
// with other processes (pre-forked workers blocked in accept()).
//
// A process with parked connections must not block in accept(): its parked
// connections could become ready meanwhile, and only it can hand them out.
// When it is woken for a new connection, a sibling may take that connection
// first, so it takes it with the listener made non-blocking for that one
// call. O_NONBLOCK belongs to the open file description, shared by every
// process that inherited the listener: a sibling entering accept() during
// that call may get EAGAIN. Processes that share the listener through
// fork() also share one page of memory (mapped MAP_SHARED when the library
// first sees a listener, before the workers are forked) in which a call in
// progress is counted; a sibling's accept() that gets EAGAIN on a blocking
// listener while one was in progress, or since it started, takes it for
// what it is and retries. Calls on one socket (known by its inode, as
// descriptor numbers repeat across an SO_REUSEPORT group) are counted so
// that the last one restores the flags the first one found. Processes that
// do not share the page (a listener inherited across exec) are not
// protected: see LIMITATIONS.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <type_traits>

namespace proxyproto::shared_accept {

namespace detail {
// The head of the shared page: what every accept() reads, inline. The
// calls of accept_once() begun so far and those in progress share one word,
// so that one load sees both: begun in the high half (compared only for a
// change, so its wrapping is harmless), in progress in the low half.
//
// The page is shared between processes, so every atomic in it must be lock
// free: a lock-based atomic (libatomic's) takes a lock of the process, not
// of the page. The word is 64 bits where those are lock-free, else 32 (16
// and 16: armv5, whose 64-bit atomics are libatomic's). Where even 32-bit
// atomics may not be lock-free, prepare() maps no page (see there).
using activity_word =
    std::conditional_t<std::atomic<uint64_t>::is_always_lock_free, uint64_t, uint32_t>;
inline constexpr unsigned half_bits = sizeof(activity_word) * 4;
inline constexpr activity_word one_begun = activity_word{1} << half_bits;
inline constexpr activity_word in_progress_mask = one_begun - 1;
struct counters {
  std::atomic<uint32_t> lock;
  std::atomic<activity_word> activity;
};
extern constinit std::atomic<counters *> page;
}  // namespace detail

void prepare() noexcept;

struct snapshot {
  detail::activity_word activity = 0;  // the shared word before the call (0: no page)
};
inline snapshot before_accept() noexcept {
  const detail::counters *p = detail::page.load(std::memory_order_acquire);
  // Every process that called listen() has the page.
  if (p == nullptr) [[unlikely]] return snapshot{};
  return snapshot{p->activity.load(std::memory_order_acquire)};
}

int accept_once(int listener, sockaddr *addr, socklen_t *addrlen, int flags) noexcept;

// Whether a call of accept_once() may have made the listener non-blocking
// during this process's accept(): one was in progress when it began, or
// the word changed since (one begun, or one still going). Asked before
// errno, as it is the cheaper of the two and nearly always false.
inline bool eagain_was_ours(const snapshot &before) noexcept {
  const detail::counters *p = detail::page.load(std::memory_order_acquire);
  if (p == nullptr) [[unlikely]] return false;
  return (before.activity & detail::in_progress_mask) != 0 ||
         p->activity.load(std::memory_order_acquire) != before.activity;
}

}  // namespace proxyproto::shared_accept
