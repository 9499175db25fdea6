// Readiness descriptors of listeners (see listener_readiness.h); the table
// behind them is readiness_table.h, the epoll registrations that follow
// the application's are epoll_registrations.cc.
#include "accept/listener_readiness.h"

#include <errno.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <atomic>

#include "accept/readiness_table.h"
#include "records/any_record.h"
#include "runtime/real_calls.h"

namespace proxyproto::readiness {

using namespace detail;

void note_listener(int fd) noexcept {
  // close() must now hear of this descriptor (records/any_record.h).
  records::note_recording(records::listener_kind);
  listeners_seen.store(true, std::memory_order_relaxed);
  if (listener_mark *m = marks.find_or_map(fd))
    m->is_listener.store(1, std::memory_order_relaxed);
  // Involved, so that close() of any descriptor that is neither a listener
  // nor one of ours is told by the bitmap alone, without a look-up here.
  involve(fd);
}

bool is_listener(int fd) noexcept {
  const listener_mark *m = marks.find(fd);
  return m != nullptr && m->is_listener.load(std::memory_order_relaxed) != 0;
}

bool any() noexcept { return live.load(std::memory_order_relaxed) != 0; }

int descriptor_of(int listener) noexcept {
  if (listener < 0) return -1;
  if (static_cast<unsigned>(listener) < bitmap_fds) {
    const uint64_t word = has_ready_fd[static_cast<unsigned>(listener) / 64].load(
        std::memory_order_acquire);
    if (!(word >> (static_cast<unsigned>(listener) % 64) & 1)) return -1;
  }
  const entry *e = find_entry(listener);
  return e == nullptr ? -1 : e->ready_fd.load(std::memory_order_acquire);
}

int ensure(int listener) noexcept {
  const int known = descriptor_of(listener);
  if (known >= 0) return known;
  const int saved_errno = errno;
  mutex_guard lock(table_mutex);
  entry *e = find_or_add_locked(listener);
  int rfd = -1;
  if (e != nullptr) rfd = e->ready_fd.load(std::memory_order_relaxed);
  if (e != nullptr && rfd < 0) {
    note_listener(listener);
    rfd = static_cast<int>(syscall(SYS_epoll_create1, EPOLL_CLOEXEC));
    const int tfd = rfd < 0 ? -1
                            : static_cast<int>(syscall(SYS_timerfd_create, CLOCK_MONOTONIC,
                                                       TFD_NONBLOCK | TFD_CLOEXEC));
    epoll_event tev{};
    tev.events = EPOLLIN;
    tev.data.u64 = timer_key;
    if (tfd < 0 || real::epoll_ctl(rfd, EPOLL_CTL_ADD, tfd, &tev) != 0) {
      if (tfd >= 0) syscall(SYS_close, tfd);
      if (rfd >= 0) syscall(SYS_close, rfd);
      rfd = -1;
    } else {
      e->timer_fd = tfd;
      involve(tfd);
      involve(rfd);
      e->armed_ms = -1;
      e->ready_fd.store(rfd, std::memory_order_release);
      publish_ready_fd(listener, rfd);
      live.fetch_add(1, std::memory_order_relaxed);
      for (registration &r : e->regs) join_locked(*e, r);
    }
  }
  errno = saved_errno;
  return rfd;
}

namespace {

epoll_event watched_event(uint64_t key, bool hangup_only) noexcept {
  epoll_event ev{};
  // One-shot: a report disarms it, so that a connection claimed by one
  // thread is not reported to the others over and over meanwhile.
  ev.events = (hangup_only ? 0u : static_cast<uint32_t>(EPOLLIN)) | EPOLLRDHUP |
              EPOLLONESHOT;
  ev.data.u64 = key;
  return ev;
}

}  // namespace

bool watch(int listener, int fd, uint64_t key, bool hangup_only) noexcept {
  const int rfd = descriptor_of(listener);
  if (rfd < 0) return false;
  epoll_event ev = watched_event(key, hangup_only);
  return real::epoll_ctl(rfd, EPOLL_CTL_ADD, fd, &ev) == 0;
}

bool rewatch(int listener, int fd, uint64_t key, bool hangup_only) noexcept {
  const int rfd = descriptor_of(listener);
  if (rfd < 0) return false;
  epoll_event ev = watched_event(key, hangup_only);
  return real::epoll_ctl(rfd, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void unwatch(int listener, int fd) noexcept {
  const int rfd = descriptor_of(listener);
  if (rfd >= 0) real::epoll_ctl(rfd, EPOLL_CTL_DEL, fd, nullptr);
}

void arm(int listener, int64_t at_ms) noexcept {
  mutex_guard lock(table_mutex);
  entry *e = find_locked(listener);
  if (e == nullptr || e->timer_fd < 0 || at_ms < 0) return;
  // Armed already for this time or earlier: when it fires, the due scan
  // finds what is due and arms it again for the next. So settling the
  // nearest connection (the usual case: its header came) costs no call.
  if (e->armed_ms >= 0 && e->armed_ms <= at_ms) return;
  itimerspec spec{};
  const int64_t at = at_ms > 0 ? at_ms : 1;  // zero would disarm it
  spec.it_value.tv_sec = static_cast<time_t>(at / 1000);
  spec.it_value.tv_nsec = static_cast<long>((at % 1000) * 1000000);
  if (real::timerfd_settime(e->timer_fd, TFD_TIMER_ABSTIME, &spec) == 0)
    e->armed_ms = at_ms;
}

void note_nonblocking(int listener, bool nonblocking) noexcept {
  if (find_entry(listener) == nullptr) return;
  if (listener_mark *m = marks.find(listener))
    m->kernel_first_state.store(nonblocking ? kernel_first_fresh : 0, std::memory_order_relaxed);
}

int next_ready(int listener, uint64_t *key) noexcept {
  // The listener's mark has its readiness descriptor; one whose mark could
  // not be mapped has it in its entry only.
  int rfd;
  if (listener_mark *m = marks.find(listener)) [[likely]] {
    rfd = m->ready_fd_plus_one.load(std::memory_order_acquire) - 1;
    if (rfd < 0) return 0;
    if (m->kernel_first_state.load(std::memory_order_relaxed) & seen_nonblocking)
      m->kernel_first_state.store(kernel_first_fresh, std::memory_order_relaxed);
  } else {
    const entry *e = find_entry(listener);
    rfd = e == nullptr ? -1 : e->ready_fd.load(std::memory_order_acquire);
    if (rfd < 0) return 0;
  }
  epoll_event ev{};
  const int n = static_cast<int>(look_syscall(rfd, &ev));
  if (n <= 0) return n;
  *key = ev.data.u64;
  if (*key == timer_key) timer_fired(listener);
  return 1;
}

void timer_fired(int listener) noexcept {
  mutex_guard lock(table_mutex);
  entry *e = find_locked(listener);
  if (e != nullptr && e->timer_fd >= 0) {
    uint64_t expirations;
    const long ignored = syscall(SYS_read, e->timer_fd, &expirations, sizeof expirations);
    (void)ignored;
    e->armed_ms = -1;  // fired: the next arm() must set it again
  }
}

int wait_for_blocking(int listener) noexcept {
  int wfd = -1;
  {
    mutex_guard lock(table_mutex);
    entry *e = find_locked(listener);
    const int rfd = e == nullptr ? -1 : e->ready_fd.load(std::memory_order_relaxed);
    if (rfd < 0) return -1;
    if (e->wait_fd < 0) {
      wfd = static_cast<int>(syscall(SYS_epoll_create1, EPOLL_CLOEXEC));
      epoll_event lev{};
      lev.events = EPOLLIN | EPOLLEXCLUSIVE;
      lev.data.u64 = 1;
      epoll_event rev{};
      rev.events = EPOLLIN;
      rev.data.u64 = 0;
      if (wfd >= 0 && (real::epoll_ctl(wfd, EPOLL_CTL_ADD, listener, &lev) != 0 ||
                       real::epoll_ctl(wfd, EPOLL_CTL_ADD, rfd, &rev) != 0)) {
        syscall(SYS_close, wfd);
        wfd = -1;
      }
      e->wait_fd = wfd;
      involve(wfd);
    }
    wfd = e->wait_fd;
  }
  if (wfd < 0) return -1;
  epoll_event evs[2];
  const int n = static_cast<int>(syscall(SYS_epoll_pwait, wfd, evs, 2, -1, nullptr, 8));
  if (n < 0) return -2;
  for (int i = 0; i < n; ++i)
    if (evs[i].data.u64 == 0) return 0;
  return 1;
}

constinit std::atomic<bool> listeners_seen{false};

void forget_involved(int fd) noexcept {
  if (fd < 0 || !is_involved(fd)) return;  // every listener is involved
  if (listener_mark *m = marks.find(fd))
    m->is_listener.store(0, std::memory_order_relaxed);
  forget_entries_in(static_cast<unsigned>(fd), static_cast<unsigned>(fd));
  uninvolve(fd);
}

void forget_range(unsigned first, unsigned last) noexcept {
  if (!listeners_seen.load(std::memory_order_relaxed)) return;
  marks.for_range(first, last, [](int, listener_mark &m) {
    m.is_listener.store(0, std::memory_order_relaxed);
  });
  forget_entries_in(first, last);
  for (unsigned fd = first; fd <= last && fd < bitmap_fds;) {
    if (fd % 64 == 0 && last - fd >= 63) {
      involved[fd / 64].store(0, std::memory_order_release);
      fd += 64;
    } else {
      uninvolve(static_cast<int>(fd++));
    }
  }
}

void after_fork_child() noexcept {
  pthread_mutex_init(&table_mutex, nullptr);
  for (entry &e : entries_now()) {
    if (e.listener.load(std::memory_order_relaxed) < 0) continue;
    const int rfd = e.ready_fd.exchange(-1, std::memory_order_relaxed);
    if (rfd >= 0) {
      publish_ready_fd(e.listener.load(std::memory_order_relaxed), -1);
      syscall(SYS_close, rfd);
      live.fetch_sub(1, std::memory_order_relaxed);
    }
    if (e.timer_fd >= 0) syscall(SYS_close, e.timer_fd);
    if (e.wait_fd >= 0) syscall(SYS_close, e.wait_fd);
    e.timer_fd = -1;
    e.wait_fd = -1;
    e.armed_ms = -1;
    for (registration &r : e.regs) r.joined = false;
  }
  for (auto &w : has_ready_fd) w.store(0, std::memory_order_relaxed);
}

}  // namespace proxyproto::readiness
