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

namespace proxyproto::shared_accept {

namespace detail {
// The head of the shared page: what every accept() reads, inline.
struct counters {
  std::atomic<uint32_t> lock;
  std::atomic<uint64_t> begun;        // calls of accept_once() begun so far
  std::atomic<uint32_t> in_progress;  // calls of accept_once() in progress
};
// The shared page, once mapped (the rest of it in shared_accept.cc).
extern constinit std::atomic<counters *> page;
}  // namespace detail

// Maps the shared page if it is not yet (once per process tree).
void prepare() noexcept;

// What was going on before an accept4(), for eagain_was_ours().
struct snapshot {
  uint64_t begun = 0;  // calls of accept_once() begun so far
  bool busy = false;   // one was in progress
};
inline snapshot before_accept() noexcept {
  const detail::counters *p = detail::page.load(std::memory_order_acquire);
  if (p == nullptr) return snapshot{};
  return snapshot{p->begun.load(std::memory_order_acquire),
                  p->in_progress.load(std::memory_order_acquire) != 0};
}

// accept4() on `listener` without blocking; -1 with EAGAIN when there was
// nothing to take (another process took it).
int accept_once(int listener, sockaddr *addr, socklen_t *addrlen, int flags) noexcept;

// After accept4() failed with EAGAIN: true when a call of accept_once()
// in some process may have overlapped it (`before` taken just before it).
inline bool eagain_was_ours(const snapshot &before) noexcept {
  const detail::counters *p = detail::page.load(std::memory_order_acquire);
  if (p == nullptr) return false;
  // One in progress when it began, one begun since, or one still going.
  return before.busy || p->begun.load(std::memory_order_acquire) != before.begun ||
         p->in_progress.load(std::memory_order_acquire) != 0;
}

}  // namespace proxyproto::shared_accept
