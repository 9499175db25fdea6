// poll/ppoll and select/pselect: with a listener's parked connections
// reported as the listener's readiness (lib/accept/wait_sets.h). A process
// that never parked a connection pays one relaxed load.
#include <poll.h>
#include <sys/select.h>

#include "accept/listener_readiness.h"
#include "accept/wait_sets.h"
#include "runtime/export.h"
#include "runtime/real_calls.h"

using proxyproto::readiness::any;
namespace wait_sets = proxyproto::wait_sets;
namespace real = proxyproto::real;

extern "C" {

PROXYPROTO_EXPORT int poll(pollfd *fds, nfds_t nfds, int timeout) {
  if (!any()) return real::poll(fds, nfds, timeout);
  return wait_sets::poll_with_listeners(fds, nfds, true, timeout, nullptr, nullptr);
}

PROXYPROTO_EXPORT int ppoll(pollfd *fds, nfds_t nfds, const timespec *timeout,
                            const sigset_t *sigmask) {
  if (!any()) return real::ppoll(fds, nfds, timeout, sigmask);
  return wait_sets::poll_with_listeners(fds, nfds, false, 0, timeout, sigmask);
}

PROXYPROTO_EXPORT int select(int nfds, fd_set *readfds, fd_set *writefds,
                             fd_set *exceptfds, timeval *timeout) {
  if (!any()) return real::select(nfds, readfds, writefds, exceptfds, timeout);
  return wait_sets::select_with_listeners(nfds, readfds, writefds, exceptfds,
                                          timeout, true, nullptr, nullptr);
}

PROXYPROTO_EXPORT int pselect(int nfds, fd_set *readfds, fd_set *writefds,
                              fd_set *exceptfds, const timespec *timeout,
                              const sigset_t *sigmask) {
  if (!any())
    return real::pselect(nfds, readfds, writefds, exceptfds, timeout, sigmask);
  return wait_sets::select_with_listeners(nfds, readfds, writefds, exceptfds,
                                          nullptr, false, timeout, sigmask);
}

}  // extern "C"
