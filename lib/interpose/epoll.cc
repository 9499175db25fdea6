// epoll_ctl: when the application registers, changes or removes a
// listener, its readiness descriptor follows it in that epoll set with the
// same event data, so that epoll_wait/epoll_pwait/epoll_pwait2 report a
// parked connection as the listener's readiness with nothing to translate
// (lib/accept/listener_readiness.h). Any other descriptor costs a lookup.
#include <sys/epoll.h>

#include "accept/listener_readiness.h"
#include "runtime/export.h"
#include "runtime/real_calls.h"

extern "C" {

PROXYPROTO_EXPORT int epoll_ctl(int epfd, int op, int fd, epoll_event *event) {
  const int rc = proxyproto::real::epoll_ctl(epfd, op, fd, event);
  if (rc == 0) proxyproto::readiness::after_epoll_ctl(epfd, op, fd, event);
  return rc;
}

}  // extern "C"
