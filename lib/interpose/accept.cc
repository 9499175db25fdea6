// accept(2) and accept4(2): both jump into the accept flow (lib/accept/),
// which takes the flags of accept4. What the flow records (addresses,
// parked connections, kept headers) notes itself for close() before it is
// published (records/any_record.h), and it forgets a returned number's UDP
// mark. listen(2) marks the descriptor a listener, so that its epoll
// registrations are followed (lib/interpose/epoll.cc), and prepares the
// memory that pre-forked workers share (shared_accept.h).
#include <sys/socket.h>

#include "accept/accept_flow.h"
#include "accept/listener_readiness.h"
#include "accept/shared_accept.h"
#include "core/proxy_header.h"
#include "runtime/export.h"
#include "runtime/real_calls.h"
#include "settings/server_settings.h"

extern "C" {

PROXYPROTO_EXPORT int accept(int fd, sockaddr *addr, socklen_t *addrlen) {
  return proxyproto::accept_connection(fd, addr, addrlen, 0);
}

PROXYPROTO_EXPORT int accept4(int fd, sockaddr *addr, socklen_t *addrlen,
                              int flags) {
  return proxyproto::accept_connection(fd, addr, addrlen, flags);
}

PROXYPROTO_EXPORT int listen(int fd, int backlog) {
  const int rc = proxyproto::real::listen(fd, backlog);
  if (rc == 0 && proxyproto::server_settings().versions != proxyproto::accept_none) {
    proxyproto::readiness::note_listener(fd);
    // Before the workers are forked: they share it (see shared_accept.h).
    proxyproto::shared_accept::prepare();
  }
  return rc;
}

}  // extern "C"
