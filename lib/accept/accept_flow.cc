// The accept flow behind accept(2) and accept4(2): take a connection from
// the kernel, read its PROXY header, and return it with the header's source
// address, without letting a slow or silent client hold up the others.
//
// The flow, for each connection the kernel hands over:
//  1. connection_scope(listener, peer) decides whether it carries a header
//     (socket kind, `ports`, `allow`, activation; see connection_scope.h).
//  2. inspect_header() peeks once. Complete (the usual case behind a proxy):
//     consumed and returned, for accept4 + one peek + one read, no lock.
//  3. Otherwise the call waits for it, at most brief_wait_ms in all per call
//     (the header often follows the handshake by microseconds), then parks
//     it in the pending pool with its deadline and takes the next one.
//  4. Parked connections are returned as soon as they are ready: a blocking
//     listener polls itself together with its parked connections and
//     returns whichever is first ready; a non-blocking one looks at them
//     without waiting and otherwise fails with EAGAIN, and the waker thread
//     makes the listener readable again when one becomes ready.
// A connection whose header is malformed (or absent, under must-use) is
// closed here and never reaches the application.
#include "accept/accept_flow.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include "accept/connection_scope.h"
#include "accept/header_reader.h"
#include "accept/pending_pool.h"
#include "accept/waker.h"
#include "core/sockaddr_convert.h"
#include "records/kept_headers.h"
#include "records/peer_addresses.h"
#include "runtime/log.h"
#include "runtime/real_calls.h"
#include "settings/server_settings.h"

namespace proxyproto {

namespace {

// The longest a call waits for one connection's header before parking it,
// summed over every connection it takes: the bound on how long accept4() on
// a non-blocking listener can ever sleep.
constexpr int64_t brief_wait_ms = 5;
// A blocking accept() that has parked connections looks at them at least
// this often (deadlines, and sockets whose poll() ignores SO_RCVLOWAT).
constexpr int64_t blocking_recheck_ms = 50;


struct accept_call {
  int listener;
  sockaddr *addr;
  socklen_t *addrlen;
  int flags;
  const server_config &config;
  int64_t wait_budget_end = -1;  // set at the first brief wait
  sockaddr_storage listener_address{};  // for the waker; read at first park
  socklen_t listener_address_len = 0;
};

// Hands a settled connection to the application.
int deliver(const accept_call &k, pending::connection &c,
            const header_verdict &v, connection_fate fate, bool was_parked) {
  if (was_parked) {
    restore_low_water(c.fd, &c.saved_low_water);
    // Parking made it close-on-exec; the flags of this call decide now.
    if (!(k.flags & SOCK_CLOEXEC)) fcntl(c.fd, F_SETFD, 0);
    if ((k.flags ^ c.accept_flags) & SOCK_NONBLOCK) {
      const int fl = fcntl(c.fd, F_GETFL);
      if (fl >= 0)
        fcntl(c.fd, F_SETFL,
              (k.flags & SOCK_NONBLOCK) ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
    }
  } else if (c.saved_low_water.changed) {
    restore_low_water(c.fd, &c.saved_low_water);
  }
  if (fate == connection_fate::proxied) {
    peer_addresses::store(c.fd, v.source, v.source_len);
    copy_sockaddr_truncated(v.source, v.source_len, k.addr, k.addrlen);
  } else {
    copy_sockaddr_truncated(c.peer, c.peer_len, k.addr, k.addrlen);
  }
  return c.fd;
}

// A silent client met its deadline under must-use: let the kernel hold back
// the next ones until they send something (TCP_DEFER_ACCEPT). A longer
// deferral the application chose itself stays: it is only ever raised.
void defer_silent_clients(const accept_call &k, const pending::connection &c) {
  if (!k.config.must_use_header || c.listener_family == AF_UNIX) return;
  const int seconds = static_cast<int>((k.config.timeout_ms + 999) / 1000);
  const int value = seconds > 0 ? seconds : 1;
  int current = 0;
  socklen_t len = sizeof current;
  if (getsockopt(k.listener, IPPROTO_TCP, TCP_DEFER_ACCEPT, &current, &len) == 0 &&
      current >= value)
    return;
  setsockopt(k.listener, IPPROTO_TCP, TCP_DEFER_ACCEPT, &value, sizeof value);
}

// Looks at a connection once more and settles it if it can: returns its
// descriptor when it is to be returned, -1 when it was dropped, -2 when it
// must keep waiting (*v then holds what was seen).
int settle(accept_call &k, pending::connection &c, bool deadline_passed,
           bool was_parked, header_verdict *v) {
  const header_state state =
      inspect_header(c.fd, k.config, c.listener_family, true, v);
  const connection_fate fate = fate_of(state, *v, k.config, deadline_passed);
  if (fate == connection_fate::wait) return -2;
  if (state == header_state::need_more && v->seen == 0)
    defer_silent_clients(k, c);
  if (fate == connection_fate::drop) {
    real::close(c.fd);
    return -1;
  }
  return deliver(k, c, *v, fate, was_parked);
}

// Parks `c`; returns a descriptor to hand out when parking settled another
// connection (or this one) early because the pool is full, else -1.
int park(accept_call &k, pending::connection &c) {
  if (c.listener_address_len == 0) {
    if (k.listener_address_len == 0) {
      k.listener_address_len = sizeof k.listener_address;
      if (real::getsockname(k.listener,
                            reinterpret_cast<sockaddr *>(&k.listener_address),
                            &k.listener_address_len) != 0)
        k.listener_address_len = 0;
    }
    c.listener_address = k.listener_address;
    c.listener_address_len = k.listener_address_len;
  }
  expect_more_than(c.fd, c.seen, &c.saved_low_water);
  // Invisible to the application, so not to be inherited by its exec()s.
  if (!(c.accept_flags & SOCK_CLOEXEC)) fcntl(c.fd, F_SETFD, FD_CLOEXEC);
  pending::connection evicted;
  header_verdict v;
  switch (pending::park(&c, &evicted)) {
    case pending::park_outcome::parked:
      waker::ensure_running();
      waker::notice_parked();
      return -1;
    case pending::park_outcome::parked_evicting:
      waker::ensure_running();
      waker::notice_parked();
      PP_DEBUG("pending connections full: the oldest is settled early");
      return settle(k, evicted, true, true, &v) >= 0 ? evicted.fd : -1;
    case pending::park_outcome::no_room:
      PP_DEBUG("pending pool full: settled at once");
      return settle(k, c, true, true, &v) >= 0 ? c.fd : -1;
  }
  return -1;
}

// Looks at this listener's parked connections, with `timeout_ms` to wait
// (and the listener itself polled too when `with_listener`). Returns a
// descriptor to hand out, or -1; *listener_ready says the listener has a
// connection to take; *interrupted that a signal arrived.
int take_ready(accept_call &k, bool with_listener, int64_t timeout_ms,
               bool *listener_ready, bool *interrupted) {
  pollfd fds[1 + pending::listener_capacity];
  pending::ticket tickets[1 + pending::listener_capacity];
  const size_t first = with_listener ? 1 : 0;
  fds[0] = pollfd{k.listener, POLLIN, 0};
  int64_t earliest = 0;
  bool any_stalled = false;
  const size_t n = pending::watch(k.listener, false, fds + first, tickets + first,
                                  pending::listener_capacity, &earliest,
                                  &any_stalled);
  *listener_ready = false;
  *interrupted = false;
  if (n > 0) {
    const int64_t left = earliest - pending::now_ms();
    if (left < timeout_ms) timeout_ms = left < 0 ? 0 : left;
    if (any_stalled && timeout_ms > pending::stall_recheck_ms)
      timeout_ms = pending::stall_recheck_ms;
  }
  const int rc = poll(fds, first + n, static_cast<int>(timeout_ms));
  if (rc < 0) {
    *interrupted = errno == EINTR;
    return -1;
  }
  *listener_ready = with_listener && (fds[0].revents != 0);
  const int64_t now = pending::now_ms();
  for (size_t i = first; i < first + n; ++i) {
    // Due: woken, stalled (looked at on every round), or out of time.
    const bool stalled = !(fds[i].events & POLLIN);
    if (fds[i].revents == 0 && !stalled && now < earliest) continue;
    pending::connection c;
    if (!pending::take(tickets[i], &c)) continue;  // another thread has it
    const bool out_of_time = now >= c.deadline_ms;
    if (fds[i].revents == 0 && !out_of_time && !c.stalled) {
      const int early = park(k, c);  // nothing new: back it goes
      if (early >= 0) return early;
      continue;
    }
    header_verdict v;
    const int fd = settle(k, c, out_of_time, true, &v);
    if (fd >= 0) return fd;
    if (fd == -2) {
      const bool progress = v.seen != c.seen;
      if (progress) expect_more_than(c.fd, v.seen, &c.saved_low_water);
      c.stalled = !progress;
      c.seen = v.seen;
      const int early = park(k, c);
      if (early >= 0) return early;
    }
  }
  return -1;
}

// Waits up to the call's brief budget for `c`'s header; the state of the
// last look is returned, with *v.
header_state wait_briefly(accept_call &k, pending::connection &c,
                          header_state state, header_verdict *v) {
  if (k.wait_budget_end < 0) k.wait_budget_end = pending::now_ms() + brief_wait_ms;
  while (state == header_state::need_more) {
    const int64_t left = k.wait_budget_end - pending::now_ms();
    if (left <= 0) break;
    if (v->seen > 0) expect_more_than(c.fd, v->seen, &c.saved_low_water);
    pollfd p{c.fd, POLLIN | POLLRDHUP, 0};
    const int rc = poll(&p, 1, static_cast<int>(left));
    const size_t before = v->seen;
    state = inspect_header(c.fd, k.config, c.listener_family, true, v);
    // Woken without a new byte: a socket whose poll() ignores SO_RCVLOWAT.
    if (rc > 0 && state == header_state::need_more && v->seen == before) break;
  }
  return state;
}

}  // namespace

int accept_connection(int listener, sockaddr *addr, socklen_t *addrlen,
                      int flags) noexcept {
  const server_config &config = server_settings();
  // Inert when disabled, and when the caller's arguments are such that the
  // kernel must answer with an error (addr without addrlen): let it.
  if (config.versions == accept_none || (addr != nullptr && addrlen == nullptr))
    return real::accept4(listener, addr, addrlen, flags);

  accept_call k{listener, addr, addrlen, flags, config};
  int listener_blocking = -1;  // unknown until something is parked
  bool looked_at_parked = false;  // a non-blocking call looks once
  for (;;) {
    if (pending::anything_parked() &&
        !(looked_at_parked && listener_blocking == 0) &&
        pending::parked_for(listener) > 0) {
      looked_at_parked = true;
      if (listener_blocking < 0) {
        const int fl = fcntl(listener, F_GETFL);
        listener_blocking = fl >= 0 && !(fl & O_NONBLOCK);
      }
      bool listener_ready = false, interrupted = false;
      const int fd = take_ready(k, listener_blocking == 1,
                                listener_blocking == 1 ? blocking_recheck_ms : 0,
                                &listener_ready, &interrupted);
      if (fd >= 0) return fd;
      if (interrupted) {
        errno = EINTR;
        return -1;
      }
      if (listener_blocking == 1 && !listener_ready) continue;
    }

    pending::connection c;
    c.listener = listener;
    c.accept_flags = flags;
    c.peer_len = sizeof c.peer;
    c.fd = real::accept4(listener, reinterpret_cast<sockaddr *>(&c.peer),
                         &c.peer_len, flags);
    if (c.fd < 0) return c.fd;
    // A fresh descriptor has no record: clear what a number reused behind
    // our back (a close that bypassed close()) may have left.
    peer_addresses::forget(c.fd);
    kept_headers::forget(c.fd);
    if (waker::is_wakeup(c.peer, c.peer_len)) {
      real::close(c.fd);
      continue;
    }
    c.listener_family = c.peer.ss_family;

    // Trust and scope: the one decision whether to read a header at all
    // (socket kind, `ports`, `allow`, activation); see connection_scope.h.
    switch (connection_scope(listener, c.peer, c.peer_len)) {
      case scope_decision::handle:
        break;
      case scope_decision::pass_through:
        copy_sockaddr_truncated(c.peer, c.peer_len, addr, addrlen);
        return c.fd;
      case scope_decision::drop:
        real::close(c.fd);
        continue;
    }

    header_verdict v;
    header_state state =
        inspect_header(c.fd, config, c.listener_family, true, &v);
    if (state == header_state::need_more && config.timeout_ms > 0)
      state = wait_briefly(k, c, state, &v);
    c.seen = v.seen;
    connection_fate fate = fate_of(state, v, config, config.timeout_ms == 0);
    if (fate == connection_fate::wait) {
      c.deadline_ms = pending::now_ms() + config.timeout_ms;
      const int early = park(k, c);
      if (early >= 0) return early;
      continue;
    }
    if (fate == connection_fate::drop) {
      if (state == header_state::need_more && v.seen == 0)
        defer_silent_clients(k, c);
      real::close(c.fd);
      continue;
    }
    return deliver(k, c, v, fate, false);
  }
}

}  // namespace proxyproto
