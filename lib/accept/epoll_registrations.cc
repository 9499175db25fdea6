// Following the application's epoll_ctl() on a listener (see
// listener_readiness.h): its readiness descriptor joins, changes with and
// leaves every epoll set the listener is registered in, with the same event
// data, so that epoll_wait() reports a parked connection as the listener's
// own event with nothing to translate.
#include <errno.h>

#include "accept/listener_readiness.h"
#include "accept/readiness_table.h"
#include "runtime/real_calls.h"

namespace proxyproto::readiness {

using namespace detail;

namespace {

void after_epoll_ctl(int epfd, int op, int fd, const epoll_event *event) noexcept {
  // Every marked listener is involved: the bitmap answers for the others.
  if (!is_involved(fd) || !is_listener(fd)) {
    // A listener this process never saw listen() or accept() on (inherited
    // across exec): EPOLLEXCLUSIVE is used for little else.
    if (op != EPOLL_CTL_ADD || event == nullptr ||
        !(event->events & EPOLLEXCLUSIVE) || !accepts_connections(fd))
      return;
    note_listener(fd);
  }
  const int saved_errno = errno;
  mutex_guard lock(table_mutex);
  entry *e = op == EPOLL_CTL_DEL ? find_locked(fd) : find_or_add_locked(fd);
  if (e == nullptr) {
    errno = saved_errno;
    return;
  }
  registration *slot = nullptr;
  for (registration &r : e->regs) {
    if (r.epfd == epfd) slot = &r;
  }
  if (op == EPOLL_CTL_DEL) {
    if (slot != nullptr) {
      const int rfd = e->ready_fd.load(std::memory_order_relaxed);
      if (slot->joined && rfd >= 0) real::epoll_ctl(epfd, EPOLL_CTL_DEL, rfd, nullptr);
      *slot = registration{};
    }
    errno = saved_errno;
    return;
  }
  if (slot == nullptr) {
    for (registration &r : e->regs)
      if (r.epfd < 0 && slot == nullptr) slot = &r;
  }
  if (slot != nullptr && event != nullptr) {
    slot->epfd = epfd;
    involve(epfd);
    slot->events = event->events;
    slot->data = event->data;
    join_locked(*e, *slot);
  }
  errno = saved_errno;
}

}  // namespace

__attribute__((noinline)) int followed_epoll_ctl(int epfd, int op, int fd,
                                                epoll_event *event) noexcept {
  const int rc = real::epoll_ctl(epfd, op, fd, event);
  if (rc == 0) after_epoll_ctl(epfd, op, fd, event);
  return rc;
}

}  // namespace proxyproto::readiness
