#include "runtime/real_calls.h"

#include <dlfcn.h>
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/next_symbol.h"
#include "runtime/time_layouts.h"

namespace proxyproto::real {

namespace {

using getpeername_fn = int(int, sockaddr *, socklen_t *);
using dup_fn = int(int);
using dup2_fn = int(int, int);
using dup3_fn = int(int, int, int);
using connect_fn = int(int, const sockaddr *, socklen_t);
using close_range_fn = int(unsigned, unsigned, int);

constinit next_symbol<getpeername_fn> next_getpeername{"getpeername"};
constinit next_symbol<dup_fn> next_dup{"dup"};
constinit next_symbol<dup2_fn> next_dup2{"dup2"};
constinit next_symbol<dup3_fn> next_dup3{"dup3"};
constinit next_symbol<connect_fn> next_connect{"connect"};
constinit next_symbol<close_range_fn> next_close_range{"close_range"};

int as_int(long rc) noexcept { return static_cast<int>(rc); }

// The raw system calls behind the next_call slots, for a process without
// the C library's symbol.
int raw_accept4(int fd, sockaddr *addr, socklen_t *addrlen, int flags) noexcept {
  return as_int(syscall(SYS_accept4, fd, addr, addrlen, flags));
}
int raw_close(int fd) noexcept { return as_int(syscall(SYS_close, fd)); }
int raw_epoll_ctl(int epfd, int op, int fd, epoll_event *event) noexcept {
  return as_int(syscall(SYS_epoll_ctl, epfd, op, fd, event));
}

}  // namespace

namespace detail {
constinit next_call<accept4_fn> next_accept4{
    "accept4", &next_call<accept4_fn>::first_call_of<next_accept4, raw_accept4>};
constinit next_call<close_fn> next_close{
    "close", &next_call<close_fn>::first_call_of<next_close, raw_close>};
constinit next_call<epoll_ctl_fn> next_epoll_ctl{
    "epoll_ctl", &next_call<epoll_ctl_fn>::first_call_of<next_epoll_ctl, raw_epoll_ctl>};
}  // namespace detail

int getpeername(int fd, sockaddr *addr, socklen_t *addrlen) noexcept {
  if (auto *fn = next_getpeername.get()) return fn(fd, addr, addrlen);
  return as_int(syscall(SYS_getpeername, fd, addr, addrlen));
}

int dup(int fd) noexcept {
  if (auto *fn = next_dup.get()) return fn(fd);
  return as_int(syscall(SYS_dup, fd));
}

int dup2(int oldfd, int newfd) noexcept {
  if (auto *fn = next_dup2.get()) return fn(oldfd, newfd);
  // dup2 has no system call on every architecture; dup3 differs only when
  // oldfd == newfd, which the caller handles.
  return as_int(syscall(SYS_dup3, oldfd, newfd, 0));
}

int dup3(int oldfd, int newfd, int flags) noexcept {
  if (auto *fn = next_dup3.get()) return fn(oldfd, newfd, flags);
  return as_int(syscall(SYS_dup3, oldfd, newfd, flags));
}

int connect(int fd, const sockaddr *addr, socklen_t addrlen) noexcept {
  if (auto *fn = next_connect.get()) return fn(fd, addr, addrlen);
  return as_int(syscall(SYS_connect, fd, addr, addrlen));
}

// getsockname: the kernel's answer, for LIBPROXYPROTO_GETSOCKNAME's interposer.
namespace {
using getsockname_fn = int(int, sockaddr *, socklen_t *);
constinit next_symbol<getsockname_fn> next_getsockname{"getsockname"};
}  // namespace

int getsockname(int fd, sockaddr *addr, socklen_t *addrlen) noexcept {
  if (auto *fn = next_getsockname.get()) return fn(fd, addr, addrlen);
  return as_int(syscall(SYS_getsockname, fd, addr, addrlen));
}

}  // namespace proxyproto::real

namespace proxyproto::real {

int close_range(unsigned first, unsigned last, int flags) noexcept {
  if (auto *fn = next_close_range.get()) return fn(first, last, flags);
  return as_int(syscall(SYS_close_range, first, last, flags));
}

}  // namespace proxyproto::real

// The wait calls and listen(). Without a symbol, the system call stands in
// (poll and select through ppoll and pselect6, which every architecture has).
namespace proxyproto::real {

namespace {
using listen_fn = int(int, int);
using poll_fn = int(pollfd *, nfds_t, int);
using ppoll_fn = int(pollfd *, nfds_t, const timespec *, const sigset_t *);
using select_fn = int(int, fd_set *, fd_set *, fd_set *, timeval *);
using pselect_fn = int(int, fd_set *, fd_set *, fd_set *, const timespec *,
                       const sigset_t *);
constinit next_symbol<listen_fn> next_listen{"listen"};
constinit next_symbol<poll_fn> next_poll{"poll"};
// The functions that take this library's timespec and timeval (see
// runtime/time_layouts.h).
constinit next_symbol<ppoll_fn> next_ppoll{PP_NATIVE_TIME_NAME("ppoll", "__ppoll64")};
constinit next_symbol<select_fn> next_select{PP_NATIVE_TIME_NAME("select", "__select64")};
constinit next_symbol<pselect_fn> next_pselect{PP_NATIVE_TIME_NAME("pselect", "__pselect64")};

// The kernel's sigset_t, not glibc's (128 bytes): 8 bytes, 16 on MIPS.
constexpr size_t kernel_sigset_size = (_NSIG - 1) / 8;

// The system calls that take this library's timespec: on a target whose
// time_t was 32 bits, the *_time64 ones when it is built with 64 bits.
#if defined(__USE_TIME_BITS64) && defined(SYS_ppoll_time64)
constexpr long sys_ppoll = SYS_ppoll_time64;
constexpr long sys_pselect6 = SYS_pselect6_time64;
#else
constexpr long sys_ppoll = SYS_ppoll;
constexpr long sys_pselect6 = SYS_pselect6;
#endif
}  // namespace

int listen(int fd, int backlog) noexcept {
  if (auto *fn = next_listen.get()) return fn(fd, backlog);
  return as_int(syscall(SYS_listen, fd, backlog));
}

int poll(pollfd *fds, nfds_t nfds, int timeout) noexcept {
  if (auto *fn = next_poll.get()) return fn(fds, nfds, timeout);
  timespec ts{timeout / 1000, (timeout % 1000) * 1000000L};
  return as_int(syscall(sys_ppoll, fds, nfds, timeout < 0 ? nullptr : &ts,
                        nullptr, kernel_sigset_size));
}

int ppoll(pollfd *fds, nfds_t nfds, const timespec *timeout,
          const sigset_t *sigmask) noexcept {
  if (auto *fn = next_ppoll.get()) return fn(fds, nfds, timeout, sigmask);
  timespec copy{};
  if (timeout != nullptr) copy = *timeout;  // the kernel writes it back
  return as_int(syscall(sys_ppoll, fds, nfds, timeout ? &copy : nullptr,
                        sigmask, kernel_sigset_size));
}

int select(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
           timeval *timeout) noexcept {
  if (auto *fn = next_select.get())
    return fn(nfds, readfds, writefds, exceptfds, timeout);
  timespec ts{};
  if (timeout != nullptr) {
    ts.tv_sec = timeout->tv_sec;
    ts.tv_nsec = static_cast<decltype(ts.tv_nsec)>(timeout->tv_usec * 1000);
  }
  const int rc = as_int(syscall(sys_pselect6, nfds, readfds, writefds, exceptfds,
                                timeout ? &ts : nullptr, nullptr));
  // select() reports the time left, as the C library's does on Linux.
  if (timeout != nullptr)
    *timeout = timeval{ts.tv_sec, static_cast<decltype(timeout->tv_usec)>(ts.tv_nsec / 1000)};
  return rc;
}

int pselect(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
            const timespec *timeout, const sigset_t *sigmask) noexcept {
  if (auto *fn = next_pselect.get())
    return fn(nfds, readfds, writefds, exceptfds, timeout, sigmask);
  timespec copy{};
  if (timeout != nullptr) copy = *timeout;
  struct {
    const sigset_t *set;
    size_t size;
  } mask{sigmask, kernel_sigset_size};
  return as_int(syscall(sys_pselect6, nfds, readfds, writefds, exceptfds,
                        timeout ? &copy : nullptr, sigmask ? &mask : nullptr));
}

}  // namespace proxyproto::real

namespace proxyproto::real {

namespace {
using fstat_fn = int(int, struct stat *);
using getauxval_fn = unsigned long(unsigned long);
// The fstat that fills this library's struct stat: glibc's headers map the
// name to fstat64 with a 64-bit off_t on a 32-bit target, and to
// __fstat64_time64 with a 64-bit time_t there too. "fstat" alone would be
// the 32-bit layout, and st_ino would be read from the wrong place.
#if defined(__USE_TIME_BITS64)
constexpr const char fstat_name[] = "__fstat64_time64";
#elif defined(__USE_FILE_OFFSET64)
constexpr const char fstat_name[] = "fstat64";
#else
constexpr const char fstat_name[] = "fstat";
#endif
constinit next_symbol<fstat_fn> libc_fstat{fstat_name, false};
constinit next_symbol<getauxval_fn> libc_getauxval{"getauxval", false};
using closefrom_fn = void(int);
constinit next_symbol<closefrom_fn> next_closefrom{"closefrom"};
}  // namespace

int fstat(int fd, struct stat *st) noexcept {
  if (auto *fn = libc_fstat.get()) return fn(fd, st);
  errno = ENOSYS;
  return -1;
}

unsigned long getauxval(unsigned long type, unsigned long missing) noexcept {
  if (auto *fn = libc_getauxval.get()) return fn(type);
  errno = ENOENT;
  return missing;
}

void closefrom(int lowest) noexcept {
  if (auto *fn = next_closefrom.get()) return fn(lowest);
  syscall(SYS_close_range, lowest < 0 ? 0u : static_cast<unsigned>(lowest), ~0u, 0);
}

}  // namespace proxyproto::real

namespace proxyproto::real {

int timerfd_settime(int fd, int flags, const itimerspec *spec) noexcept {
#if defined(__USE_TIME_BITS64) && defined(SYS_timerfd_settime64)
  return as_int(syscall(SYS_timerfd_settime64, fd, flags, spec, nullptr));
#else
  return as_int(syscall(SYS_timerfd_settime, fd, flags, spec, nullptr));
#endif
}

}  // namespace proxyproto::real
