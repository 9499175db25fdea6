// The listeners' readiness table (see readiness_table.h).
#include "accept/readiness_table.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/real_calls.h"

namespace proxyproto::readiness::detail {

constinit pthread_mutex_t table_mutex = PTHREAD_MUTEX_INITIALIZER;

namespace {

// Mapped at the first listener's entry (zero pages are never written into
// the library's .data): until then every range below is empty.
constinit std::atomic<entry *> table{nullptr};

}  // namespace

entry_range entries_now() noexcept {
  return entry_range{table.load(std::memory_order_acquire)};
}

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
constinit std::atomic<int> live{0};
constinit std::atomic<int> used{0};
constinit std::atomic<uint64_t> has_ready_fd[bitmap_fds / 64] = {};
constinit std::atomic<uint64_t> involved[bitmap_fds / 64] = {};
constinit descriptor_table<listener_mark> marks;

void publish_ready_fd(int listener, int rfd) noexcept {
  if (listener_mark *m = marks.find(listener))
    m->ready_fd_plus_one.store(rfd + 1, std::memory_order_release);
  if (listener < 0 || static_cast<unsigned>(listener) >= bitmap_fds) return;
  const uint64_t bit = uint64_t{1} << (static_cast<unsigned>(listener) % 64);
  auto &word = has_ready_fd[static_cast<unsigned>(listener) / 64];
  if (rfd >= 0)
    word.fetch_or(bit, std::memory_order_release);
  else
    word.fetch_and(~bit, std::memory_order_release);
}

void involve(int fd) noexcept {
  if (fd < 0 || static_cast<unsigned>(fd) >= bitmap_fds) return;
  involved[static_cast<unsigned>(fd) / 64].fetch_or(
      uint64_t{1} << (static_cast<unsigned>(fd) % 64), std::memory_order_release);
}

void uninvolve(int fd) noexcept {
  if (fd < 0 || static_cast<unsigned>(fd) >= bitmap_fds) return;
  involved[static_cast<unsigned>(fd) / 64].fetch_and(
      ~(uint64_t{1} << (static_cast<unsigned>(fd) % 64)), std::memory_order_release);
}

entry *find_locked(int listener) noexcept {
  return find_entry(listener);
}

entry *find_entry(int listener) noexcept {
  entry *const t = entries_now().first;
  if (t == nullptr) return nullptr;
  // By the listener's mark, the usual way; a listener whose mark could not
  // be mapped is looked for among the entries.
  if (const listener_mark *m = marks.find(listener)) {
    const uint8_t index = m->entry.load(std::memory_order_acquire);
    if (index != 0 && t[index - 1].listener.load(std::memory_order_acquire) == listener)
      return &t[index - 1];
    if (index != 0 || marks.find_in_use(listener) != nullptr) return nullptr;
  }
  for (entry &e : entries_now())
    if (e.listener.load(std::memory_order_acquire) == listener) return &e;
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
      if (listener_mark *m = marks.find_or_map(listener))
        m->entry.store(static_cast<uint8_t>(&e - entries_now().first + 1),
                       std::memory_order_release);
      used.fetch_add(1, std::memory_order_relaxed);
      involve(listener);
      return &e;
    }
  }
  return nullptr;
}

namespace {

// What the readiness descriptor is registered with: readable, and the
// application's triggering mode. EPOLLEXCLUSIVE is refused for an epoll
// target, and needless: the descriptor is this process's alone.
epoll_event mirror(const registration &r) noexcept {
  epoll_event ev{};
  ev.events = EPOLLIN | (r.events & (EPOLLET | EPOLLONESHOT));
  ev.data = r.data;
  return ev;
}

}  // namespace

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
    publish_ready_fd(e.listener.load(std::memory_order_relaxed), -1);
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
  if (listener_mark *m = marks.find(e.listener.load(std::memory_order_relaxed))) {
    m->entry.store(0, std::memory_order_release);
    m->kernel_first_state.store(0, std::memory_order_relaxed);
  }
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

void forget_entries_in(unsigned first, unsigned last) noexcept {
  // Registrations exist only for listeners, so a process that never
  // listened has nothing more to do.
  if (used.load(std::memory_order_relaxed) == 0) return;
  const auto in = [first, last](int fd) {
    return fd >= 0 && static_cast<unsigned>(fd) >= first &&
           static_cast<unsigned>(fd) <= last;
  };
  mutex_guard lock(table_mutex);
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

}  // namespace proxyproto::readiness::detail
