// getpeername(2): the header's source address for a proxied descriptor, the
// kernel's answer for every other one. Costs no system call when a record
// exists.
#include <errno.h>
#include <sys/socket.h>

#include "core/sockaddr_convert.h"
#include "records/peer_addresses.h"
#include "runtime/export.h"
#include "runtime/real_calls.h"

extern "C" PROXYPROTO_EXPORT int getpeername(int fd, sockaddr *addr,
                                             socklen_t *addrlen) {
  sockaddr_storage recorded;
  socklen_t recorded_len = 0;
  // Bad pointers get the kernel's own error.
  if (addr != nullptr && addrlen != nullptr &&
      proxyproto::peer_addresses::lookup(fd, &recorded, &recorded_len)) {
    proxyproto::copy_sockaddr_truncated(recorded, recorded_len, addr, addrlen);
    return 0;
  }
  return proxyproto::real::getpeername(fd, addr, addrlen);
}
