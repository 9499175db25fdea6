// Wait sets with the listeners' readiness descriptors (see wait_sets.h).
//
// The application's set is never written with anything of ours: poll() gets
// a copy on the stack with one more entry per listener, select() copies of
// the fd_sets with the readiness descriptors' bits, and the results are
// mapped back (a ready readiness descriptor sets POLLIN / the read bit of
// its listener) and counted again. Sets larger than the stack copy, and
// readiness descriptors at or above FD_SETSIZE for select(), are passed
// through as they are: those listeners learn of parked connections at their
// next accept() (documented in LIMITATIONS).
#include "accept/wait_sets.h"

#include <errno.h>

#include <cstddef>
#include <cstring>

#include "accept/listener_readiness.h"
#include "runtime/real_calls.h"

namespace proxyproto::wait_sets {

namespace {

constexpr size_t max_poll_copy = 1024;
constexpr size_t max_listeners = 16;

struct added {
  int listener_index;  // in the application's array, or its fd for select
  int ready_fd;
};

int call_poll(pollfd *fds, nfds_t n, bool is_poll, int timeout_ms,
              const timespec *timeout, const sigset_t *sigmask) noexcept {
  return is_poll ? real::poll(fds, n, timeout_ms)
                 : real::ppoll(fds, n, timeout, sigmask);
}

}  // namespace

int poll_with_listeners(pollfd *fds, nfds_t nfds, bool is_poll, int timeout_ms,
                        const timespec *timeout, const sigset_t *sigmask) noexcept {
  added extra[max_listeners];
  size_t count = 0;
  if (fds != nullptr && nfds + max_listeners <= max_poll_copy) {
    for (nfds_t i = 0; i < nfds && count < max_listeners; ++i) {
      if (fds[i].fd < 0 || !(fds[i].events & POLLIN)) continue;
      const int rfd = readiness::descriptor_of(fds[i].fd);
      if (rfd >= 0) extra[count++] = added{static_cast<int>(i), rfd};
    }
  }
  if (count == 0) return call_poll(fds, nfds, is_poll, timeout_ms, timeout, sigmask);

  pollfd copy[max_poll_copy];
  std::memcpy(copy, fds, nfds * sizeof *fds);
  for (size_t j = 0; j < count; ++j)
    copy[nfds + j] = pollfd{extra[j].ready_fd, POLLIN, 0};
  const int rc = call_poll(copy, nfds + count, is_poll, timeout_ms, timeout, sigmask);
  if (rc < 0) return rc;
  for (nfds_t i = 0; i < nfds; ++i) fds[i].revents = copy[i].revents;
  for (size_t j = 0; j < count; ++j)
    if (copy[nfds + j].revents & POLLIN)
      fds[extra[j].listener_index].revents |= POLLIN;
  int ready = 0;
  for (nfds_t i = 0; i < nfds; ++i) ready += fds[i].revents != 0;
  return ready;
}

int select_with_listeners(int nfds, fd_set *readfds, fd_set *writefds,
                          fd_set *exceptfds, timeval *tv, bool is_select,
                          const timespec *ts, const sigset_t *sigmask) noexcept {
  added extra[max_listeners];
  size_t count = 0;
  int wide = nfds;
  if (readfds != nullptr && nfds > 0 && nfds <= FD_SETSIZE) {
    for (int fd = 0; fd < nfds && count < max_listeners; ++fd) {
      if (!FD_ISSET(fd, readfds)) continue;
      const int rfd = readiness::descriptor_of(fd);
      if (rfd < 0 || rfd >= FD_SETSIZE) continue;
      extra[count++] = added{fd, rfd};
      if (rfd + 1 > wide) wide = rfd + 1;
    }
  }
  if (count == 0) {
    return is_select ? real::select(nfds, readfds, writefds, exceptfds, tv)
                     : real::pselect(nfds, readfds, writefds, exceptfds, ts, sigmask);
  }
  // Copies: the application's sets need only be valid below nfds.
  fd_set rd, wr, ex;
  FD_ZERO(&rd);
  FD_ZERO(&wr);
  FD_ZERO(&ex);
  for (int fd = 0; fd < nfds; ++fd) {
    if (FD_ISSET(fd, readfds)) FD_SET(fd, &rd);
    if (writefds != nullptr && FD_ISSET(fd, writefds)) FD_SET(fd, &wr);
    if (exceptfds != nullptr && FD_ISSET(fd, exceptfds)) FD_SET(fd, &ex);
  }
  for (size_t j = 0; j < count; ++j) FD_SET(extra[j].ready_fd, &rd);
  const int rc = is_select
                     ? real::select(wide, &rd, writefds ? &wr : nullptr,
                                    exceptfds ? &ex : nullptr, tv)
                     : real::pselect(wide, &rd, writefds ? &wr : nullptr,
                                     exceptfds ? &ex : nullptr, ts, sigmask);
  if (rc < 0) return rc;
  for (size_t j = 0; j < count; ++j) {
    if (FD_ISSET(extra[j].ready_fd, &rd)) {
      FD_CLR(extra[j].ready_fd, &rd);
      FD_SET(extra[j].listener_index, &rd);
    }
  }
  int ready = 0;
  for (int fd = 0; fd < nfds; ++fd) {
    const bool r = FD_ISSET(fd, &rd), w = FD_ISSET(fd, &wr), e = FD_ISSET(fd, &ex);
    if (r) FD_SET(fd, readfds); else FD_CLR(fd, readfds);
    if (writefds != nullptr) {
      if (w) FD_SET(fd, writefds); else FD_CLR(fd, writefds);
    }
    if (exceptfds != nullptr) {
      if (e) FD_SET(fd, exceptfds); else FD_CLR(fd, exceptfds);
    }
    ready += r + w + e;
  }
  return ready;
}

}  // namespace proxyproto::wait_sets
