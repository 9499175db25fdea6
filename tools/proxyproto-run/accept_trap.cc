#include "accept_trap.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <linux/kcmp.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <deque>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "accept/connection_scope.h"
#include "accept/header_reader.h"
#include "address_records.h"
#include "core/port_list.h"
#include "program_access.h"
#include "records/kept_headers.h"
#include "runtime/log.h"
#include "supervisor.h"
#include "wakeups.h"

namespace proxyproto::run {

namespace {

// A settled connection, in the supervisor, not handed out yet.
struct ready_connection {
  int fd;
  bool claimed;               // the header gave a source: record it
  claimed_addresses claim;    // claim.peer: what accept() reports
  bool nonblocking = true;    // its O_NONBLOCK (accepted with it; no other flag)
  int socket_family = AF_UNSPEC;  // its own (the claim's may differ)
};

struct listener_state {
  int fd;                     // the supervisor's copy of the listener
  uint64_t cookie;
  int family;
  std::deque<ready_connection> ready;
  std::deque<trapped_call> held;  // blocking calls waiting, oldest first
  size_t parked = 0;
  bool watched = false;       // in the epoll set for the held calls
  bool wake_sent = false;     // a wake-up is on its way
  int64_t last_used = 0;      // the last call on it (kept a while, cached)
};

struct parked_connection {
  uint64_t listener;          // its listener's cookie
  int family;                 // the listener's
  int64_t deadline_ms;
  sockaddr_storage peer;
  socklen_t peer_len;
  low_water saved;
  uint64_t serial;            // which parking of this descriptor number
};

// The parked connections in deadline order, which is parking order since
// one timeout applies to all: the due ones are at the front, so a look at
// the deadlines costs nothing per parked connection. An entry whose
// connection was settled before its deadline stays until it reaches the
// front (its serial then names no parked connection).
struct deadline_entry {
  int64_t due_ms;
  int fd;
  uint64_t serial;
};
std::deque<deadline_entry> deadlines;
uint64_t parkings = 0;
// AF_UNIX parked connections, looked at every unix_recheck_ms: their
// sockets ignore SO_RCVLOWAT, so epoll reports every byte, not the header.
std::unordered_set<int> unix_parked;

std::unordered_map<uint64_t, listener_state> listeners;
std::unordered_map<int, uint64_t> listener_by_fd;  // watched copies
std::unordered_map<int, parked_connection> parked;
// (thread, descriptor) -> listener cookie: the listener a thread's
// descriptor was last found to be, checked at each call with one
// kcmp(KCMP_FILE) against the supervisor's copy instead of pidfd_getfd and
// the getsockopt calls. A listener's state and copy are kept while it is
// in use, and released idle_release_ms after its last call (so that a
// listener the program closed is not kept open for long).
std::unordered_map<uint64_t, uint64_t> known_listeners;
bool kcmp_works = true;
constexpr int64_t idle_release_ms = 1000;
accept_counts counts;

// A recheck pause for parked AF_UNIX connections, which ignore SO_RCVLOWAT.
constexpr int unix_recheck_ms = 20;
// At most this many connections taken from the backlog per call.
constexpr int backlog_batch = 64;

bool blocking(int fd) noexcept {
  const int fl = fcntl(fd, F_GETFL);
  return fl >= 0 && !(fl & O_NONBLOCK);
}

uint64_t thread_descriptor(const trapped_call &call) noexcept {
  return (static_cast<uint64_t>(static_cast<uint32_t>(call.tid)) << 32) |
         static_cast<uint32_t>(call.fd);
}

// Whether the program's descriptor of `call` is the same open file as the
// supervisor's copy `fd`.
bool same_file(const trapped_call &call, int fd) noexcept {
  if (!kcmp_works) return false;
  static const pid_t self = getpid();
  const long r = syscall(SYS_kcmp, call.tid, self, KCMP_FILE, call.fd, fd);
  if (r < 0 && errno == ENOSYS) kcmp_works = false;
  return r == 0;
}

// Releases a listener's state once nothing is pending on it and it has not
// been used for a while (or at once, with `now` < 0).
void release_if_idle(uint64_t cookie, int64_t now = -1) noexcept {
  auto it = listeners.find(cookie);
  if (it == listeners.end()) return;
  listener_state &l = it->second;
  if (!l.ready.empty() || !l.held.empty() || l.parked != 0) return;
  if (kcmp_works && now >= 0 && now - l.last_used < idle_release_ms) return;
  if (kcmp_works && now < 0) return;  // kept for the next call, cached
  if (l.watched) {
    unwatch(l.fd);
    listener_by_fd.erase(l.fd);
  }
  close(l.fd);
  listeners.erase(it);
  for (auto k = known_listeners.begin(); k != known_listeners.end();)
    if (k->second == cookie) k = known_listeners.erase(k);
    else ++k;
}

void close_connection(int fd) noexcept {
  kept_headers::forget(fd);
  close(fd);
}

enum class delivery { done, gone, refused };

// Hands `c` to the call: addr/addrlen first, then the descriptor with the
// answer, atomically. On `gone` and `refused` the connection stays the
// caller's to keep; `refused` has been answered (EFAULT, EINVAL, EMFILE).
delivery deliver(const trapped_call &call, ready_connection &c) noexcept {
  const int notify = notify_descriptor();
  const bool want_nonblocking = call.flags & SOCK_NONBLOCK;
  if (want_nonblocking != c.nonblocking &&
      fcntl(c.fd, F_SETFL, want_nonblocking ? O_NONBLOCK : 0) == 0)
    c.nonblocking = want_nonblocking;
  int error = 0;
  switch (write_address(notify, call, c.claim.peer, c.claim.peer_len, &error)) {
    case access::ok:
      break;
    case access::fault:
      ++counts.faulted;
      return answer_error(notify, call.id, EFAULT) == -ENOENT ? delivery::gone
                                                              : delivery::refused;
    case access::gone:
      return delivery::gone;
  }
  if (error != 0)
    return answer_error(notify, call.id, error) == -ENOENT ? delivery::gone : delivery::refused;
  const uint64_t cookie = c.claimed ? socket_cookie(c.fd) : 0;
  if (c.claimed) record_claim(cookie, c.claim, c.socket_family);
  const int rc = answer_with_descriptor(notify, call.id, c.fd, call.flags & SOCK_CLOEXEC);
  if (rc == 0) {
    ++counts.handed;
    close_connection(c.fd);
    return delivery::done;
  }
  if (c.claimed) forget_claim(cookie);
  if (rc == -ENOENT) {
    ++counts.abandoned;
    PP_DEBUG("accept by %d abandoned; connection kept for the next call", call.tid);
    return delivery::gone;
  }
  // EMFILE and the like: the program could not take it; it stays queued,
  // as in the kernel's backlog.
  answer_error(notify, call.id, -rc);
  return delivery::refused;
}

// Gives the ready connections of `l` to its held calls, oldest first; when
// some remain ready and no call waits, a wake-up tells the program.
void hand_out(listener_state &l) noexcept {
  while (!l.ready.empty() && !l.held.empty()) {
    const trapped_call call = l.held.front();
    l.held.pop_front();
    ready_connection c = l.ready.front();
    l.ready.pop_front();
    if (deliver(call, c) != delivery::done) l.ready.push_front(c);
  }
  if (!l.ready.empty() && l.held.empty() && !l.wake_sent) {
    l.wake_sent = send_wakeup(l.fd);
    if (l.wake_sent) ++counts.wakeups;
  }
}

// The claimed (or real) addresses of a settled connection, as accept()
// reports them.
ready_connection settled(int fd, bool proxied, const header_verdict &v,
                         const sockaddr_storage &peer, socklen_t peer_len) noexcept {
  ready_connection c{fd, proxied, {}};
  c.socket_family = peer.ss_family;
  if (proxied) {
    c.claim.peer = v.source;
    c.claim.peer_len = v.source_len;
    if (settings().getsockname &&
        !kept_headers::destination(fd, &c.claim.local, &c.claim.local_len))
      c.claim.local_len = 0;
  } else {
    c.claim.peer = peer;
    c.claim.peer_len = peer_len;
  }
  return c;
}

void park(listener_state &l, int fd, const sockaddr_storage &peer, socklen_t peer_len,
          size_t seen) noexcept {
  parked_connection p{l.cookie, l.family,
                      monotonic_ms() + static_cast<int64_t>(settings().timeout_ms),
                      peer, peer_len, {}, ++parkings};
  if (l.family != AF_UNIX) expect_more_than(fd, seen, &p.saved);
  if (!watch(fd, watch_tag::parked, EPOLLRDHUP)) {
    close_connection(fd);
    ++counts.dropped;
    return;
  }
  parked.emplace(fd, p);
  deadlines.push_back(deadline_entry{p.deadline_ms, fd, p.serial});
  if (l.family == AF_UNIX) unix_parked.insert(fd);
  ++l.parked;
  deadline_set(l.family == AF_UNIX ? monotonic_ms() + unix_recheck_ms : p.deadline_ms);
}

// Looks at a freshly accepted connection: ready (into l.ready), parked,
// or dropped.
void classify(listener_state &l, int fd, const sockaddr_storage &peer,
              socklen_t peer_len) noexcept {
  const server_config &config = settings();
  switch (connection_scope(config, l.fd, peer, peer_len)) {
    case scope_decision::pass_through: {
      header_verdict none;
      l.ready.push_back(settled(fd, false, none, peer, peer_len));
      return;
    }
    case scope_decision::drop:
      ++counts.dropped;
      close_connection(fd);
      return;
    case scope_decision::handle:
      break;
  }
  header_verdict v;
  const header_state state = inspect_header(fd, config, l.family, true, &v);
  switch (fate_of(state, v, config, false)) {
    case connection_fate::proxied:
      l.ready.push_back(settled(fd, true, v, peer, peer_len));
      return;
    case connection_fate::real_peer:
      l.ready.push_back(settled(fd, false, v, peer, peer_len));
      return;
    case connection_fate::drop:
      ++counts.dropped;
      close_connection(fd);
      return;
    case connection_fate::wait:
      park(l, fd, peer, peer_len, v.seen);
      return;
  }
}

// Takes connections off the listener's backlog, without blocking, until
// one is ready or none is left. Returns 0, or the errno of a failed
// accept() that the call should get; *blocking_listener says whether the
// program's listener is blocking (its O_NONBLOCK, which the copy shares).
int pull_backlog(listener_state &l, bool *blocking_listener) noexcept {
  *blocking_listener = blocking(l.fd);
  for (int i = 0; i < backlog_batch && l.ready.empty(); ++i) {
    if (*blocking_listener) {
      // A blocking copy would block the supervisor: ask first. Only the
      // supervisor accepts on a listener the program's calls reach.
      pollfd p{l.fd, POLLIN, 0};
      if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN)) return 0;
    }
    sockaddr_storage peer;
    socklen_t peer_len = sizeof peer;
    const int fd = accept4(l.fd, reinterpret_cast<sockaddr *>(&peer), &peer_len,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EAGAIN) return 0;
      if (errno == ECONNABORTED || errno == EINTR) continue;
      return errno;
    }
    if (is_wakeup(fd, peer, peer_len)) {
      close(fd);
      l.wake_sent = false;
      continue;
    }
    classify(l, fd, peer, peer_len);
  }
  return 0;
}

void hold(listener_state &l, const trapped_call &call) noexcept {
  l.held.push_back(call);
  ++counts.held;
  if (!l.watched) {
    l.watched = watch(l.fd, watch_tag::listener, 0);
    if (l.watched) listener_by_fd[l.fd] = l.cookie;
  }
}

// Whether the settings leave this listener alone: the kernel answers.
bool out_of_scope(int fd, int family) noexcept {
  const server_config &config = settings();
  if (!config.active || config.versions == accept_none) return true;
  if (family == AF_UNIX) return !(config.allow_set && config.allow.unix_peers) || config.ports_set;
  if (!config.ports_set) return false;
  sockaddr_storage local;
  socklen_t len = sizeof local;
  if (getsockname(fd, reinterpret_cast<sockaddr *>(&local), &len) != 0) return true;
  const uint16_t port = family == AF_INET
                            ? ntohs(reinterpret_cast<const sockaddr_in &>(local).sin_port)
                            : ntohs(reinterpret_cast<const sockaddr_in6 &>(local).sin6_port);
  return !port_list_contains(config.ports, port);
}

// The program's listener, if `fd` is a listening stream socket the
// library serves: its family in *family; else -1 (the kernel answers).
int program_listener(const trapped_call &call, int *family) noexcept {
  const int fd = program_descriptor(notify_descriptor(), call, call.fd);
  if (fd < 0) return -1;
  int type = 0, listening = 0;
  socklen_t len = sizeof type;
  bool ok = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;
  len = sizeof listening;
  ok = ok && getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening;
  len = sizeof *family;
  ok = ok && getsockopt(fd, SOL_SOCKET, SO_DOMAIN, family, &len) == 0 &&
       (*family == AF_INET || *family == AF_INET6 || *family == AF_UNIX);
  if (!ok || out_of_scope(fd, *family)) {
    close(fd);
    return -1;
  }
  return fd;
}

// The state of the call's listener: from the cache when kcmp confirms it,
// else found and made; null when the kernel is to answer.
listener_state *listener_of(const trapped_call &call) noexcept {
  const uint64_t key = thread_descriptor(call);
  auto known = known_listeners.find(key);
  if (known != known_listeners.end()) {
    auto it = listeners.find(known->second);
    if (it != listeners.end() && same_file(call, it->second.fd)) return &it->second;
    known_listeners.erase(known);
  }
  int family = 0;
  const int fd = program_listener(call, &family);
  if (fd < 0) return nullptr;
  const uint64_t cookie = socket_cookie(fd);
  auto [it, fresh] = listeners.try_emplace(cookie);
  listener_state &l = it->second;
  if (fresh) {
    l.fd = fd;
    l.cookie = cookie;
    l.family = family;
  } else {
    close(fd);
  }
  if (kcmp_works) known_listeners[key] = cookie;
  return &l;
}

}  // namespace

void trapped_accept(const trapped_call &call) noexcept {
  const int notify = notify_descriptor();
  listener_state *found = listener_of(call);
  if (found == nullptr) {
    answer_continue(notify, call.id);
    return;
  }
  listener_state &l = *found;
  const uint64_t cookie = l.cookie;
  l.last_used = monotonic_ms();
  for (;;) {
    bool blocking_listener = false;
    if (l.ready.empty()) {
      const int error = pull_backlog(l, &blocking_listener);
      if (error != 0 && l.ready.empty()) {
        answer_error(notify, call.id, error);
        break;
      }
    }
    if (l.ready.empty()) {
      if (blocking_listener) hold(l, call);
      else answer_error(notify, call.id, EAGAIN);
      break;
    }
    ready_connection c = l.ready.front();
    l.ready.pop_front();
    const delivery d = deliver(call, c);
    if (d == delivery::done) break;
    l.ready.push_front(c);
    if (d == delivery::gone && !l.wake_sent) {
      // Nobody is left to take it: a program in epoll must hear of it.
      l.wake_sent = send_wakeup(l.fd);
      if (l.wake_sent) ++counts.wakeups;
    }
    break;
  }
  release_if_idle(cookie);
}

void listener_event(int fd) noexcept {
  auto by_fd = listener_by_fd.find(fd);
  if (by_fd == listener_by_fd.end()) return;
  const uint64_t cookie = by_fd->second;
  listener_state &l = listeners[cookie];
  while (!l.held.empty()) {
    if (l.ready.empty()) {
      bool blocking_listener = false;
      const int error = pull_backlog(l, &blocking_listener);
      if (error != 0 && l.ready.empty()) {
        // The listener failed (shut down, say): so do the calls on it.
        for (const trapped_call &call : l.held) answer_error(notify_descriptor(), call.id, error);
        l.held.clear();
        break;
      }
    }
    if (l.ready.empty()) break;
    hand_out(l);
  }
  if (l.held.empty() && l.watched) {
    unwatch(l.fd);
    listener_by_fd.erase(l.fd);
    l.watched = false;
  }
  release_if_idle(cookie);
}

void parked_event(int fd) noexcept {
  auto it = parked.find(fd);
  if (it == parked.end()) return;
  parked_connection &p = it->second;
  const server_config &config = settings();
  header_verdict v;
  const header_state state = inspect_header(fd, config, p.family, true, &v);
  const bool late = monotonic_ms() >= p.deadline_ms;
  const connection_fate fate = fate_of(state, v, config, late);
  if (fate == connection_fate::wait) {
    if (p.family != AF_UNIX) expect_more_than(fd, v.seen, &p.saved);
    return;
  }
  restore_low_water(fd, &p.saved);
  unwatch(fd);
  const uint64_t cookie = p.listener;
  const sockaddr_storage peer = p.peer;
  const socklen_t peer_len = p.peer_len;
  if (p.family == AF_UNIX) unix_parked.erase(fd);
  parked.erase(it);
  auto l_it = listeners.find(cookie);
  if (l_it == listeners.end()) {
    close_connection(fd);
    return;
  }
  listener_state &l = l_it->second;
  --l.parked;
  if (fate == connection_fate::drop) {
    ++counts.dropped;
    close_connection(fd);
  } else {
    l.ready.push_back(settled(fd, fate == connection_fate::proxied, v, peer, peer_len));
    hand_out(l);
  }
  release_if_idle(cookie);
}

void wakeup_event(int) noexcept {}

namespace {

// Whether `fd` is still parked by the parking numbered `serial`.
bool parked_as(int fd, uint64_t serial) noexcept {
  auto it = parked.find(fd);
  return it != parked.end() && it->second.serial == serial;
}

}  // namespace

int accept_timers(int64_t now) noexcept {
  // Settle the parked connections whose time is up, from the front.
  while (!deadlines.empty()) {
    const deadline_entry d = deadlines.front();
    if (!parked_as(d.fd, d.serial)) {
      deadlines.pop_front();
      continue;
    }
    if (d.due_ms > now) break;
    deadlines.pop_front();
    parked_event(d.fd);
  }
  int64_t next = deadlines.empty() ? -1 : deadlines.front().due_ms - now;
  // Look again at the AF_UNIX ones, whose progress epoll does not report.
  if (!unix_parked.empty()) {
    std::vector<int> due;
    due.reserve(unix_parked.size());
    for (const int fd : unix_parked) due.push_back(fd);
    for (const int fd : due) parked_event(fd);
    if (!unix_parked.empty() && (next < 0 || next > unix_recheck_ms)) next = unix_recheck_ms;
  }
  return next > 0x7fffffff ? 0x7fffffff : static_cast<int>(next);
}

void accept_housekeeping(int64_t now) noexcept {
  // Drop held calls whose callers went away (a signal, a death): a
  // connection meant for one would stay ready for the next call anyway
  // (ADDFD reports the caller gone), so a look now and then will do.
  for (auto &[cookie, l] : listeners)
    for (auto h = l.held.begin(); h != l.held.end();)
      if (!still_waiting(notify_descriptor(), h->id)) h = l.held.erase(h);
      else ++h;
  expire_wakeups(now);
  // Listeners not used for a while are let go.
  for (auto it = listeners.begin(); it != listeners.end();) {
    const uint64_t cookie = it->first;
    ++it;
    release_if_idle(cookie, now);
  }
}

const accept_counts &accept_statistics() noexcept { return counts; }

}  // namespace proxyproto::run
