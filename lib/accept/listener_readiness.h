// Per-process readiness of a listener's parked connections.
//
// A connection parked by this process (its header late or split) is
// watched by a descriptor of this process only: one epoll instance per
// listener (its "readiness descriptor"), holding the parked connections
// (readable only on progress, thanks to SO_RCVLOWAT, or hang-up) and a
// timerfd armed at the nearest deadline. It is readable exactly when
// accept() on the listener, in this process, has a parked connection to
// hand out or a deadline to settle.
//
// The application never sees it. It is waited on together with the
// listener and reported as the listener's own readiness:
//  - epoll: when the application registers the listener in an epoll set,
//    the readiness descriptor joins that set with the listener's event data
//    (so epoll_wait needs no translation: the event looks like the
//    listener's), and follows its EPOLL_CTL_MOD/DEL;
//  - poll/ppoll, select/pselect: added to the set for the call and mapped
//    back onto the listener (lib/accept/wait_sets.cc);
//  - a blocking accept() polls the listener and it together.
// Nothing depends on which process the kernel wakes for a new connection:
// no other process can see or take this one's parked connections.
//
// Listeners are known by listen() and accept() in this process or its
// ancestors (a mark per descriptor), and by EPOLLEXCLUSIVE registrations
// (checked with SO_ACCEPTCONN), so that epoll_ctl() costs nothing for any
// other descriptor.
#pragma once

#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "accept/readiness_table.h"

namespace proxyproto::readiness {

// Marks `fd` as a listening socket, or forgets the mark.
void note_listener(int fd) noexcept;
bool is_listener(int fd) noexcept;

// Whether the application's epoll_ctl(op, fd, event) may concern a
// listener: every marked listener is in the `involved` bitmap
// (readiness_table.h), and one this process never marked (inherited across
// exec) is followed only when added with EPOLLEXCLUSIVE. For any other
// descriptor, one load.
inline bool may_follow_epoll_ctl(int op, int fd, const epoll_event *event) noexcept {
  return detail::is_involved(fd) ||
         (op == EPOLL_CTL_ADD && event != nullptr && (event->events & EPOLLEXCLUSIVE));
}
// The application's epoll_ctl() when it may concern a listener: the call,
// then, when it succeeded, the readiness descriptor follows the listener.
int followed_epoll_ctl(int epfd, int op, int fd, epoll_event *event) noexcept;

// True when this process has any readiness descriptor (one relaxed load):
// the wait shims do nothing otherwise.
bool any() noexcept;
// The listener's readiness descriptor, or -1; takes no lock.
int descriptor_of(int listener) noexcept;
// The same, created (and joined to the listener's epoll sets) if needed;
// -1 when it cannot be (no descriptor left).
int ensure(int listener) noexcept;

// The key of the timer among the watched keys.
inline constexpr uint64_t timer_key = ~uint64_t{0};
// Watches / stops watching a parked connection, reported with `key`. With
// `hangup_only`, only its hang-up wakes (a socket whose poll ignores
// SO_RCVLOWAT, looked at on a timer instead). The watch is one-shot: once
// reported it stays quiet until rewatch() arms it again.
bool watch(int listener, int fd, uint64_t key, bool hangup_only) noexcept;
bool rewatch(int listener, int fd, uint64_t key, bool hangup_only) noexcept;
void unwatch(int listener, int fd) noexcept;
// Makes sure the listener's timer fires at `at_ms` (CLOCK_MONOTONIC) or
// earlier; nothing with at_ms < 0. A timer armed earlier is left as it is
// (its firing finds nothing due and the caller arms it again), so that
// settling the nearest connection costs no call.
void arm(int listener, int64_t at_ms) noexcept;
// Which to ask first in accept() on a listener with parked connections:
// the kernel's queue, or the readiness descriptor. Only a listener seen
// non-blocking (note_nonblocking()) asks the kernel first, as then a call
// that finds the queue empty returns at once and looks at the parked
// connections before it reports EAGAIN; and even so the parked ones are
// looked at first every kernel_first_run calls, so that a queue that never
// empties does not starve them. Those calls read the listener's flags
// again (note_nonblocking()), so that a listener made blocking afterwards
// is noticed within kernel_first_run calls.
// Inline: its listener's mark, one load and a store. A look at the parked
// connections (next_ready(), look_once()) starts a new run. Racy between
// threads, and harmless: a look a call early or late, or a listener seen
// blocking by one thread counted as non-blocking again by another (noticed,
// as one made blocking afterwards is, within kernel_first_run calls).
inline constexpr uint8_t kernel_first_run = 8;
inline constexpr uint8_t seen_nonblocking = 0x80;
inline constexpr uint8_t kernel_first_fresh = seen_nonblocking | (kernel_first_run - 1);
inline bool kernel_first(int listener) noexcept {
  detail::listener_mark *m = detail::marks.find(listener);
  if (m == nullptr) return false;
  const uint8_t state = m->kernel_first_state.load(std::memory_order_relaxed);
  // Not seen non-blocking (then nothing is left either), or the run is over.
  if ((state & ~seen_nonblocking) == 0) return false;
  m->kernel_first_state.store(static_cast<uint8_t>(state - 1), std::memory_order_relaxed);
  return true;
}
void note_nonblocking(int listener, bool nonblocking) noexcept;
// One ready key without waiting: 1 (*key set; the timer's is read and so
// cleared), 0 when none, negative on error. It counts as a look at the parked
// connections for kernel_first().
int next_ready(int listener, uint64_t *key) noexcept;
void timer_fired(int listener) noexcept;  // next_ready() read the timer's key
// One event of `rfd` without waiting: 1 (*ev set), 0, or negative on
// failure (errno is not to be relied on).
// The system call itself, not a libc wrapper that another preload may
// interpose, as for all of the library's own descriptors. On x86-64 it is
// made here: this is the one system call a proxied connection costs over
// none when connections are parked (in the accept() that finds the
// kernel's queue empty), and libc's syscall() added a dozen instructions
// to it (its PLT jump and the shuffling of its arguments), a fifth of what
// the parked connections may cost per connection (doc/benchmark.md).
// Elsewhere: syscall(), with epoll_wait's four arguments where the kernel
// has it, else epoll_pwait without a mask.
inline long look_syscall(int rfd, epoll_event *ev) noexcept {
#if defined(__x86_64__) && defined(SYS_epoll_wait)
  long rc;
  register long timeout __asm__("r10") = 0;
  __asm__ volatile("syscall"
                   : "=a"(rc)
                   : "0"(long{SYS_epoll_wait}), "D"(long{rfd}), "S"(ev), "d"(1L),
                     "r"(timeout)
                   : "rcx", "r11", "memory");
  return rc;  // -errno on failure
#elif defined(SYS_epoll_wait)
  return syscall(SYS_epoll_wait, rfd, ev, 1, 0);
#else
  return syscall(SYS_epoll_pwait, rfd, ev, 1, 0, nullptr, 8);
#endif
}
// next_ready() inline, for a listener kernel_first() said yes to (it has
// a mark): the look in the accept() that found the kernel's queue empty.
// The event is left in *ev: when it is the timer's (timer_key), the caller
// calls timer_fired(). 1, 0 (errno left as it was) or negative on error.
inline int look_once(int listener, epoll_event *ev) noexcept {
  detail::listener_mark *m = detail::marks.find(listener);
  if (m == nullptr) [[unlikely]] return 0;  // kernel_first() found it: never
  const int rfd = m->ready_fd_plus_one.load(std::memory_order_acquire) - 1;
  if (rfd < 0) return 0;
  // Asked after kernel_first() said yes: seen non-blocking.
  m->kernel_first_state.store(kernel_first_fresh, std::memory_order_relaxed);
  return static_cast<int>(look_syscall(rfd, ev));
}

// For a blocking accept() with parked connections: waits until the
// listener has a connection (1) or the readiness descriptor is readable
// (0); -2 with errno on failure (EINTR), -1 when it cannot wait this way.
// The listener is watched with EPOLLEXCLUSIVE, as siblings blocked in
// accept() are: the kernel wakes one of them for a new connection, so this
// one, once woken, finds it there rather than racing them to it and then
// blocking in accept() while its parked connections become ready.
int wait_for_blocking(int listener) noexcept;

// `fd` was closed or replaced: as a listener, its readiness descriptor is
// closed and its registrations forgotten; as an epoll set, registrations in
// it are forgotten; as one of our own descriptors (closed behind our back),
// the listener loses it.
// Set once this process (or its parent) marked a listener: until then
// close() has nothing to look up here.
extern std::atomic<bool> listeners_seen;
void forget_involved(int fd) noexcept;
inline void forget(int fd) noexcept {
  if (listeners_seen.load(std::memory_order_relaxed)) forget_involved(fd);
}
// Whether forget(fd) has anything to do: a look at the bitmap, inline
// (every descriptor the readiness table knows is in it).
inline bool may_know(int fd) noexcept {
  return listeners_seen.load(std::memory_order_relaxed) && detail::is_involved(fd);
}
void forget_range(unsigned first, unsigned last) noexcept;
// A connection parked by the pending pool (pending_pool.h), or no longer:
// close() must look it up (may_know(), one bitmap for both), and the pool
// is told by close() (fd_lifetime.cc). A parked descriptor is the
// library's own while parked, never a listener nor an epoll set.
inline void note_parked(int fd, bool parked) noexcept {
  if (parked) detail::involve(fd); else detail::uninvolve(fd);
}

// The child of fork() shares its parent's epoll instances: it closes its
// copies of the readiness descriptors and makes its own at its first park,
// joining the epoll sets it knows the listener is in. An epoll set created
// before fork() is shared with the parent, which is then woken by the
// child's readiness too, finds nothing of its own and gets EAGAIN.
void after_fork_child() noexcept;

}  // namespace proxyproto::readiness
