// The waker thread (see waker.h).
//
// Wake-up connections are told apart by their source: the thread binds each
// one before connecting (an ephemeral port on the address it connects to,
// or a unique abstract AF_UNIX name) and notes that address in a small
// table, which accept() compares with the peer of every connection it takes
// while an entry is outstanding. An entry stays until its connection is
// accepted (however long the application takes to call accept() again), or
// until the table is full, when the oldest makes room: another process
// sharing the listener (a pre-forked sibling) may have taken it. That
// process sees a connection with a v2 LOCAL header and no data, which it
// reports with its real peer.
//
// The thread blocks every signal, allocates nothing beyond its stack, and
// reaches the kernel by raw system calls so that no other preloaded library
// (libproxyproto_connect.so among them) sees its connections.
#include "accept/waker.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>

#include "accept/header_reader.h"
#include "accept/pending_pool.h"
#include "runtime/log.h"
#include "runtime/real_datagram_calls.h"
#include "settings/server_settings.h"

namespace proxyproto::waker {

namespace {

constexpr size_t wakeup_slots = 32;
constexpr int max_poll_ms = 50;
constexpr int park_gather_ms = 1;
constexpr size_t thread_stack_bytes = 256 * 1024;

struct wakeup_entry {
  sockaddr_storage source;
  socklen_t source_len;
  int64_t sent_ms;  // 0: free
};

constinit pthread_mutex_t table_mutex = PTHREAD_MUTEX_INITIALIZER;
constinit wakeup_entry table[wakeup_slots] = {};
constinit std::atomic<int> outstanding{0};
constinit std::atomic<bool> started{false};
constinit std::atomic<unsigned> name_counter{0};
// An eventfd in the thread's poll set: written on each park, so that a new
// connection is watched at once.
constinit std::atomic<int> parked_signal{-1};
// Set while a signal is written and not yet read: one write per round at
// most, however many connections a burst parks.
constinit std::atomic<bool> signal_pending{false};
constinit pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

bool same_source(const sockaddr_storage &a, socklen_t a_len,
                 const sockaddr_storage &b, socklen_t b_len) noexcept {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    const auto &x = reinterpret_cast<const sockaddr_in &>(a);
    const auto &y = reinterpret_cast<const sockaddr_in &>(b);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  if (a.ss_family == AF_INET6) {
    const auto &x = reinterpret_cast<const sockaddr_in6 &>(a);
    const auto &y = reinterpret_cast<const sockaddr_in6 &>(b);
    return x.sin6_port == y.sin6_port &&
           std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0;
  }
  // AF_UNIX: the abstract name, byte for byte.
  return a_len == b_len && a_len > sizeof(sa_family_t) + 1 &&
         std::memcmp(&a, &b, a_len) == 0;
}

bool note_wakeup(const sockaddr_storage &source, socklen_t len) noexcept {
  const int64_t now = pending::now_ms();
  pthread_mutex_lock(&table_mutex);
  wakeup_entry *chosen = nullptr;
  for (wakeup_entry &e : table) {
    if (e.sent_ms == 0) {
      chosen = &e;
      break;
    }
    if (chosen == nullptr || e.sent_ms < chosen->sent_ms) chosen = &e;
  }
  if (chosen->sent_ms == 0) outstanding.fetch_add(1, std::memory_order_relaxed);
  chosen->source = source;
  chosen->source_len = len;
  chosen->sent_ms = now;
  pthread_mutex_unlock(&table_mutex);
  return true;
}

void drop_wakeup(const sockaddr_storage &source, socklen_t len) noexcept {
  pthread_mutex_lock(&table_mutex);
  for (wakeup_entry &e : table) {
    if (e.sent_ms != 0 && same_source(e.source, e.source_len, source, len)) {
      e.sent_ms = 0;
      outstanding.fetch_sub(1, std::memory_order_relaxed);
      break;
    }
  }
  pthread_mutex_unlock(&table_mutex);
}

// Where to connect, and what to bind first, for a listener's address.
bool wakeup_addresses(const sockaddr_storage &listener, socklen_t listener_len,
                      sockaddr_storage *target, socklen_t *target_len,
                      sockaddr_storage *source, socklen_t *source_len) noexcept {
  *target = listener;
  *target_len = listener_len;
  std::memset(source, 0, sizeof *source);
  if (listener.ss_family == AF_INET) {
    auto &t = reinterpret_cast<sockaddr_in &>(*target);
    if (t.sin_addr.s_addr == htonl(INADDR_ANY))
      t.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    auto &s = reinterpret_cast<sockaddr_in &>(*source);
    s.sin_family = AF_INET;
    s.sin_addr = t.sin_addr;
    *source_len = sizeof s;
    return true;
  }
  if (listener.ss_family == AF_INET6) {
    auto &t = reinterpret_cast<sockaddr_in6 &>(*target);
    if (IN6_IS_ADDR_UNSPECIFIED(&t.sin6_addr)) t.sin6_addr = IN6ADDR_LOOPBACK_INIT;
    auto &s = reinterpret_cast<sockaddr_in6 &>(*source);
    s.sin6_family = AF_INET6;
    s.sin6_addr = t.sin6_addr;
    s.sin6_scope_id = t.sin6_scope_id;
    *source_len = sizeof s;
    return true;
  }
  if (listener.ss_family == AF_UNIX &&
      listener_len > offsetof(sockaddr_un, sun_path)) {
    auto &s = reinterpret_cast<sockaddr_un &>(*source);
    s.sun_family = AF_UNIX;
    // An abstract name: sun_path[0] is '\0', nothing appears on disk.
    const int n = std::snprintf(s.sun_path + 1, sizeof s.sun_path - 1,
                                "libproxyproto-wake-%ld-%u",
                                static_cast<long>(getpid()),
                                name_counter.fetch_add(1));
    *source_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 +
                                         static_cast<size_t>(n));
    return true;
  }
  return false;
}

// Opens one wake-up connection to the listener at `address`.
void send_wakeup(const sockaddr_storage &address, socklen_t address_len) noexcept {
  sockaddr_storage target, source;
  socklen_t target_len, source_len;
  if (!wakeup_addresses(address, address_len, &target, &target_len, &source,
                        &source_len))
    return;
  const int fd = static_cast<int>(syscall(SYS_socket, target.ss_family,
                                          SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd < 0) return;
  sockaddr_storage bound;
  socklen_t bound_len = sizeof bound;
  if (syscall(SYS_bind, fd, &source, source_len) != 0 ||
      syscall(SYS_getsockname, fd, &bound, &bound_len) != 0 ||
      !note_wakeup(bound, bound_len)) {
    syscall(SYS_close, fd);
    return;
  }
  bool connected = syscall(SYS_connect, fd, &target, target_len) == 0;
  if (!connected && (errno == EINPROGRESS || errno == EAGAIN)) {
    pollfd p{fd, POLLOUT, 0};
    int error = 0;
    socklen_t len = sizeof error;
    connected = poll(&p, 1, 100) == 1 &&
                syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0 &&
                error == 0;
  }
  if (connected) {
    // §2.2 LOCAL: what a process that does not know this connection sees.
    static constexpr uint8_t local_header[16] = {
        0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51,
        0x55, 0x49, 0x54, 0x0A, 0x20, 0x00, 0x00, 0x00};
    syscall(SYS_sendto, fd, local_header, sizeof local_header,
            MSG_NOSIGNAL | MSG_DONTWAIT, nullptr, 0);
    PP_DEBUG("wake-up connection sent");
  } else {
    drop_wakeup(bound, bound_len);
  }
  syscall(SYS_close, fd);
}

// One round: poll every parked connection not yet announced, and announce
// those that are ready or out of time, one wake-up per listener.
void watch_round() noexcept {
  pollfd fds[pending::pool_capacity];
  pending::ticket tickets[pending::pool_capacity];
  int64_t earliest = 0;
  bool any_stalled = false;
  // Slot 0 is the park signal; the connections follow.
  const int signal_fd = parked_signal.load(std::memory_order_relaxed);
  fds[0] = pollfd{signal_fd, POLLIN, 0};
  const size_t n = pending::watch(-1, true, fds + 1, tickets + 1,
                                  pending::pool_capacity - 1, &earliest,
                                  &any_stalled);
  int64_t wait = max_poll_ms;
  if (n > 0) {
    const int64_t left = earliest - pending::now_ms();
    if (left < wait) wait = left < 0 ? 0 : left;
    if (any_stalled && wait > pending::stall_recheck_ms)
      wait = pending::stall_recheck_ms;
  }
  if (poll(fds, n + 1, static_cast<int>(wait)) < 0) return;
  if (fds[0].revents & POLLIN) {
    // Cleared before the read: a park after this point writes again.
    signal_pending.store(false, std::memory_order_relaxed);
    uint64_t count;
    ssize_t ignored = real::read(signal_fd, &count, sizeof count);
    (void)ignored;
    // Let a burst of parks (a queue of silent clients) gather for a moment
    // rather than rescanning the pool after each one.
    poll(nullptr, 0, park_gather_ms);
  }

  const server_config &config = server_settings();
  const int64_t now = pending::now_ms();
  int woken[pending::pool_capacity];
  size_t woken_count = 0;
  for (size_t i = 1; i <= n; ++i) {
    pending::connection c;
    if (!pending::peek(tickets[i], &c)) continue;
    const bool out_of_time = now >= c.deadline_ms;
    if (fds[i].revents == 0 && !out_of_time && !c.stalled) continue;
    if (!out_of_time) {
      header_verdict v;
      const header_state state =
          inspect_header(c.fd, config, c.listener_family, false, &v);
      if (state == header_state::need_more) {
        pending::record_look(tickets[i], v.seen);
        continue;
      }
    }
    if (!pending::announce(tickets[i])) continue;
    bool already = false;
    for (size_t j = 0; j < woken_count; ++j) already |= woken[j] == c.listener;
    if (already) continue;
    woken[woken_count++] = c.listener;
    send_wakeup(c.listener_address, c.listener_address_len);
  }
}

void *waker_main(void *) {
  for (;;) {
    pending::wait_until_parked();
    watch_round();
  }
  return nullptr;
}

// The child of fork() has no waker thread; its next park starts one.
void after_fork_in_child() noexcept {
  pthread_mutex_init(&table_mutex, nullptr);
  for (wakeup_entry &e : table) e.sent_ms = 0;
  outstanding.store(0, std::memory_order_relaxed);
  started.store(false, std::memory_order_relaxed);
  // The eventfd is the parent's waker's; the child's waker makes its own.
  const int fd = parked_signal.exchange(-1, std::memory_order_relaxed);
  if (fd >= 0) syscall(SYS_close, fd);
  signal_pending.store(false, std::memory_order_relaxed);
}

void register_atfork() noexcept {
  pthread_atfork(nullptr, nullptr, after_fork_in_child);
}

}  // namespace

void ensure_running() noexcept {
  if (started.load(std::memory_order_acquire)) return;
  bool expected = false;
  if (!started.compare_exchange_strong(expected, true)) return;
  pthread_once(&atfork_once, register_atfork);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, thread_stack_bytes);
  // The thread must never run the application's signal handlers.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  parked_signal.store(static_cast<int>(syscall(SYS_eventfd2, 0,
                                               EFD_NONBLOCK | EFD_CLOEXEC)),
                      std::memory_order_relaxed);
  pthread_t thread;
  const int rc = pthread_create(&thread, &attr, waker_main, nullptr);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    PP_DEBUG("no waker thread (error %d): event loops learn of parked "
             "connections at their next accept()", rc);
  }
}

void notice_parked() noexcept {
  const int fd = parked_signal.load(std::memory_order_relaxed);
  if (fd < 0 || signal_pending.exchange(true, std::memory_order_relaxed)) return;
  const uint64_t one = 1;
  ssize_t ignored = write(fd, &one, sizeof one);
  (void)ignored;
}

bool is_wakeup(const sockaddr_storage &peer, socklen_t peer_len) noexcept {
  if (outstanding.load(std::memory_order_relaxed) == 0) return false;
  bool found = false;
  pthread_mutex_lock(&table_mutex);
  for (wakeup_entry &e : table) {
    if (e.sent_ms != 0 && same_source(e.source, e.source_len, peer, peer_len)) {
      e.sent_ms = 0;
      outstanding.fetch_sub(1, std::memory_order_relaxed);
      found = true;
      break;
    }
  }
  pthread_mutex_unlock(&table_mutex);
  return found;
}

}  // namespace proxyproto::waker
