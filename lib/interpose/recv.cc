// The receive calls: each jumps to its entry (lib/datagram/receive_entries.h),
// the C library's own function in a program that never created a UDP
// socket under LIBPROXYPROTO_UDP, for one load and a jump; the library's,
// which looks at the descriptor, once one was. recvmsg() and recvmmsg() also
// look at what they return: descriptors passed with SCM_RIGHTS get the
// records their sender posted (lib/passing/descriptor_passing.h), for one
// test of the control length in every other case.
#include <sys/socket.h>
#include <sys/uio.h>

#include "datagram/receive_entries.h"
#include "passing/descriptor_passing.h"
#include "runtime/export.h"

namespace entries = proxyproto::receive_entries;
namespace passing = proxyproto::descriptor_passing;

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
  const ssize_t n = entries::recvmsg_entry.get()(fd, msg, flags);
  // The kernel just wrote msg_controllen: msg is valid when n >= 0.
  if (n >= 0 && msg->msg_controllen != 0) [[unlikely]] passing::after_receive(msg);
  return n;
}

PROXYPROTO_EXPORT int recvmmsg(int fd, mmsghdr *msgs, unsigned vlen, int flags,
                               timespec *timeout) {
  const int n = entries::recvmmsg_entry.get()(fd, msgs, vlen, flags, timeout);
  for (int i = 0; i < n; ++i)
    if (msgs[i].msg_hdr.msg_controllen != 0) [[unlikely]]
      passing::after_receive(&msgs[i].msg_hdr);
  return n;
}

}  // extern "C"
