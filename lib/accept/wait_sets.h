// The application's poll/ppoll and select/pselect, with the readiness
// descriptors of the listeners in their sets waited on too and reported as
// those listeners' readiness (see listener_readiness.h). Called by the shims
// in lib/interpose/wait.cc only when readiness::any().
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <time.h>

namespace proxyproto::wait_sets {

// ppoll() semantics; `timeout_ms` >= -1 is used instead of `timeout` when
// `is_poll` (poll()).
int poll_with_listeners(pollfd *fds, nfds_t nfds, bool is_poll, int timeout_ms,
                        const timespec *timeout, const sigset_t *sigmask) noexcept;

// select() (with `tv`) or pselect() (with `ts`, `sigmask`) semantics.
int select_with_listeners(int nfds, fd_set *readfds, fd_set *writefds,
                          fd_set *exceptfds, timeval *tv, bool is_select,
                          const timespec *ts, const sigset_t *sigmask) noexcept;

}  // namespace proxyproto::wait_sets
