#include "supervisor.h"

#include <errno.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "accept_trap.h"
#include "address_answers.h"
#include "address_records.h"
#include "filter.h"
#include "program_access.h"
#include "runtime/log.h"
#include "signals.h"
#include "wakeups.h"

namespace proxyproto::run {

namespace {

int epoll_fd = -1;
int notify_fd_ = -1;
const server_config *config_ = nullptr;
// Housekeeping (gone threads' pidfds, records of closed sockets) this often.
constexpr int64_t housekeeping_ms = 1000;

uint64_t tagged(watch_tag tag, int fd) noexcept {
  return (static_cast<uint64_t>(tag) << 56) | static_cast<uint32_t>(fd);
}

void dispatch(int notify) noexcept {
  seccomp_notif *n = notification_buffer();
  if (!receive(notify, n)) return;  // its caller is gone already
  trapped_call call;
  bool fault = false;
  if (!decode_call(notify, *n, &call, &fault)) {
    if (fault) answer_error(notify, n->id, EFAULT);
    return;
  }
  switch (call.kind) {
    case call_kind::accept:
      trapped_accept(call);
      return;
    case call_kind::getpeername:
    case call_kind::getsockname:
      trapped_address_call(call);
      return;
    case call_kind::other:
      answer_continue(notify, call.id);
      return;
  }
}

}  // namespace

bool watch(int fd, watch_tag tag, uint32_t events) noexcept {
  epoll_event ev{};
  ev.events = EPOLLIN | events;
  ev.data.u64 = tagged(tag, fd);
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) == 0) return true;
  return errno == EEXIST && epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void unwatch(int fd) noexcept { epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr); }

int notify_descriptor() noexcept { return notify_fd_; }
const server_config &settings() noexcept { return *config_; }

int64_t monotonic_ms() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

int supervise(pid_t child, int notify_fd, int signal_fd, const server_config &config) noexcept {
  notify_fd_ = notify_fd;
  config_ = &config;
  epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0 || !watch(notify_fd, watch_tag::notify, 0) ||
      !watch(signal_fd, watch_tag::signals, 0)) {
    kill(child, SIGKILL);
    return 126;
  }
  child_watch children{child};
  bool filter_live = true;
  int64_t next_housekeeping = monotonic_ms() + housekeeping_ms;
  for (;;) {
    if (children.all_gone()) break;
    const int64_t now = monotonic_ms();
    int timeout = accept_timers(now);
    if (now >= next_housekeeping) {
      forget_gone_threads();
      sweep_claims_if_due();
      next_housekeeping = now + housekeeping_ms;
    }
    const int until_housekeeping = static_cast<int>(next_housekeeping - now);
    if (timeout < 0 || timeout > until_housekeeping) timeout = until_housekeeping;
    const int until_orphans = children.stop_orphans(now);
    if (until_orphans >= 0 && until_orphans < timeout) timeout = until_orphans;
    epoll_event events[64];
    const int n = epoll_wait(epoll_fd, events, 64, timeout);
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      const auto tag = static_cast<watch_tag>(events[i].data.u64 >> 56);
      const int fd = static_cast<int>(events[i].data.u64 & 0xffffffffu);
      switch (tag) {
        case watch_tag::notify:
          if (events[i].events & EPOLLIN) {
            dispatch(fd);
          } else if (filter_live && (events[i].events & (EPOLLHUP | EPOLLERR))) {
            // Every process under the filter is gone.
            filter_live = false;
            unwatch(fd);
          }
          break;
        case watch_tag::signals:
          children.on_signals(signal_fd);
          break;
        case watch_tag::listener:
          listener_event(fd);
          break;
        case watch_tag::parked:
          parked_event(fd);
          break;
        case watch_tag::wakeup:
          wakeup_event(fd);
          break;
      }
    }
  }
  const accept_counts &c = accept_statistics();
  PP_DEBUG("handed %llu, abandoned %llu, faulted %llu, dropped %llu, wake-ups %llu, "
           "held %llu",
           static_cast<unsigned long long>(c.handed), static_cast<unsigned long long>(c.abandoned),
           static_cast<unsigned long long>(c.faulted), static_cast<unsigned long long>(c.dropped),
           static_cast<unsigned long long>(c.wakeups), static_cast<unsigned long long>(c.held));
  return children.exit_status();
}

}  // namespace proxyproto::run
