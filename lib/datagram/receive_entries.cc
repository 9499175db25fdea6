#include "datagram/receive_entries.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "datagram/receive.h"
#include "datagram/socket_states.h"

namespace proxyproto::receive_entries {

namespace {

using udp_sockets::state;

// The socket's state if the library handles it, else none.
__attribute__((always_inline)) inline state handled(int fd) noexcept {
  const state s = udp_sockets::of(fd);
  if (__builtin_expect(s == udp_sockets::none, 1)) return s;
  if (datagram::in_scope(s)) return s;
  const state decided = datagram::scope(fd, s);
  return datagram::in_scope(decided) ? decided : udp_sockets::none;
}

ssize_t recvfrom_handled(int fd, void *buf, size_t len, int flags, sockaddr *addr,
                         socklen_t *addrlen) noexcept {
  const state s = handled(fd);
  // A null addrlen with an address is the kernel's EFAULT to report.
  if (s == udp_sockets::none || (addr != nullptr && addrlen == nullptr))
    return real::recvfrom(fd, buf, len, flags, addr, addrlen);
  return datagram::receive_buffer(fd, s, buf, len, flags, addr, addrlen);
}

ssize_t recv_handled(int fd, void *buf, size_t len, int flags) noexcept {
  const state s = handled(fd);
  if (s == udp_sockets::none) return real::recv(fd, buf, len, flags);
  return datagram::receive_buffer(fd, s, buf, len, flags, nullptr, nullptr);
}

ssize_t read_handled(int fd, void *buf, size_t len) noexcept {
  const state s = handled(fd);
  if (s == udp_sockets::none) return real::read(fd, buf, len);
  return datagram::receive_buffer(fd, s, buf, len, 0, nullptr, nullptr);
}

ssize_t readv_handled(int fd, const iovec *iov, int iovcnt) noexcept {
  const state s = handled(fd);
  if (s == udp_sockets::none || iovcnt < 0) return real::readv(fd, iov, iovcnt);
  msghdr msg{};
  msg.msg_iov = const_cast<iovec *>(iov);
  msg.msg_iovlen = static_cast<size_t>(iovcnt);
  return datagram::receive(fd, s, &msg, 0);
}

ssize_t recvmsg_handled(int fd, msghdr *msg, int flags) noexcept {
  const state s = handled(fd);
  if (s == udp_sockets::none) return real::recvmsg(fd, msg, flags);
  return datagram::receive(fd, s, msg, flags);
}

int recvmmsg_handled(int fd, mmsghdr *msgs, unsigned vlen, int flags,
                     timespec *timeout) noexcept {
  const state s = handled(fd);
  if (s == udp_sockets::none) return real::recvmmsg(fd, msgs, vlen, flags, timeout);
  return datagram::receive_batch(fd, s, msgs, vlen, flags, timeout);
}

}  // namespace

using namespace real::detail;

constinit entry<recvfrom_fn> recvfrom_entry{
    &entry<recvfrom_fn>::first_call_of<recvfrom_entry, next_recvfrom>};
constinit entry<recv_fn> recv_entry{&entry<recv_fn>::first_call_of<recv_entry, next_recv>};
constinit entry<read_fn> read_entry{&entry<read_fn>::first_call_of<read_entry, next_read>};
constinit entry<readv_fn> readv_entry{&entry<readv_fn>::first_call_of<readv_entry, next_readv>};
constinit entry<recvmsg_fn> recvmsg_entry{
    &entry<recvmsg_fn>::first_call_of<recvmsg_entry, next_recvmsg>};
constinit entry<recvmmsg_fn> recvmmsg_entry{
    &entry<recvmmsg_fn>::first_call_of<recvmmsg_entry, next_recvmmsg>};

void udp_socket_created(int fd, int domain) noexcept {
  if (!udp_sockets::in_use()) {
    recvfrom_entry.look_at_descriptors(recvfrom_handled);
    recv_entry.look_at_descriptors(recv_handled);
    read_entry.look_at_descriptors(read_handled);
    readv_entry.look_at_descriptors(readv_handled);
    recvmsg_entry.look_at_descriptors(recvmsg_handled);
    recvmmsg_entry.look_at_descriptors(recvmmsg_handled);
  }
  udp_sockets::mark(fd, domain == AF_INET6 ? udp_sockets::undecided_inet6
                                           : udp_sockets::undecided_inet);
}

}  // namespace proxyproto::receive_entries
