// accept(2) and accept4(2): both are the accept flow (lib/accept/), which
// takes the flags of accept4. listen(2) marks the descriptor a listener, so
// that its epoll registrations are followed (lib/interpose/epoll.cc).
#include <sys/socket.h>

#include "accept/accept_flow.h"
#include "accept/listener_readiness.h"
#include "runtime/export.h"
#include "runtime/real_calls.h"

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
  if (rc == 0) proxyproto::readiness::note_listener(fd);
  return rc;
}

}  // extern "C"
