// epoll_ctl: when the application registers, changes or removes a
// listener, its readiness descriptor follows it in that epoll set with the
// same event data, so that epoll_wait/epoll_pwait/epoll_pwait2 report a
// parked connection as the listener's readiness with nothing to translate
// (lib/accept/listener_readiness.h). Any other descriptor costs one bitmap
// load before the jump to libc's epoll_ctl.
#include <sys/epoll.h>

#include "accept/listener_readiness.h"
#include "runtime/export.h"
#include "runtime/real_calls.h"

extern "C" {

PROXYPROTO_EXPORT int epoll_ctl(int epfd, int op, int fd, epoll_event *event) {
  if (!proxyproto::readiness::may_follow_epoll_ctl(op, fd, event)) [[likely]]
    return proxyproto::real::epoll_ctl(epfd, op, fd, event);
  return proxyproto::readiness::followed_epoll_ctl(epfd, op, fd, event);
}

}  // extern "C"
