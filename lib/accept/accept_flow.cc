// The accept flow behind accept(2) and accept4(2): take a connection from
// the kernel, read its PROXY header, and return it with the header's source
// address, without letting a slow or silent client hold up the others, and
// without ever sleeping in a non-blocking accept.
//
// The flow, for each connection the kernel hands over:
//  1. connection_scope(listener, peer) decides whether it carries a header
//     (socket kind, `ports`, `allow`, activation; see connection_scope.h).
//  2. inspect_header() peeks once. Complete (the usual case behind a proxy):
//     consumed and returned, for accept4 + one peek + one read, no lock.
//  3. Otherwise it is parked at once in this process's pending pool, with
//     its deadline, watched by the listener's readiness descriptor
//     (listener_readiness.h), and the call takes the next one.
//  4. Parked connections are handed out by this process as soon as they are
//     ready or due: every call first takes what the readiness descriptor
//     reports, without waiting. A non-blocking listener then fails with
//     EAGAIN; the application's next epoll_wait/poll/select reports the
//     listener readable when the readiness descriptor is (the wait shims).
//     A blocking listener polls itself and the readiness descriptor.
// A connection whose header is malformed (or absent, under must-use) is
// closed here and never reaches the application.
#include "accept/accept_flow.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>

#include "accept/connection_scope.h"
#include "accept/header_reader.h"
#include "accept/listener_readiness.h"
#include "accept/pending_pool.h"
#include "accept/shared_accept.h"
#include "core/sockaddr_convert.h"
#include "records/kept_headers.h"
#include "records/peer_addresses.h"
#include "records/udp_marks.h"
#include "runtime/log.h"
#include "runtime/real_calls.h"
#include "settings/server_settings.h"

namespace proxyproto {

namespace {

// Every descriptor the flow returns is a stream: if its number was a UDP
// socket closed behind the library's back, it is no longer treated as one.
inline int handed_out(int fd) noexcept {
  if (fd >= 0) [[likely]] udp_sockets::forget(fd);
  return fd;
}

struct accept_call {
  int listener;
  sockaddr *addr;
  socklen_t *addrlen;
  int flags;
  const server_config &config;
};

// Closes a connection the application will never see, with whatever
// records its number carries: its own, when it was settled to be handed
// out and then closed instead, or one left by a close that bypassed
// close() (deliver rewrites the address record for the same reason).
void drop_connection(int fd) noexcept {
  peer_addresses::forget(fd);
  kept_headers::forget(fd);
  real::close(fd);
}

// Writes the records of a settled connection and the caller's address.
// The address record is written either way: a number reused behind our
// back (a close that bypassed close()) may have left one.
int hand_out(const accept_call &k, int fd, const header_verdict &v,
             connection_fate fate, const sockaddr_storage &peer,
             socklen_t peer_len) noexcept {
  if (fate == connection_fate::proxied) {
    peer_addresses::store(fd, v.source, v.source_len);
    copy_sockaddr_truncated(v.source, v.source_len, k.addr, k.addrlen);
  } else {
    peer_addresses::forget(fd);
    copy_sockaddr_truncated(peer, peer_len, k.addr, k.addrlen);
  }
  return fd;
}

// Hands a parked connection to the application, as this call's flags say.
int deliver_parked(const accept_call &k, pending::connection &c,
                   const header_verdict &v, connection_fate fate) {
  restore_low_water(c.fd, &c.saved_low_water);
  // Parking made it close-on-exec; the flags of this call decide now.
  if (!(k.flags & SOCK_CLOEXEC)) fcntl(c.fd, F_SETFD, 0);
  if ((k.flags ^ c.accept_flags) & SOCK_NONBLOCK) {
    const int fl = fcntl(c.fd, F_GETFL);
    if (fl >= 0)
      fcntl(c.fd, F_SETFL,
            (k.flags & SOCK_NONBLOCK) ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
  }
  return hand_out(k, c.fd, v, fate, c.peer, c.peer_len);
}

// A silent client met its deadline under must-use: let the kernel hold back
// the next ones until they send something (TCP_DEFER_ACCEPT). A longer
// deferral the application chose itself stays: it is only ever raised.
void defer_silent_clients(const accept_call &k, int listener_family) {
  if (!k.config.must_use_header || listener_family == AF_UNIX) return;
  const int seconds = static_cast<int>((k.config.timeout_ms + 999) / 1000);
  const int value = seconds > 0 ? seconds : 1;
  int current = 0;
  socklen_t len = sizeof current;
  if (getsockopt(k.listener, IPPROTO_TCP, TCP_DEFER_ACCEPT, &current, &len) == 0 &&
      current >= value)
    return;
  setsockopt(k.listener, IPPROTO_TCP, TCP_DEFER_ACCEPT, &value, sizeof value);
}

// Sets the listener's timer for its nearest deadline (or stall recheck).
void rearm(int listener) noexcept {
  readiness::arm(listener, pending::next_due(listener));
}

// Parks a connection just taken from the kernel. Nothing settles it early:
// when it cannot be parked (no memory for its slot, no readiness
// descriptor, a watch refused), it is closed unseen, as a full accept queue
// would have refused it; its header never reaches the application.
void park(accept_call &k, pending::connection &c) {
  // Invisible to the application, so not to be inherited by its exec()s.
  if (!(c.accept_flags & SOCK_CLOEXEC)) fcntl(c.fd, F_SETFD, FD_CLOEXEC);
  expect_more_than(c.fd, c.seen, &c.saved_low_water);
  shared_accept::prepare();
  if (readiness::ensure(k.listener) < 0 ||
      pending::park(c) != pending::park_outcome::parked) {
    PP_DEBUG("fd %d cannot be parked: closed unseen", c.fd);
    drop_connection(c.fd);
    return;
  }
  PP_DEBUG("fd %d parked with %zu bytes seen", c.fd, c.seen);
  rearm(k.listener);
}

// Looks again at a claimed parked connection: hands it out (its
// descriptor), drops it or leaves it parked (-1). `woken`: its own
// readiness reported it (rather than the timer).
int look_again(accept_call &k, pending::ticket t, pending::connection &c, bool woken) {
  const bool out_of_time = pending::now_ms() >= c.deadline_ms;
  header_verdict v;
  const header_state state =
      inspect_header(c.fd, k.config, c.listener_family, true, &v);
  const connection_fate fate = fate_of(state, v, k.config, out_of_time);
  if (fate == connection_fate::wait) {
    const bool progress = v.seen != c.seen;
    // Woken without a new byte: a socket whose poll() ignores SO_RCVLOWAT;
    // it is watched for hang-up only and looked at on the timer.
    c.stalled = !progress && (woken || c.stalled);
    c.seen = v.seen;
    if (progress) expect_more_than(c.fd, c.seen, &c.saved_low_water);
    pending::claimed_waits(t, c);
    rearm(k.listener);
    return -1;
  }
  // Out of the pool (and unwatched) before anything else: a descriptor
  // closed behind the library's back meanwhile is no longer ours.
  if (pending::claimed_settled(t) != pending::claim_end::settled) return -1;
  if (state == header_state::need_more && v.seen == 0)
    defer_silent_clients(k, c.listener_family);
  if (fate == connection_fate::drop) {
    drop_connection(c.fd);
    return -1;
  }
  return deliver_parked(k, c, v, fate);
}

// Hands out what the listener's readiness descriptor reported (`key`) and
// then whatever else it reports, without waiting: a descriptor to return,
// or -1 when nothing is ready. Every parked connection is looked at only
// when it is reported or due, so this costs the same however many are
// parked.
__attribute__((noinline)) int take_reported(accept_call &k, uint64_t key) {
  int fd = -1;
  do {
    if (key == readiness::timer_key) {
      const int64_t now = pending::now_ms();
      pending::ticket t;
      pending::connection c;
      while (fd < 0 && pending::claim_due(k.listener, now, &t, &c))
        fd = look_again(k, t, c, false);
    } else {
      pending::connection c;
      const pending::ticket t = pending::ticket_of(key);
      if (pending::claim(t, &c)) fd = look_again(k, t, c, true);
    }
  } while (fd < 0 && readiness::next_ready(k.listener, &key) > 0);
  // Whatever is left (due ones not reached make the timer fire at once).
  rearm(k.listener);
  return fd;
}

// The same from the first look: -1 at once when nothing is reported (the
// usual case: nothing to rearm either).
int take_ready(accept_call &k) {
  uint64_t key = 0;
  if (readiness::next_ready(k.listener, &key) <= 0) return -1;
  return take_reported(k, key);
}

// A blocking listener with parked connections: waits for either.
// Returns 1 when the listener is readable, 0 when the readiness descriptor
// is, -1 with errno on failure (EINTR).
int wait_blocking(int listener) {
  const int which = readiness::wait_for_blocking(listener);
  if (which >= 0) return which;
  if (which == -2) return -1;
  const int rfd = readiness::descriptor_of(listener);
  pollfd fds[2] = {{listener, POLLIN, 0}, {rfd, POLLIN, 0}};
  const int rc = real::poll(fds, rfd >= 0 ? 2 : 1, -1);
  if (rc < 0) return -1;
  if (rfd >= 0 && fds[1].revents != 0) return 0;
  return 1;
}

// take_one()'s answer when the connection it took was parked or dropped,
// or the listener had nothing for this caller after all: take the next.
constexpr int take_next = -2;

// Settles a connection just taken from the kernel: returns its descriptor
// to hand out, or take_next. A connection whose header came with it, the
// usual case, is handed out from here without ever being copied into a
// pending::connection: that is built only when the connection is parked.
__attribute__((noinline)) int settle_taken(accept_call &k, int fd,
                                           const sockaddr_storage &peer,
                                           socklen_t peer_len) noexcept {
  // A fresh descriptor has no record: clear a kept header that a number
  // reused behind our back (a close that bypassed close()) may have left,
  // before this connection's own may be kept. Its address record is
  // rewritten when it is handed out (hand_out, pass-through).
  kept_headers::forget(fd);

  // Trust and scope: the one decision whether to read a header at all
  // (socket kind, `ports`, `allow`, activation); see connection_scope.h.
  switch (connection_scope(k.config, k.listener, peer, peer_len)) {
    case scope_decision::handle:
      break;
    case scope_decision::pass_through:
      peer_addresses::forget(fd);
      copy_sockaddr_truncated(peer, peer_len, k.addr, k.addrlen);
      return fd;
    case scope_decision::drop:
      drop_connection(fd);
      return take_next;
  }

  const int family = peer.ss_family;
  header_verdict v;
  const header_state state = inspect_header(fd, k.config, family, true, &v);
  const connection_fate fate = fate_of(state, v, k.config, k.config.timeout_ms == 0);
  switch (fate) {
    case connection_fate::proxied:
    case connection_fate::real_peer:
      return hand_out(k, fd, v, fate, peer, peer_len);
    case connection_fate::drop:
      if (state == header_state::need_more && v.seen == 0)
        defer_silent_clients(k, family);
      drop_connection(fd);
      return take_next;
    case connection_fate::wait:
      break;
  }
  pending::connection c;
  c.listener = k.listener;
  c.fd = fd;
  c.accept_flags = k.flags;
  c.listener_family = family;
  c.peer = peer;
  c.peer_len = peer_len;
  c.seen = v.seen;
  c.deadline_ms = pending::now_ms() + k.config.timeout_ms;
  park(k, c);
  return take_next;
}

// Takes one connection from the kernel and settles it: returns its
// descriptor to hand out, -1 with accept4()'s errno, or take_next. `once`:
// without blocking, on a blocking listener this process was woken for.
int take_one(accept_call &k, bool once) noexcept {
  sockaddr_storage peer;
  socklen_t peer_len = sizeof peer;
  const shared_accept::snapshot begun = shared_accept::before_accept();
  const int fd =
      once ? shared_accept::accept_once(k.listener, reinterpret_cast<sockaddr *>(&peer),
                                        &peer_len, k.flags)
           : real::accept4(k.listener, reinterpret_cast<sockaddr *>(&peer), &peer_len,
                           k.flags);
  if (fd < 0) {
    // Another process took the connection this one was woken for: wait
    // again. Or another process's accept_once() made this blocking
    // listener non-blocking for a moment: not the caller's EAGAIN.
    if ((once || shared_accept::eagain_was_ours(begun)) && errno == EAGAIN) {
      if (!once) sched_yield();
      return take_next;
    }
    return -1;
  }
  return settle_taken(k, fd, peer, peer_len);
}

// The whole flow: parked connections first, then the kernel's, until one
// is to be handed out (or accept4() fails).
__attribute__((noinline)) int accept_loop(accept_call &k) noexcept {
  int listener_blocking = -1;  // unknown until something is parked
  for (;;) {
    bool once = false;  // take a connection without blocking
    if (pending::parked_for(k.listener) > 0 && readiness::kernel_first(k.listener)) {
      // Non-blocking: the kernel's queue first, the parked connections
      // when it is empty (see kernel_first()).
      const int fd = take_one(k, false);
      if (fd == take_next) continue;
      if (fd >= 0 || errno != EAGAIN) return fd;
      const int ready = take_ready(k);
      if (ready >= 0) return ready;
      errno = EAGAIN;
      return -1;
    }
    if (pending::parked_for(k.listener) > 0) {
      const int fd = take_ready(k);
      if (fd >= 0) return fd;
      if (listener_blocking < 0) {
        // Read while another process's accept_once() holds it non-blocking,
        // the flags lie; only blocking listeners are ever made so.
        const shared_accept::snapshot before = shared_accept::before_accept();
        const int fl = fcntl(k.listener, F_GETFL);
        listener_blocking = (fl >= 0 && !(fl & O_NONBLOCK)) ||
                            shared_accept::eagain_was_ours(before);
        readiness::note_nonblocking(k.listener, listener_blocking == 0);
      }
      if (listener_blocking == 1 && pending::parked_for(k.listener) > 0) {
        const int which = wait_blocking(k.listener);
        if (which < 0) return -1;
        if (which == 0) continue;
        once = true;
      }
    }

    const int fd = take_one(k, once);
    if (fd != take_next) return fd;
  }
}

// accept4() when the library is inert, or when the caller's arguments are
// such that the kernel must answer with an error (addr without addrlen).
__attribute__((noinline)) int accept_untouched(int listener, sockaddr *addr,
                                               socklen_t *addrlen, int flags) noexcept {
  for (;;) {
    const shared_accept::snapshot begun = shared_accept::before_accept();
    const int fd = real::accept4(listener, addr, addrlen, flags);
    if (fd >= 0 || !shared_accept::eagain_was_ours(begun) || errno != EAGAIN)
      return handed_out(fd);
    sched_yield();
  }
}

// The first accept (which loads the settings), every accept where the
// library does nothing, and one whose arguments the kernel must refuse.
__attribute__((noinline)) int accept_first_or_untouched(int listener, sockaddr *addr,
                                                        socklen_t *addrlen,
                                                        int flags) noexcept {
  if (server_settings().versions == accept_none || (addr != nullptr && addrlen == nullptr))
    return accept_untouched(listener, addr, addrlen, flags);
  return accept_connection(listener, addr, addrlen, flags);
}

// accept4() failed with EAGAIN while another process's accept_once() held
// a blocking listener non-blocking: not the caller's, and the flow goes on.
__attribute__((noinline)) int not_the_callers_eagain(accept_call &k) noexcept {
  sched_yield();
  return handed_out(accept_loop(k));
}

// A non-blocking accept() with connections parked found nothing in the
// kernel's queue (accept4() failed, with EAGAIN as a rule, and not because
// of another process): never EAGAIN while a parked connection is ready.
// One look at the readiness descriptor, without waiting: nothing reported,
// the usual case, leaves accept4()'s errno as it was; a parked connection
// that is ready is handed out (whatever accept4() failed with: it needs no
// new descriptor). Should the look itself fail (its descriptor closed
// behind the library's back), the whole flow answers instead.
__attribute__((noinline)) int after_look(accept_call &k, int looked,
                                         uint64_t key) noexcept {
  if (looked < 0) return handed_out(accept_loop(k));
  if (key == readiness::timer_key) readiness::timer_fired(k.listener);
  const int ready = take_reported(k, key);
  if (ready >= 0) return handed_out(ready);
  errno = EAGAIN;
  return -1;
}

__attribute__((noinline)) int when_queue_empty(accept_call &k) noexcept {
  epoll_event ev;
  const int looked = readiness::look_once(k.listener, &ev);
  if (looked == 0) [[likely]] return -1;
  return after_look(k, looked, ev.data.u64);
}

// accept() while this process has connections parked. A non-blocking
// listener takes the usual call, the kernel's queue first, and looks at
// its parked connections when that is empty (see
// readiness::kernel_first()), so that a proxied connection costs nearly
// what it costs with nothing parked; any other goes through the whole flow.
// It takes the caller's arguments rather than its accept_call, so that
// accept_connection() jumps here without a frame of its own.
__attribute__((noinline)) int with_parked(int listener, sockaddr *addr, socklen_t *addrlen,
                                          int flags, const server_config &config) noexcept {
  accept_call k{listener, addr, addrlen, flags, config};
  if (!readiness::kernel_first(listener)) [[unlikely]] return handed_out(accept_loop(k));
  sockaddr_storage peer;
  socklen_t peer_len = sizeof peer;
  const shared_accept::snapshot begun = shared_accept::before_accept();
  const int fd =
      real::accept4(listener, reinterpret_cast<sockaddr *>(&peer), &peer_len, flags);
  if (fd < 0) {
    if (shared_accept::eagain_was_ours(begun)) [[unlikely]] {
      if (errno == EAGAIN) return not_the_callers_eagain(k);
      return -1;
    }
    return when_queue_empty(k);
  }
  const int settled = settle_taken(k, fd, peer, peer_len);
  if (settled != take_next) [[likely]] return handed_out(settled);
  return handed_out(accept_loop(k));
}

}  // namespace

// The usual call, with nothing parked, is take_one() written out here, so
// that an accept4() that fails (EAGAIN, the end of every event loop's
// accept loop) costs no more than the checks around it.
int accept_connection(int listener, sockaddr *addr, socklen_t *addrlen,
                      int flags) noexcept {
  const server_config *acting = accepting_settings();
  if (acting == nullptr || (addr != nullptr && addrlen == nullptr)) [[unlikely]]
    return accept_first_or_untouched(listener, addr, addrlen, flags);
  const server_config &config = *acting;
  if (pending::anything_parked()) [[unlikely]]
    return with_parked(listener, addr, addrlen, flags, config);
  accept_call k{listener, addr, addrlen, flags, config};

  sockaddr_storage peer;
  socklen_t peer_len = sizeof peer;
  const shared_accept::snapshot begun = shared_accept::before_accept();
  const int fd =
      real::accept4(listener, reinterpret_cast<sockaddr *>(&peer), &peer_len, flags);
  if (fd < 0) {
    if (shared_accept::eagain_was_ours(begun) && errno == EAGAIN) [[unlikely]]
      return not_the_callers_eagain(k);
    return -1;
  }
  const int settled = settle_taken(k, fd, peer, peer_len);
  if (settled != take_next) [[likely]] return handed_out(settled);
  return handed_out(accept_loop(k));
}

}  // namespace proxyproto
