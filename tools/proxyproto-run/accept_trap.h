// accept() and accept4() performed for the program.
//
// The supervisor takes the program's listener (pidfd_getfd), accepts on
// its copy without ever blocking, reads the header by the library's own
// rules (lib/accept: connection_scope, inspect_header, fate_of: timeout,
// must-use, version, allow, ports), and installs the connection in the
// program (SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SEND),
// writing the claimed address to addr/addrlen.
//
// Per listener (by SO_COOKIE), it keeps:
//   - ready connections, settled but not handed out yet: those whose header
//     arrived after the call that accepted them was answered, and those of
//     calls abandoned (a signal, such as Go's SIGURG) or faulted (a bad
//     addr pointer) after they were accepted: the next accept() gets them;
//   - parked connections, waiting for their header in the supervisor's
//     epoll set, each until the timeout;
//   - held calls: a blocking accept() with nothing ready waits in the
//     supervisor (the listener in its epoll set), as it would in the kernel.
// A non-blocking accept() with nothing ready gets EAGAIN at once. When a
// connection becomes ready and no call is held, the supervisor opens a
// wake-up connection to the listener, so that the program's poll or epoll
// wakes and accepts again; the supervisor recognises its own wake-ups
// when it accepts them and closes them: they never reach the program.
#pragma once

#include <cstdint>

#include "notification.h"

namespace proxyproto::run {

void trapped_accept(const trapped_call &call) noexcept;

// Epoll events of a listener some held call waits on, of a parked
// connection, of a wake-up connection.
void listener_event(int fd) noexcept;
void parked_event(int fd) noexcept;
void wakeup_event(int fd) noexcept;

// Parked connections whose time is up are settled (and AF_UNIX ones looked
// at again). Returns the milliseconds until the next deadline (-1: none).
// Costs nothing per parked connection that is not due.
int accept_timers(int64_t now) noexcept;

// Now and then: held calls that were abandoned are dropped, old wake-ups
// and idle listeners released.
void accept_housekeeping(int64_t now) noexcept;

// Counts, for the debug log and tests.
struct accept_counts {
  uint64_t handed = 0, abandoned = 0, faulted = 0, dropped = 0, wakeups = 0, held = 0;
};
const accept_counts &accept_statistics() noexcept;

}  // namespace proxyproto::run
