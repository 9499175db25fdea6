// The datagram calls that the libraries interpose (receives and sends on
// UDP sockets, socket() to recognise them), reached past the interposer. As
// in real_calls.h, the raw system call stands in for a missing symbol.
//
// Inline, because read() and recv() are on every program's hot path once
// the library interposes them. The receives go through next_call slots (a
// bound call is one indirect jump, the binding and the fallback out of
// line); the others through next_symbol (a load, a test, a call).
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "runtime/next_symbol.h"

struct timespec;

namespace proxyproto::real {

namespace detail {

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

extern next_symbol<socket_fn> next_socket;
extern next_call<recvfrom_fn> next_recvfrom;
extern next_call<recvmsg_fn> next_recvmsg;
extern next_call<recvmmsg_fn> next_recvmmsg;
extern next_call<recv_fn> next_recv;
extern next_call<read_fn> next_read;
extern next_call<readv_fn> next_readv;
extern next_symbol<sendto_fn> next_sendto;
extern next_symbol<sendmsg_fn> next_sendmsg;
extern next_symbol<sendmmsg_fn> next_sendmmsg;
extern next_symbol<send_fn> next_send;
extern next_symbol<write_fn> next_write;

// The raw system calls, for a process without the C library's symbol.
int raw_socket(int domain, int type, int protocol) noexcept;
ssize_t raw_recvfrom(int fd, void *buf, size_t len, int flags, sockaddr *addr,
                     socklen_t *addrlen) noexcept;
ssize_t raw_recvmsg(int fd, msghdr *msg, int flags) noexcept;
int raw_recvmmsg(int fd, mmsghdr *msgs, unsigned vlen, int flags,
                 timespec *timeout) noexcept;
ssize_t raw_recv(int fd, void *buf, size_t len, int flags) noexcept;
ssize_t raw_read(int fd, void *buf, size_t len) noexcept;
ssize_t raw_readv(int fd, const iovec *iov, int iovcnt) noexcept;
ssize_t raw_sendto(int fd, const void *buf, size_t len, int flags,
                   const sockaddr *addr, socklen_t addrlen) noexcept;
ssize_t raw_sendmsg(int fd, const msghdr *msg, int flags) noexcept;
int raw_sendmmsg(int fd, mmsghdr *msgs, unsigned vlen, int flags) noexcept;
ssize_t raw_write(int fd, const void *buf, size_t len) noexcept;

}  // namespace detail

inline int socket(int domain, int type, int protocol) noexcept {
  if (auto *fn = detail::next_socket.get()) [[likely]] return fn(domain, type, protocol);
  return detail::raw_socket(domain, type, protocol);
}

inline ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
                        sockaddr *addr, socklen_t *addrlen) noexcept {
  return detail::next_recvfrom.get()(fd, buf, len, flags, addr, addrlen);
}

inline ssize_t recvmsg(int fd, msghdr *msg, int flags) noexcept {
  return detail::next_recvmsg.get()(fd, msg, flags);
}

inline int recvmmsg(int fd, mmsghdr *msgs, unsigned vlen, int flags,
                    timespec *timeout) noexcept {
  return detail::next_recvmmsg.get()(fd, msgs, vlen, flags, timeout);
}

inline ssize_t recv(int fd, void *buf, size_t len, int flags) noexcept {
  return detail::next_recv.get()(fd, buf, len, flags);
}

inline ssize_t read(int fd, void *buf, size_t len) noexcept {
  return detail::next_read.get()(fd, buf, len);
}

inline ssize_t readv(int fd, const iovec *iov, int iovcnt) noexcept {
  return detail::next_readv.get()(fd, iov, iovcnt);
}

inline ssize_t sendto(int fd, const void *buf, size_t len, int flags,
                      const sockaddr *addr, socklen_t addrlen) noexcept {
  if (auto *fn = detail::next_sendto.get()) [[likely]]
    return fn(fd, buf, len, flags, addr, addrlen);
  return detail::raw_sendto(fd, buf, len, flags, addr, addrlen);
}

inline ssize_t sendmsg(int fd, const msghdr *msg, int flags) noexcept {
  if (auto *fn = detail::next_sendmsg.get()) [[likely]] return fn(fd, msg, flags);
  return detail::raw_sendmsg(fd, msg, flags);
}

inline int sendmmsg(int fd, mmsghdr *msgs, unsigned vlen, int flags) noexcept {
  if (auto *fn = detail::next_sendmmsg.get()) [[likely]] return fn(fd, msgs, vlen, flags);
  return detail::raw_sendmmsg(fd, msgs, vlen, flags);
}

inline ssize_t send(int fd, const void *buf, size_t len, int flags) noexcept {
  if (auto *fn = detail::next_send.get()) [[likely]] return fn(fd, buf, len, flags);
  return detail::raw_sendto(fd, buf, len, flags, nullptr, 0);
}

inline ssize_t write(int fd, const void *buf, size_t len) noexcept {
  if (auto *fn = detail::next_write.get()) [[likely]] return fn(fd, buf, len);
  return detail::raw_write(fd, buf, len);
}

}  // namespace proxyproto::real
