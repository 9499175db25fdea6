// The libc functions that the libraries interpose, reached past the
// interposer: the next definition in link order (dlsym RTLD_NEXT), bound on
// first use. When a symbol cannot be found (a static or unusual process),
// the raw system call stands in, so an interposer never fails for lack of it.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/stat.h>

struct itimerspec;

#include "runtime/next_symbol.h"

namespace proxyproto::real {

// accept4, close and epoll_ctl are on the hot path of every server (close
// of every program): inline, through next_call slots, one indirect jump.
namespace detail {
using accept4_fn = int(int, sockaddr *, socklen_t *, int);
using close_fn = int(int);
using epoll_ctl_fn = int(int, int, int, epoll_event *);
extern next_call<accept4_fn> next_accept4;
extern next_call<close_fn> next_close;
extern next_call<epoll_ctl_fn> next_epoll_ctl;
}  // namespace detail

inline int accept4(int fd, sockaddr *addr, socklen_t *addrlen, int flags) noexcept {
  return detail::next_accept4.get()(fd, addr, addrlen, flags);
}
inline int close(int fd) noexcept { return detail::next_close.get()(fd); }
inline int epoll_ctl(int epfd, int op, int fd, epoll_event *event) noexcept {
  return detail::next_epoll_ctl.get()(epfd, op, fd, event);
}

int getpeername(int fd, sockaddr *addr, socklen_t *addrlen) noexcept;
int dup(int fd) noexcept;
int dup2(int oldfd, int newfd) noexcept;
int dup3(int oldfd, int newfd, int flags) noexcept;
int connect(int fd, const sockaddr *addr, socklen_t addrlen) noexcept;
int close_range(unsigned first, unsigned last, int flags) noexcept;
void closefrom(int lowest) noexcept;
int getsockname(int fd, sockaddr *addr, socklen_t *addrlen) noexcept;

// The wait calls, for the shims that add the library's readiness descriptors
// to the application's sets (lib/interpose/wait.cc, epoll.cc), and listen().
int listen(int fd, int backlog) noexcept;
int poll(pollfd *fds, nfds_t nfds, int timeout) noexcept;
int ppoll(pollfd *fds, nfds_t nfds, const timespec *timeout,
          const sigset_t *sigmask) noexcept;
int select(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
           timeval *timeout) noexcept;
int pselect(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
            const timespec *timeout, const sigset_t *sigmask) noexcept;
// libc functions that are not interposed, looked up by name on first use
// (dlsym RTLD_DEFAULT, the same definition an import would bind to) rather
// than imported: each import of a newer symbol version (fstat is
// GLIBC_2.33, getauxval GLIBC_2.16) costs every process a version check
// when the library is loaded, and these are needed only once a process
// accepts. Unbound, fstat fails with ENOSYS and getauxval answers
// `missing` with errno ENOENT.
int fstat(int fd, struct stat *st) noexcept;

// timerfd_settime(2) as a system call (the library's timers are made with
// raw system calls): the *_time64 one where time_t is 64 bits on a target
// whose kernel interface had 32 (armhf, i386 built with _TIME_BITS=64), so
// that the kernel reads the itimerspec in the layout it was written in.
int timerfd_settime(int fd, int flags, const itimerspec *spec) noexcept;
unsigned long getauxval(unsigned long type, unsigned long missing) noexcept;

}  // namespace proxyproto::real
