// Readiness descriptors of listeners (see listener_readiness.h).
//
// A small static table of listeners (entry_capacity), each with its epoll
// instance, timerfd and the application's epoll registrations of it. The
// table changes under one mutex, only on slow paths (a listener's epoll
// registration, the first park, close); descriptor_of() reads it without a
// lock, after a bitmap test for descriptors below bitmap_fds.
#include "accept/listener_readiness.h"

#include <errno.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <sys/mman.h>

#include <atomic>
#include <cstddef>

#include "records/any_record.h"
#include "records/descriptor_table.h"
#include "runtime/real_calls.h"

namespace proxyproto::readiness {

namespace {

constexpr size_t entry_capacity = 64;
constexpr size_t registration_capacity = 4;  // epoll sets per listener
constexpr unsigned bitmap_fds = 65536;

struct registration {
  int epfd = -1;
  uint32_t events = 0;
  epoll_data_t data{};
  bool joined = false;  // the readiness descriptor is in epfd
};

struct entry {
  std::atomic<int> listener{-1};
  std::atomic<int> ready_fd{-1};  // epoll instance
  int timer_fd = -1;
  int wait_fd = -1;  // for a blocking accept(): the listener and ready_fd
  int64_t armed_ms = -1;
  registration regs[registration_capacity];
};

struct listener_mark {
  std::atomic<uint8_t> is_listener;
};

constinit pthread_mutex_t table_mutex = PTHREAD_MUTEX_INITIALIZER;
// Mapped at the first listener's entry (zero pages are never written into
// the library's .data): until then every range below is empty.
constinit std::atomic<entry *> table{nullptr};

struct entry_range {
  entry *first;
  entry *begin() const noexcept { return first; }
  entry *end() const noexcept { return first == nullptr ? nullptr : first + entry_capacity; }
};

entry_range entries_now() noexcept {
  return entry_range{table.load(std::memory_order_acquire)};
}

// Under table_mutex.
entry_range entries_made() noexcept {
  entry *t = table.load(std::memory_order_acquire);
  if (t == nullptr) {
    void *mem = mmap(nullptr, sizeof(entry) * entry_capacity, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return entry_range{nullptr};
    t = static_cast<entry *>(mem);
    for (size_t i = 0; i < entry_capacity; ++i) {
      t[i].listener.store(-1, std::memory_order_relaxed);
      t[i].ready_fd.store(-1, std::memory_order_relaxed);
      t[i].timer_fd = -1;
      t[i].wait_fd = -1;
      t[i].armed_ms = -1;
      for (registration &r : t[i].regs) r = registration{};
    }
    table.store(t, std::memory_order_release);
  }
  return entry_range{t};
}
constinit std::atomic<int> live{0};  // entries with a readiness descriptor
constinit std::atomic<int> used{0};  // entries in use
constinit std::atomic<uint64_t> has_ready_fd[bitmap_fds / 64] = {};
// Descriptors that close() must look up here: every marked listener (with
// an entry or not), epoll sets holding one, and our own. A bit is set when
// a number becomes one of those and cleared when that number is closed, so
// that close() or epoll_ctl() of any other descriptor costs one load.
constinit std::atomic<uint64_t> involved[bitmap_fds / 64] = {};
constinit descriptor_table<listener_mark> marks;

class table_lock {
 public:
  table_lock() noexcept { pthread_mutex_lock(&table_mutex); }
  ~table_lock() { pthread_mutex_unlock(&table_mutex); }
  table_lock(const table_lock &) = delete;
  table_lock &operator=(const table_lock &) = delete;
};

void set_bit(int fd, bool on) noexcept {
  if (fd < 0 || static_cast<unsigned>(fd) >= bitmap_fds) return;
  const uint64_t bit = uint64_t{1} << (static_cast<unsigned>(fd) % 64);
  auto &word = has_ready_fd[static_cast<unsigned>(fd) / 64];
  if (on)
    word.fetch_or(bit, std::memory_order_release);
  else
    word.fetch_and(~bit, std::memory_order_release);
}

void involve(int fd) noexcept {
  if (fd < 0 || static_cast<unsigned>(fd) >= bitmap_fds) return;
  involved[static_cast<unsigned>(fd) / 64].fetch_or(
      uint64_t{1} << (static_cast<unsigned>(fd) % 64), std::memory_order_release);
}

bool is_involved(int fd) noexcept {
  if (static_cast<unsigned>(fd) >= bitmap_fds) return true;
  return (involved[static_cast<unsigned>(fd) / 64].load(std::memory_order_acquire) >>
          (static_cast<unsigned>(fd) % 64)) & 1;
}

void uninvolve(int fd) noexcept {
  if (fd < 0 || static_cast<unsigned>(fd) >= bitmap_fds) return;
  involved[static_cast<unsigned>(fd) / 64].fetch_and(
      ~(uint64_t{1} << (static_cast<unsigned>(fd) % 64)), std::memory_order_release);
}

entry *find_locked(int listener) noexcept {
  for (entry &e : entries_now())
    if (e.listener.load(std::memory_order_relaxed) == listener) return &e;
  return nullptr;
}

entry *find_or_add_locked(int listener) noexcept {
  if (entry *e = find_locked(listener)) return e;
  for (entry &e : entries_made()) {
    if (e.listener.load(std::memory_order_relaxed) < 0) {
      for (registration &r : e.regs) r = registration{};
      e.timer_fd = -1;
      e.wait_fd = -1;
      e.armed_ms = -1;
      e.ready_fd.store(-1, std::memory_order_relaxed);
      e.listener.store(listener, std::memory_order_release);
      used.fetch_add(1, std::memory_order_relaxed);
      involve(listener);
      return &e;
    }
  }
  return nullptr;
}

// What the readiness descriptor is registered with: readable, and the
// application's triggering mode. EPOLLEXCLUSIVE is refused for an epoll
// target, and needless: the descriptor is this process's alone.
epoll_event mirror(const registration &r) noexcept {
  epoll_event ev{};
  ev.events = EPOLLIN | (r.events & (EPOLLET | EPOLLONESHOT));
  ev.data = r.data;
  return ev;
}

void join_locked(entry &e, registration &r) noexcept {
  const int rfd = e.ready_fd.load(std::memory_order_relaxed);
  if (rfd < 0 || r.epfd < 0) return;
  if (!(r.events & EPOLLIN)) {
    if (r.joined) real::epoll_ctl(r.epfd, EPOLL_CTL_DEL, rfd, nullptr);
    r.joined = false;
    return;
  }
  epoll_event ev = mirror(r);
  if (r.joined) {
    if (real::epoll_ctl(r.epfd, EPOLL_CTL_MOD, rfd, &ev) == 0) return;
  }
  r.joined = real::epoll_ctl(r.epfd, EPOLL_CTL_ADD, rfd, &ev) == 0 ||
             errno == EEXIST;
}

void close_descriptors_locked(entry &e, bool leave_sets) noexcept {
  const int rfd = e.ready_fd.exchange(-1, std::memory_order_acq_rel);
  if (rfd >= 0) {
    set_bit(e.listener.load(std::memory_order_relaxed), false);
    live.fetch_sub(1, std::memory_order_relaxed);
    // Closing it takes it out of every epoll set it joined.
    if (leave_sets) syscall(SYS_close, rfd);
  }
  if (e.timer_fd >= 0 && leave_sets) syscall(SYS_close, e.timer_fd);
  if (e.wait_fd >= 0 && leave_sets) syscall(SYS_close, e.wait_fd);
  e.timer_fd = -1;
  e.wait_fd = -1;
  e.armed_ms = -1;
  for (registration &r : e.regs) r.joined = false;
}

void remove_entry_locked(entry &e) noexcept {
  close_descriptors_locked(e, true);
  for (registration &r : e.regs) r = registration{};
  e.listener.store(-1, std::memory_order_release);
  used.fetch_sub(1, std::memory_order_relaxed);
}

bool accepts_connections(int fd) noexcept {
  int value = 0;
  socklen_t len = sizeof value;
  return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &value, &len) == 0 && value;
}

}  // namespace

void note_listener(int fd) noexcept {
  // close() must now hear of this descriptor (records/any_record.h).
  records::note_recording();
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
  table_lock lock;
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

bool any() noexcept { return live.load(std::memory_order_relaxed) != 0; }

int descriptor_of(int listener) noexcept {
  if (listener < 0) return -1;
  if (static_cast<unsigned>(listener) < bitmap_fds) {
    const uint64_t word = has_ready_fd[static_cast<unsigned>(listener) / 64].load(
        std::memory_order_acquire);
    if (!(word >> (static_cast<unsigned>(listener) % 64) & 1)) return -1;
  }
  for (const entry &e : entries_now())
    if (e.listener.load(std::memory_order_acquire) == listener)
      return e.ready_fd.load(std::memory_order_acquire);
  return -1;
}

int ensure(int listener) noexcept {
  const int known = descriptor_of(listener);
  if (known >= 0) return known;
  const int saved_errno = errno;
  table_lock lock;
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
      set_bit(listener, true);
      live.fetch_add(1, std::memory_order_relaxed);
      for (registration &r : e->regs) join_locked(*e, r);
    }
  }
  errno = saved_errno;
  return rfd;
}

bool watch(int listener, int fd, uint64_t key, bool hangup_only) noexcept {
  const int rfd = descriptor_of(listener);
  if (rfd < 0) return false;
  epoll_event ev{};
  ev.events = (hangup_only ? 0u : static_cast<uint32_t>(EPOLLIN)) | EPOLLRDHUP;
  ev.data.u64 = key;
  return real::epoll_ctl(rfd, EPOLL_CTL_ADD, fd, &ev) == 0;
}

void unwatch(int listener, int fd) noexcept {
  const int rfd = descriptor_of(listener);
  if (rfd >= 0) real::epoll_ctl(rfd, EPOLL_CTL_DEL, fd, nullptr);
}

void arm(int listener, int64_t at_ms) noexcept {
  table_lock lock;
  entry *e = find_locked(listener);
  if (e == nullptr || e->timer_fd < 0) return;
  if (at_ms < 0 && e->armed_ms < 0) return;
  if (at_ms >= 0 && at_ms == e->armed_ms) return;
  itimerspec spec{};
  if (at_ms >= 0) {
    const int64_t at = at_ms > 0 ? at_ms : 1;  // zero would disarm it
    spec.it_value.tv_sec = static_cast<time_t>(at / 1000);
    spec.it_value.tv_nsec = static_cast<long>((at % 1000) * 1000000);
  }
  if (syscall(SYS_timerfd_settime, e->timer_fd, TFD_TIMER_ABSTIME, &spec, nullptr) == 0)
    e->armed_ms = at_ms;
}

int next_ready(int listener, uint64_t *key) noexcept {
  const int rfd = descriptor_of(listener);
  if (rfd < 0) return 0;
  epoll_event ev{};
  const int n = static_cast<int>(syscall(SYS_epoll_pwait, rfd, &ev, 1, 0, nullptr, 8));
  if (n <= 0) return n;
  *key = ev.data.u64;
  if (*key == timer_key) {
    table_lock lock;
    entry *e = find_locked(listener);
    if (e != nullptr && e->timer_fd >= 0) {
      uint64_t expirations;
      const long ignored = syscall(SYS_read, e->timer_fd, &expirations, sizeof expirations);
      (void)ignored;
      e->armed_ms = -1;  // fired: the next arm() must set it again
    }
  }
  return 1;
}

namespace {

void forget_entries_in(unsigned first, unsigned last) noexcept {
  // Registrations exist only for listeners, so a process that never
  // listened has nothing more to do.
  if (used.load(std::memory_order_relaxed) == 0) return;
  const auto in = [first, last](int fd) {
    return fd >= 0 && static_cast<unsigned>(fd) >= first &&
           static_cast<unsigned>(fd) <= last;
  };
  table_lock lock;
  for (entry &e : entries_now()) {
    const int listener = e.listener.load(std::memory_order_relaxed);
    if (listener < 0) continue;
    if (in(listener)) {
      remove_entry_locked(e);
      continue;
    }
    const int rfd = e.ready_fd.load(std::memory_order_relaxed);
    if (in(rfd) || in(e.timer_fd) || in(e.wait_fd)) {
      // Ours, closed by the application (a loop closing every descriptor):
      // the others go too; the next park makes new ones.
      if (rfd >= 0 && !in(rfd)) syscall(SYS_close, rfd);
      if (e.timer_fd >= 0 && !in(e.timer_fd)) syscall(SYS_close, e.timer_fd);
      if (e.wait_fd >= 0 && !in(e.wait_fd)) syscall(SYS_close, e.wait_fd);
      close_descriptors_locked(e, false);
      continue;
    }
    for (registration &r : e.regs)
      if (in(r.epfd)) r = registration{};
  }
}

}  // namespace

int wait_for_blocking(int listener) noexcept {
  int wfd = -1;
  {
    table_lock lock;
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
