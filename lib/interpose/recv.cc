// The receive calls: each jumps to its entry (lib/datagram/receive_entries.h),
// the C library's own function in a program that never created a UDP
// socket under LIBPROXYPROTO_UDP, for one load and a jump; the library's,
// which looks at the descriptor, once one was.
#include <sys/socket.h>
#include <sys/uio.h>

#include "datagram/receive_entries.h"
#include "runtime/export.h"

namespace entries = proxyproto::receive_entries;

extern "C" {

PROXYPROTO_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
                                   sockaddr *addr, socklen_t *addrlen) {
  return entries::recvfrom_entry.get()(fd, buf, len, flags, addr, addrlen);
}

PROXYPROTO_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags) {
  return entries::recv_entry.get()(fd, buf, len, flags);
}

PROXYPROTO_EXPORT ssize_t read(int fd, void *buf, size_t len) {
  return entries::read_entry.get()(fd, buf, len);
}

PROXYPROTO_EXPORT ssize_t readv(int fd, const iovec *iov, int iovcnt) {
  return entries::readv_entry.get()(fd, iov, iovcnt);
}

PROXYPROTO_EXPORT ssize_t recvmsg(int fd, msghdr *msg, int flags) {
  return entries::recvmsg_entry.get()(fd, msg, flags);
}

PROXYPROTO_EXPORT int recvmmsg(int fd, mmsghdr *msgs, unsigned vlen, int flags,
                               timespec *timeout) {
  return entries::recvmmsg_entry.get()(fd, msgs, vlen, flags, timeout);
}

}  // extern "C"
