// accept(2) and accept4(2): both are the accept flow (lib/accept/), which
// takes the flags of accept4. The flow may park connections in its pending
// pool, which close() must then hear of: a process that accepts is noted as
// one that records (records/any_record.h) before the flow runs. A returned
// descriptor is a stream: if its number was a UDP socket closed behind the
// library's back, it is no longer treated as one.
#include <sys/socket.h>

#include "accept/accept_flow.h"
#include "datagram/socket_states.h"
#include "records/any_record.h"
#include "runtime/export.h"

namespace {

inline int accepted(int fd) noexcept {
  if (fd >= 0) proxyproto::udp_sockets::forget(fd);
  return fd;
}

}  // namespace

extern "C" {

PROXYPROTO_EXPORT int accept(int fd, sockaddr *addr, socklen_t *addrlen) {
  proxyproto::records::note_recording();
  return accepted(proxyproto::accept_connection(fd, addr, addrlen, 0));
}

PROXYPROTO_EXPORT int accept4(int fd, sockaddr *addr, socklen_t *addrlen,
                              int flags) {
  proxyproto::records::note_recording();
  return accepted(proxyproto::accept_connection(fd, addr, addrlen, flags));
}

}  // extern "C"
