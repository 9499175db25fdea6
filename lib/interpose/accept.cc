// accept(2) and accept4(2): both are the accept flow (lib/accept/), which
// takes the flags of accept4.
#include <sys/socket.h>

#include "accept/accept_flow.h"
#include "runtime/export.h"

extern "C" {

PROXYPROTO_EXPORT int accept(int fd, sockaddr *addr, socklen_t *addrlen) {
  return proxyproto::accept_connection(fd, addr, addrlen, 0);
}

PROXYPROTO_EXPORT int accept4(int fd, sockaddr *addr, socklen_t *addrlen,
                              int flags) {
  return proxyproto::accept_connection(fd, addr, addrlen, flags);
}

}  // extern "C"
