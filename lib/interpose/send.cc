// The send calls that name a destination: on a UDP socket in scope, a reply
// to a client learnt from a header goes to its proxy (lib/datagram/reply.h).
// send() and write() name none, and are not interposed. sendmsg() and
// sendmmsg() may also pass descriptors: those with a record have it posted
// for the receiving process (lib/passing/descriptor_passing.h).
#include <sys/socket.h>

#include "datagram/receive.h"
#include "datagram/reply.h"
#include "datagram/socket_states.h"
#include "passing/descriptor_passing.h"
#include "runtime/export.h"
#include "runtime/real_datagram_calls.h"

namespace {

inline bool replies_redirected(int fd) noexcept {
  return proxyproto::udp_sockets::in_use() &&
         proxyproto::datagram::in_scope(proxyproto::udp_sockets::of(fd));
}

}  // namespace

namespace passing = proxyproto::descriptor_passing;

extern "C" {

PROXYPROTO_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
                                 const sockaddr *to, socklen_t to_len) {
  if (__builtin_expect(!replies_redirected(fd), 1))
    return proxyproto::real::sendto(fd, buf, len, flags, to, to_len);
  return proxyproto::datagram::send_to(fd, buf, len, flags, to, to_len);
}

PROXYPROTO_EXPORT ssize_t sendmsg(int fd, const msghdr *msg, int flags) {
  if (__builtin_expect(!replies_redirected(fd), 1)) {
    if (passing::may_send_records() && msg != nullptr) [[unlikely]]
      passing::before_send(msg);
    return proxyproto::real::sendmsg(fd, msg, flags);
  }
  return proxyproto::datagram::send_message(fd, msg, flags);
}

PROXYPROTO_EXPORT int sendmmsg(int fd, mmsghdr *msgs, unsigned vlen, int flags) {
  if (__builtin_expect(!replies_redirected(fd), 1)) {
    if (passing::may_send_records() && msgs != nullptr) [[unlikely]]
      for (unsigned i = 0; i < vlen; ++i) passing::before_send(&msgs[i].msg_hdr);
    return proxyproto::real::sendmmsg(fd, msgs, vlen, flags);
  }
  return proxyproto::datagram::send_batch(fd, msgs, vlen, flags);
}

}  // extern "C"
