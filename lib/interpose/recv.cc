// The receive calls. In a program that never created a UDP socket under
// LIBPROXYPROTO_UDP they cost one load and a branch, then the C library's
// own function; a descriptor that is not a UDP socket in scope costs a
// table look-up more; the others go through lib/datagram/receive.h.
#include <sys/socket.h>
#include <sys/uio.h>

#include "datagram/receive.h"
#include "datagram/socket_states.h"
#include "runtime/export.h"
#include "runtime/real_datagram_calls.h"

namespace {

using proxyproto::udp_sockets::state;

// The socket's state if the library handles it, else none. Asked only once
// udp_sockets::in_use() says some UDP socket was created in scope.
__attribute__((always_inline)) inline state handled(int fd) noexcept {
  const state s = proxyproto::udp_sockets::of(fd);
  if (__builtin_expect(s == proxyproto::udp_sockets::none, 1)) return s;
  if (proxyproto::datagram::in_scope(s)) return s;
  const state decided = proxyproto::datagram::scope(fd, s);
  return proxyproto::datagram::in_scope(decided) ? decided
                                                 : proxyproto::udp_sockets::none;
}

// The calls on a socket the library may handle, out of line: the exported
// functions stay a load, a branch and a jump to the C library's own.
__attribute__((noinline)) ssize_t recvfrom_handled(
    int fd, void *buf, size_t len, int flags, sockaddr *addr, socklen_t *addrlen) noexcept {
  const state s = handled(fd);
  // A null addrlen with an address is the kernel's EFAULT to report.
  if (s == proxyproto::udp_sockets::none || (addr != nullptr && addrlen == nullptr))
    return proxyproto::real::recvfrom(fd, buf, len, flags, addr, addrlen);
  return proxyproto::datagram::receive_buffer(fd, s, buf, len, flags, addr, addrlen);
}

__attribute__((noinline)) ssize_t recv_handled(int fd, void *buf, size_t len,
                                                     int flags) noexcept {
  const state s = handled(fd);
  if (s == proxyproto::udp_sockets::none)
    return proxyproto::real::recv(fd, buf, len, flags);
  return proxyproto::datagram::receive_buffer(fd, s, buf, len, flags, nullptr, nullptr);
}

__attribute__((noinline)) ssize_t read_handled(int fd, void *buf,
                                                     size_t len) noexcept {
  const state s = handled(fd);
  if (s == proxyproto::udp_sockets::none)
    return proxyproto::real::read(fd, buf, len);
  return proxyproto::datagram::receive_buffer(fd, s, buf, len, 0, nullptr, nullptr);
}

__attribute__((noinline)) ssize_t readv_handled(int fd, const iovec *iov,
                                                      int iovcnt) noexcept {
  const state s = handled(fd);
  if (s == proxyproto::udp_sockets::none || iovcnt < 0)
    return proxyproto::real::readv(fd, iov, iovcnt);
  msghdr msg{};
  msg.msg_iov = const_cast<iovec *>(iov);
  msg.msg_iovlen = static_cast<size_t>(iovcnt);
  return proxyproto::datagram::receive(fd, s, &msg, 0);
}

__attribute__((noinline)) ssize_t recvmsg_handled(int fd, msghdr *msg,
                                                        int flags) noexcept {
  const state s = handled(fd);
  if (s == proxyproto::udp_sockets::none)
    return proxyproto::real::recvmsg(fd, msg, flags);
  return proxyproto::datagram::receive(fd, s, msg, flags);
}

__attribute__((noinline)) int recvmmsg_handled(int fd, mmsghdr *msgs,
                                                     unsigned vlen, int flags,
                                                     timespec *timeout) noexcept {
  const state s = handled(fd);
  if (s == proxyproto::udp_sockets::none)
    return proxyproto::real::recvmmsg(fd, msgs, vlen, flags, timeout);
  return proxyproto::datagram::receive_batch(fd, s, msgs, vlen, flags, timeout);
}

}  // namespace

extern "C" {

PROXYPROTO_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
                                   sockaddr *addr, socklen_t *addrlen) {
  if (proxyproto::udp_sockets::in_use()) [[unlikely]]
    return recvfrom_handled(fd, buf, len, flags, addr, addrlen);
  return proxyproto::real::recvfrom(fd, buf, len, flags, addr, addrlen);
}

PROXYPROTO_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags) {
  if (proxyproto::udp_sockets::in_use()) [[unlikely]]
    return recv_handled(fd, buf, len, flags);
  return proxyproto::real::recv(fd, buf, len, flags);
}

PROXYPROTO_EXPORT ssize_t read(int fd, void *buf, size_t len) {
  if (proxyproto::udp_sockets::in_use()) [[unlikely]] return read_handled(fd, buf, len);
  return proxyproto::real::read(fd, buf, len);
}

PROXYPROTO_EXPORT ssize_t readv(int fd, const iovec *iov, int iovcnt) {
  if (proxyproto::udp_sockets::in_use()) [[unlikely]]
    return readv_handled(fd, iov, iovcnt);
  return proxyproto::real::readv(fd, iov, iovcnt);
}

PROXYPROTO_EXPORT ssize_t recvmsg(int fd, msghdr *msg, int flags) {
  if (proxyproto::udp_sockets::in_use()) [[unlikely]]
    return recvmsg_handled(fd, msg, flags);
  return proxyproto::real::recvmsg(fd, msg, flags);
}

PROXYPROTO_EXPORT int recvmmsg(int fd, mmsghdr *msgs, unsigned vlen, int flags,
                               timespec *timeout) {
  if (proxyproto::udp_sockets::in_use()) [[unlikely]]
    return recvmmsg_handled(fd, msgs, vlen, flags, timeout);
  return proxyproto::real::recvmmsg(fd, msgs, vlen, flags, timeout);
}

}  // extern "C"
