#include "runtime/real_calls.h"

#include <dlfcn.h>
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/next_symbol.h"

namespace proxyproto::real {

namespace {

using accept4_fn = int(int, sockaddr *, socklen_t *, int);
using getpeername_fn = int(int, sockaddr *, socklen_t *);
using close_fn = int(int);
using dup_fn = int(int);
using dup2_fn = int(int, int);
using dup3_fn = int(int, int, int);
using connect_fn = int(int, const sockaddr *, socklen_t);
using close_range_fn = int(unsigned, unsigned, int);

constinit next_symbol<accept4_fn> next_accept4{"accept4"};
constinit next_symbol<getpeername_fn> next_getpeername{"getpeername"};
constinit next_symbol<close_fn> next_close{"close"};
constinit next_symbol<dup_fn> next_dup{"dup"};
constinit next_symbol<dup2_fn> next_dup2{"dup2"};
constinit next_symbol<dup3_fn> next_dup3{"dup3"};
constinit next_symbol<connect_fn> next_connect{"connect"};
constinit next_symbol<close_range_fn> next_close_range{"close_range"};

int as_int(long rc) noexcept { return static_cast<int>(rc); }

}  // namespace

int accept4(int fd, sockaddr *addr, socklen_t *addrlen, int flags) noexcept {
  if (auto *fn = next_accept4.get()) return fn(fd, addr, addrlen, flags);
  return as_int(syscall(SYS_accept4, fd, addr, addrlen, flags));
}

int getpeername(int fd, sockaddr *addr, socklen_t *addrlen) noexcept {
  if (auto *fn = next_getpeername.get()) return fn(fd, addr, addrlen);
  return as_int(syscall(SYS_getpeername, fd, addr, addrlen));
}

namespace {

__attribute__((noinline)) int first_close(int fd) noexcept {
  if (auto *fn = next_close.get()) return fn(fd);
  return as_int(syscall(SYS_close, fd));
}

}  // namespace

// Every process that has the library loaded closes through here: once
// bound, a load, a test and a jump (no frame to set up).
int close(int fd) noexcept {
  if (auto *fn = next_close.bound()) [[likely]] return fn(fd);
  return first_close(fd);
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

namespace proxyproto::real {

namespace {
using fstat_fn = int(int, struct stat *);
using getauxval_fn = unsigned long(unsigned long);
constinit next_symbol<fstat_fn> libc_fstat{"fstat", false};
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
