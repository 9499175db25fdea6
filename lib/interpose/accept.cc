// accept(2) and accept4(2): both are the accept flow (lib/accept/), which
// takes the flags of accept4. The flow may park connections in its pending
// pool, which close() must then hear of: a process that accepts is noted as
// one that records (records/any_record.h) before the flow runs.
#include <sys/socket.h>

#include "accept/accept_flow.h"
#include "records/any_record.h"
#include "runtime/export.h"

extern "C" {

PROXYPROTO_EXPORT int accept(int fd, sockaddr *addr, socklen_t *addrlen) {
  proxyproto::records::note_recording();
  return proxyproto::accept_connection(fd, addr, addrlen, 0);
}

PROXYPROTO_EXPORT int accept4(int fd, sockaddr *addr, socklen_t *addrlen,
                              int flags) {
  proxyproto::records::note_recording();
  return proxyproto::accept_connection(fd, addr, addrlen, flags);
}

}  // extern "C"
