#include "supervisor.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

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

// Two threads share the supervisor's state under one lock: the
// notification thread, blocked in SECCOMP_IOCTL_NOTIF_RECV so that the
// kernel can switch to it synchronously from a trapped caller, and the
// main thread, in epoll_wait() for everything else (late headers, held
// calls' listeners, signals, deadlines). The lock is never held across a
// wait; the main thread is poked through an eventfd when the other one
// sets a deadline earlier than the one it sleeps until.
pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
int poke_fd = -1;
int64_t main_wakes_at = 0;  // under state_lock

uint64_t tagged(watch_tag tag, int fd) noexcept {
  return (static_cast<uint64_t>(tag) << 56) | static_cast<uint32_t>(fd);
}

void dispatch(int notify, const seccomp_notif *n) noexcept {
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

void *receive_notifications(void *) noexcept {
  const int notify = notify_fd_;
  seccomp_notif *n = notification_buffer();
  for (;;) {
    if (!receive(notify, n)) {
      if (errno == ENOENT) continue;  // its caller is gone already
      PP_DEBUG("receiving notifications failed: %s", strerror(errno));
      return nullptr;
    }
    pthread_mutex_lock(&state_lock);
    dispatch(notify, n);
    pthread_mutex_unlock(&state_lock);
  }
}

}  // namespace

void deadline_set(int64_t due_ms) noexcept {
  if (due_ms >= main_wakes_at) return;
  main_wakes_at = due_ms;
  const uint64_t one = 1;
  if (write(poke_fd, &one, sizeof one) < 0) {
    // The counter is full: the main thread has been poked already.
  }
}

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
  poke_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd < 0 || poke_fd < 0 || !watch(signal_fd, watch_tag::signals, 0) ||
      !watch(poke_fd, watch_tag::poke, 0)) {
    kill(child, SIGKILL);
    return 126;
  }
  ask_synchronous_wakeups(notify_fd);
  // The launcher blocked its signals before the program started (signalfd):
  // the new thread inherits that mask and never takes one.
  pthread_t receiver;
  if (pthread_create(&receiver, nullptr, receive_notifications, nullptr) != 0) {
    kill(child, SIGKILL);
    return 126;
  }
  pthread_detach(receiver);
  child_watch children{child};
  int64_t next_housekeeping = monotonic_ms() + housekeeping_ms;
  pthread_mutex_lock(&state_lock);
  for (;;) {
    if (children.all_gone()) break;
    int64_t now = monotonic_ms();
    if (now >= next_housekeeping) {
      forget_gone_threads();
      accept_housekeeping(now);
      if (claims_sweep_due()) {
        live_sockets live = begin_claims_sweep();
        pthread_mutex_unlock(&state_lock);
        list_live_sockets(&live);
        pthread_mutex_lock(&state_lock);
        finish_claims_sweep(live);
        // Connections parked meanwhile are in the deadlines looked at
        // below: the wake-up time is reckoned after the sweep.
        now = monotonic_ms();
      }
      next_housekeeping = now + housekeeping_ms;
    }
    int timeout = accept_timers(now);
    const int until_housekeeping = static_cast<int>(next_housekeeping - now);
    if (timeout < 0 || timeout > until_housekeeping) timeout = until_housekeeping;
    const int until_orphans = children.stop_orphans(now);
    if (until_orphans >= 0 && until_orphans < timeout) timeout = until_orphans;
    main_wakes_at = now + timeout;
    pthread_mutex_unlock(&state_lock);
    epoll_event events[64];
    const int n = epoll_wait(epoll_fd, events, 64, timeout);
    pthread_mutex_lock(&state_lock);
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      const auto tag = static_cast<watch_tag>(events[i].data.u64 >> 56);
      const int fd = static_cast<int>(events[i].data.u64 & 0xffffffffu);
      switch (tag) {
        case watch_tag::poke: {
          uint64_t count;
          if (read(poke_fd, &count, sizeof count) < 0) {
            // EAGAIN: read already, by an earlier event of this batch.
          }
          break;
        }
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
  // The lock stays taken: the notification thread, if a notification
  // still comes, waits on it until the process exits, and never sees
  // the state being destroyed.
  return children.exit_status();
}

}  // namespace proxyproto::run
