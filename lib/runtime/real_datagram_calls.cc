#include "runtime/real_datagram_calls.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <ctime>

#include "runtime/next_symbol.h"

namespace proxyproto::real {

namespace {

using socket_fn = int(int, int, int);
using recvfrom_fn = ssize_t(int, void *, size_t, int, sockaddr *, socklen_t *);
using recvmsg_fn = ssize_t(int, msghdr *, int);
using recvmmsg_fn = int(int, mmsghdr *, unsigned, int, timespec *);
using recv_fn = ssize_t(int, void *, size_t, int);
using read_fn = ssize_t(int, void *, size_t);
using readv_fn = ssize_t(int, const iovec *, int);
using sendto_fn = ssize_t(int, const void *, size_t, int, const sockaddr *,
                          socklen_t);
using sendmsg_fn = ssize_t(int, const msghdr *, int);
using sendmmsg_fn = int(int, mmsghdr *, unsigned, int);
using send_fn = ssize_t(int, const void *, size_t, int);
using write_fn = ssize_t(int, const void *, size_t);

constinit next_symbol<socket_fn> next_socket{"socket"};
constinit next_symbol<recvfrom_fn> next_recvfrom{"recvfrom"};
constinit next_symbol<recvmsg_fn> next_recvmsg{"recvmsg"};
constinit next_symbol<recvmmsg_fn> next_recvmmsg{"recvmmsg"};
constinit next_symbol<recv_fn> next_recv{"recv"};
constinit next_symbol<read_fn> next_read{"read"};
constinit next_symbol<readv_fn> next_readv{"readv"};
constinit next_symbol<sendto_fn> next_sendto{"sendto"};
constinit next_symbol<sendmsg_fn> next_sendmsg{"sendmsg"};
constinit next_symbol<sendmmsg_fn> next_sendmmsg{"sendmmsg"};
constinit next_symbol<send_fn> next_send{"send"};
constinit next_symbol<write_fn> next_write{"write"};

}  // namespace

int socket(int domain, int type, int protocol) noexcept {
  if (auto *fn = next_socket.get()) return fn(domain, type, protocol);
  return static_cast<int>(syscall(SYS_socket, domain, type, protocol));
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags, sockaddr *addr,
                 socklen_t *addrlen) noexcept {
  if (auto *fn = next_recvfrom.get()) return fn(fd, buf, len, flags, addr, addrlen);
  return syscall(SYS_recvfrom, fd, buf, len, flags, addr, addrlen);
}

ssize_t recvmsg(int fd, msghdr *msg, int flags) noexcept {
  if (auto *fn = next_recvmsg.get()) return fn(fd, msg, flags);
  return syscall(SYS_recvmsg, fd, msg, flags);
}

int recvmmsg(int fd, mmsghdr *msgs, unsigned vlen, int flags,
             timespec *timeout) noexcept {
  if (auto *fn = next_recvmmsg.get()) return fn(fd, msgs, vlen, flags, timeout);
  return static_cast<int>(syscall(SYS_recvmmsg, fd, msgs, vlen, flags, timeout));
}

ssize_t recv(int fd, void *buf, size_t len, int flags) noexcept {
  if (auto *fn = next_recv.get()) return fn(fd, buf, len, flags);
  return syscall(SYS_recvfrom, fd, buf, len, flags, nullptr, nullptr);
}

ssize_t read(int fd, void *buf, size_t len) noexcept {
  if (auto *fn = next_read.get()) return fn(fd, buf, len);
  return syscall(SYS_read, fd, buf, len);
}

ssize_t readv(int fd, const iovec *iov, int iovcnt) noexcept {
  if (auto *fn = next_readv.get()) return fn(fd, iov, iovcnt);
  return syscall(SYS_readv, fd, iov, iovcnt);
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags,
               const sockaddr *addr, socklen_t addrlen) noexcept {
  if (auto *fn = next_sendto.get()) return fn(fd, buf, len, flags, addr, addrlen);
  return syscall(SYS_sendto, fd, buf, len, flags, addr, addrlen);
}

ssize_t sendmsg(int fd, const msghdr *msg, int flags) noexcept {
  if (auto *fn = next_sendmsg.get()) return fn(fd, msg, flags);
  return syscall(SYS_sendmsg, fd, msg, flags);
}

int sendmmsg(int fd, mmsghdr *msgs, unsigned vlen, int flags) noexcept {
  if (auto *fn = next_sendmmsg.get()) return fn(fd, msgs, vlen, flags);
  return static_cast<int>(syscall(SYS_sendmmsg, fd, msgs, vlen, flags));
}

ssize_t send(int fd, const void *buf, size_t len, int flags) noexcept {
  if (auto *fn = next_send.get()) return fn(fd, buf, len, flags);
  return syscall(SYS_sendto, fd, buf, len, flags, nullptr, 0);
}

ssize_t write(int fd, const void *buf, size_t len) noexcept {
  if (auto *fn = next_write.get()) return fn(fd, buf, len);
  return syscall(SYS_write, fd, buf, len);
}

}  // namespace proxyproto::real
