// The datagram calls that the libraries interpose (receives and sends on
// UDP sockets, socket() to recognise them), reached past the interposer. As
// in real_calls.h, the raw system call stands in for a missing symbol.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

struct timespec;

namespace proxyproto::real {

int socket(int domain, int type, int protocol) noexcept;
ssize_t recvfrom(int fd, void *buf, size_t len, int flags, sockaddr *addr,
                 socklen_t *addrlen) noexcept;
ssize_t recvmsg(int fd, msghdr *msg, int flags) noexcept;
int recvmmsg(int fd, mmsghdr *msgs, unsigned vlen, int flags,
             timespec *timeout) noexcept;
ssize_t recv(int fd, void *buf, size_t len, int flags) noexcept;
ssize_t read(int fd, void *buf, size_t len) noexcept;
ssize_t readv(int fd, const iovec *iov, int iovcnt) noexcept;
ssize_t sendto(int fd, const void *buf, size_t len, int flags,
               const sockaddr *addr, socklen_t addrlen) noexcept;
ssize_t sendmsg(int fd, const msghdr *msg, int flags) noexcept;
int sendmmsg(int fd, mmsghdr *msgs, unsigned vlen, int flags) noexcept;
ssize_t send(int fd, const void *buf, size_t len, int flags) noexcept;
ssize_t write(int fd, const void *buf, size_t len) noexcept;

}  // namespace proxyproto::real
