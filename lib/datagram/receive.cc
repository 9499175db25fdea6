#include "datagram/receive.h"

#include <errno.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstring>

#include "core/address_list.h"
#include "core/datagram.h"
#include "datagram/iov_bytes.h"
#include "datagram/reply_map.h"
#include "runtime/log.h"
#include "runtime/real_datagram_calls.h"
#include "settings/server_settings.h"

namespace proxyproto::datagram {

namespace {

// A header split over the application's iovecs is gathered here to be
// parsed; one larger than this, split so, is discarded.
constexpr size_t scatter_limit = 512;

// A buffer smaller than this may be smaller than the header: the datagram
// is received here first, and its payload copied out, so that the
// application gets as many payload bytes as its buffer holds. (Larger
// buffers receive in place; a header that outgrows one is discarded.)
constexpr size_t small_buffer = 2048;

bool sender_trusted(const server_config &config, const sockaddr_storage &from,
                    socklen_t len) noexcept {
  if (!config.allow_set) return true;
  if (from.ss_family == AF_INET && len >= sizeof(sockaddr_in))
    return address_list_contains(
        config.allow, true,
        reinterpret_cast<const uint8_t *>(
            &reinterpret_cast<const sockaddr_in *>(&from)->sin_addr));
  if (from.ss_family == AF_INET6 && len >= sizeof(sockaddr_in6))
    return address_list_contains(
        config.allow, false,
        reinterpret_cast<const uint8_t *>(
            &reinterpret_cast<const sockaddr_in6 *>(&from)->sin6_addr));
  return false;
}

// What became of one received datagram.
struct outcome {
  bool keep;
  size_t got;       // payload bytes now in the buffers
  size_t full;      // the payload's real length (MSG_TRUNC)
  const void *sender;  // what the application is told: the real sender
                       // or the caller's `claimed`
  socklen_t sender_len;
};

// The header's source as the socket's family shows it (as
// endpoint_to_sockaddr does, writing only the bytes of the sockaddr): an
// IPv4 source on an AF_INET6 socket is ::ffff:a.b.c.d.
socklen_t claimed_sender(const datagram_inspection &d, bool inet6_socket,
                         sockaddr_in6 *out) noexcept {
  if (d.family == address_family::inet && !inet6_socket) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(d.source.port);
    std::memcpy(&sin.sin_addr, d.source.address, 4);
    std::memcpy(out, &sin, sizeof sin);
    return sizeof sin;
  }
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(d.source.port);
  if (d.family == address_family::inet) {
    sin6.sin6_addr.s6_addr[10] = 0xFF;
    sin6.sin6_addr.s6_addr[11] = 0xFF;
    std::memcpy(sin6.sin6_addr.s6_addr + 12, d.source.address, 4);
  } else {
    std::memcpy(sin6.sin6_addr.s6_addr, d.source.address, 16);
  }
  *out = sin6;
  return sizeof sin6;
}

// Looks at a datagram of `length` bytes (the kernel's MSG_TRUNC answer)
// received into `span` (which holds `capacity` bytes), from `from`;
// removes its header in place. A claimed sender is written to *claimed;
// *clock is the reply map's time, read once for a batch (0: not yet).
outcome settle(const server_config &config, udp_sockets::state s,
               iov_span span, size_t capacity, size_t length,
               const sockaddr_storage &from, socklen_t from_len,
               sockaddr_in6 *claimed, uint64_t *clock) noexcept {
  outcome o;
  o.keep = false;
  const size_t have = length < capacity ? length : capacity;
  const datagram_rules rules{config.versions, config.must_use_header,
                             sender_trusted(config, from, from_len)};
  uint8_t scratch[scatter_limit];
  const uint8_t *bytes;
  size_t visible;
  if (span.count > 0 && span.iov[0].iov_len >= have) {
    bytes = static_cast<const uint8_t *>(span.iov[0].iov_base);
    visible = have;
  } else {
    visible = iov_gather(span, scratch, have < sizeof scratch ? have : sizeof scratch);
    bytes = scratch;
  }
  const datagram_inspection d = inspect_datagram(bytes, visible, length, rules);
  switch (d.verdict) {
    case datagram_verdict::deliver:
      o.keep = true;
      o.got = have;
      o.full = length;
      o.sender = &from;
      o.sender_len = from_len;
      return o;
    case datagram_verdict::strip:
      o.keep = true;
      iov_drop_front(span, d.header_length, have);
      o.got = have - d.header_length;
      o.full = length - d.header_length;
      o.sender = &from;
      o.sender_len = from_len;
      if (d.use_source) {
        o.sender = claimed;
        o.sender_len = claimed_sender(d, s == udp_sockets::in_scope_inet6, claimed);
        if (*clock == 0) *clock = reply_map::now_ms();
        reply_map::remember_at(*clock, reinterpret_cast<const sockaddr *>(claimed),
                               o.sender_len, from, from_len);
      }
      return o;
    case datagram_verdict::need_more:
      PP_DEBUG("discarded: a %zu-byte header does not fit the %zu bytes "
               "received", d.needed, visible);
      return o;
    case datagram_verdict::discard:
      if (d.reason == datagram_reason::invalid)
        PP_DEBUG("discarded: %s", defect_name(d.why));
      else
        PP_DEBUG("discarded: %s", datagram_reason_name(d.reason));
      return o;
  }
  return o;
}

// recvfrom/recvmsg's rule for the sender's address: copy what fits into
// the caller's buffer (`name`, of `capacity` bytes), report the full
// length.
void report_sender(const outcome &o, void *name, socklen_t capacity,
                   socklen_t *namelen) noexcept {
  if (name == nullptr) return;
  const socklen_t n = capacity < o.sender_len ? capacity : o.sender_len;
  if (name != o.sender) {
    // The usual lengths inline: a call to memcpy costs more than the copy.
    if (n == sizeof(sockaddr_in6)) std::memcpy(name, o.sender, sizeof(sockaddr_in6));
    else if (n == sizeof(sockaddr_in)) std::memcpy(name, o.sender, sizeof(sockaddr_in));
    else std::memcpy(name, o.sender, n);
  }
  *namelen = o.sender_len;
}

// A discarded datagram that MSG_PEEK left queued: take it off, so that the
// next peek sees the next datagram.
void drop_peeked(int fd) noexcept {
  uint8_t byte;
  real::recvfrom(fd, &byte, 0, MSG_DONTWAIT, nullptr, nullptr);
}

}  // namespace

udp_sockets::state scope(int fd, udp_sockets::state current) noexcept {
  if (current == udp_sockets::undecided_inet ||
      current == udp_sockets::undecided_inet6) {
    const int saved = errno;
    current = udp_sockets::decide(fd, current);
    errno = saved;
  }
  return current;
}

ssize_t receive(int fd, udp_sockets::state s, msghdr *msg, int flags) noexcept {
  if (msg == nullptr || (flags & MSG_ERRQUEUE) != 0)
    return real::recvmsg(fd, msg, flags);
  const server_config &config = server_settings();
  const iov_span span{msg->msg_iov, msg->msg_iovlen};
  const size_t capacity = iov_capacity(span);
  uint8_t scratch[small_buffer];
  iovec scratch_iov{scratch, sizeof scratch};
  const bool staged = capacity < small_buffer;
  for (;;) {
    sockaddr_storage from;
    msghdr m = *msg;
    m.msg_name = &from;
    m.msg_namelen = sizeof from;
    m.msg_flags = 0;
    if (staged) {
      m.msg_iov = &scratch_iov;
      m.msg_iovlen = 1;
    }
    const ssize_t n = real::recvmsg(fd, &m, flags | MSG_TRUNC);
    if (n < 0) return n;
    sockaddr_in6 claimed;
    uint64_t clock = 0;
    outcome o = staged ? settle(config, s, iov_span{&scratch_iov, 1}, sizeof scratch,
                                static_cast<size_t>(n), from, m.msg_namelen, &claimed, &clock)
                       : settle(config, s, span, capacity, static_cast<size_t>(n), from,
                                m.msg_namelen, &claimed, &clock);
    if (!o.keep) {
      if (flags & MSG_PEEK) drop_peeked(fd);
      continue;
    }
    if (staged) {
      o.got = iov_copy(span, iov_span{&scratch_iov, 1}, o.got);
      if (o.full > capacity) m.msg_flags |= MSG_TRUNC;
      else m.msg_flags &= ~MSG_TRUNC;
    }
    report_sender(o, msg->msg_name, msg->msg_namelen, &msg->msg_namelen);
    msg->msg_controllen = m.msg_controllen;
    msg->msg_flags = m.msg_flags;
    return static_cast<ssize_t>((flags & MSG_TRUNC) ? o.full : o.got);
  }
}

ssize_t receive_buffer(int fd, udp_sockets::state s, void *buf, size_t len,
                       int flags, sockaddr *addr, socklen_t *addrlen) noexcept {
  if (len < small_buffer || (flags & MSG_ERRQUEUE) != 0) {
    // Staged (see receive()), or not a datagram at all.
    iovec iov{buf, len};
    msghdr msg{};
    msg.msg_name = addr;
    msg.msg_namelen = addr != nullptr ? *addrlen : 0;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    const ssize_t n = receive(fd, s, &msg, flags);
    if (n >= 0 && addr != nullptr) *addrlen = msg.msg_namelen;
    return n;
  }
  const server_config &config = server_settings();
  iovec iov{buf, len};
  const iov_span span{&iov, 1};
  for (;;) {
    sockaddr_storage from;
    socklen_t from_len = sizeof from;
    const ssize_t n = real::recvfrom(fd, buf, len, flags | MSG_TRUNC,
                                     reinterpret_cast<sockaddr *>(&from), &from_len);
    if (n < 0) return n;
    sockaddr_in6 claimed;
    uint64_t clock = 0;
    const outcome o = settle(config, s, span, len, static_cast<size_t>(n), from,
                             from_len, &claimed, &clock);
    if (!o.keep) {
      if (flags & MSG_PEEK) drop_peeked(fd);
      continue;
    }
    if (addr != nullptr) report_sender(o, addr, *addrlen, addrlen);
    return static_cast<ssize_t>((flags & MSG_TRUNC) ? o.full : o.got);
  }
}

int receive_batch(int fd, udp_sockets::state s, mmsghdr *msgs, unsigned vlen,
                  int flags, timespec *timeout) noexcept {
  if (msgs == nullptr || (flags & MSG_ERRQUEUE) != 0)
    return real::recvmmsg(fd, msgs, vlen, flags, timeout);
  if (vlen == 0) return real::recvmmsg(fd, msgs, vlen, flags, timeout);
  // A peek cannot take a bad datagram out of the middle of a batch: it
  // returns the first good datagram alone.
  if (flags & MSG_PEEK) {
    const ssize_t n = receive(fd, s, &msgs[0].msg_hdr, flags & ~MSG_WAITFORONE);
    if (n < 0) return -1;
    msgs[0].msg_len = static_cast<unsigned>(n);
    return 1;
  }
  if (vlen > UIO_MAXIOV) vlen = UIO_MAXIOV;  // the kernel's own cap
  const server_config &config = server_settings();
  const int saved_errno = errno;
  constexpr unsigned chunk = 64;
  // The kernel receives into the caller's own messages: no copy of them
  // to make. The real sender is needed whole, and in a buffer that no
  // other message of the batch shares (an application may give them all
  // the same one): when the caller's name buffers are not such (null, too
  // short, or not one after the other), each message gets one of `names`
  // for the call. The caller_* arrays keep what the kernel overwrites in a
  // message and the caller reads back: the capacities to report into, and
  // what a message that is not returned gets back. (msg_len and msg_flags
  // are only ever written, by the kernel as by this function.)
  socklen_t caller_namelen[chunk];
  size_t caller_controllen[chunk];
  void *caller_name[chunk];  // only when !in_place: else the kernel keeps it
  sockaddr_storage names[chunk];
  uint64_t clock = 0;
  unsigned got = 0;
  while (got < vlen) {
    const unsigned want = vlen - got < chunk ? vlen - got : chunk;
    mmsghdr *slots = msgs + got;
    // One pass, without branches: it runs for every message asked for. A
    // buffer starting below `free_from` (a null one is below 1) or shorter
    // than a sockaddr_in6 sets the sign bit of `unfit` (user addresses
    // and lengths are far below 2^63 and 2^31).
    uint64_t unfit = 0;
    uint64_t free_from = 1;
#pragma GCC unroll 4
    for (unsigned i = 0; i < want; ++i) {
      const msghdr &h = slots[i].msg_hdr;
      const auto at = reinterpret_cast<uintptr_t>(h.msg_name);
      caller_namelen[i] = h.msg_namelen;
      caller_controllen[i] = h.msg_controllen;
      unfit |= (at - free_from) |
               static_cast<uint64_t>(static_cast<int64_t>(
                   static_cast<int32_t>(h.msg_namelen - sizeof(sockaddr_in6))));
      free_from = at + sizeof(sockaddr_in6);
    }
    const bool in_place = (unfit >> 63) == 0;
    if (!in_place) [[unlikely]] {
      for (unsigned i = 0; i < want; ++i) {
        caller_name[i] = slots[i].msg_hdr.msg_name;
        slots[i].msg_hdr.msg_name = &names[i];
        slots[i].msg_hdr.msg_namelen = sizeof names[i];
      }
    }
    int call_flags = flags | MSG_TRUNC;
    if (got > 0 && (flags & MSG_WAITFORONE)) call_flags |= MSG_DONTWAIT;
    const int n = real::recvmmsg(fd, slots, want, call_flags, timeout);
    const unsigned received = n > 0 ? static_cast<unsigned>(n) : 0;
    unsigned kept = 0;
    for (unsigned i = 0; i < received; ++i) {
      msghdr &m = slots[i].msg_hdr;
      const iov_span span{m.msg_iov, m.msg_iovlen};
      // A UDP socket's sender is a sockaddr_in or sockaddr_in6: in place,
      // the caller's buffer holds at least the latter.
      if (in_place) std::memcpy(&names[i], m.msg_name, sizeof(sockaddr_in6));
      sockaddr_in6 claimed;
      outcome o = settle(config, s, span, iov_capacity(span), slots[i].msg_len,
                         names[i], m.msg_namelen, &claimed, &clock);
      if (!o.keep) continue;
      mmsghdr &out = slots[kept];
      void *const name = in_place ? out.msg_hdr.msg_name : caller_name[kept];
      size_t control = m.msg_controllen;
      int msg_flags = m.msg_flags;
      if (kept != i) {
        // An earlier datagram was discarded: this one moves into its slot.
        const iov_span to{out.msg_hdr.msg_iov, out.msg_hdr.msg_iovlen};
        const size_t copied = iov_copy(to, span, o.got);
        if (copied < o.got) msg_flags |= MSG_TRUNC;
        o.got = copied;
        if (control > caller_controllen[kept]) {
          control = caller_controllen[kept];
          msg_flags |= MSG_CTRUNC;
        }
        if (control > 0) std::memmove(out.msg_hdr.msg_control, m.msg_control, control);
      }
      out.msg_hdr.msg_name = name;
      out.msg_hdr.msg_namelen = caller_namelen[kept];
      report_sender(o, name, caller_namelen[kept], &out.msg_hdr.msg_namelen);
      out.msg_hdr.msg_controllen = control;
      out.msg_hdr.msg_flags = msg_flags;
      out.msg_len = static_cast<unsigned>((flags & MSG_TRUNC) ? o.full : o.got);
      ++kept;
    }
    // The messages not returned get back what the kernel or the names
    // changed.
    const unsigned touched = in_place ? received : want;
    for (unsigned j = kept; j < touched; ++j) {
      if (!in_place) slots[j].msg_hdr.msg_name = caller_name[j];
      slots[j].msg_hdr.msg_namelen = caller_namelen[j];
      slots[j].msg_hdr.msg_controllen = caller_controllen[j];
    }
    if (n < 0) {
      if (got == 0) return -1;
      errno = saved_errno;
      break;  // what was received is returned; the error comes next time
    }
    got += kept;
    // Nothing discarded and fewer than asked: the kernel's own reason to
    // stop (queue empty, MSG_WAITFORONE, timeout) stands.
    if (kept == received && received < want) break;
  }
  return static_cast<int>(got);
}

}  // namespace proxyproto::datagram
