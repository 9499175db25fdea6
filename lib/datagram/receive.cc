#include "datagram/receive.h"

#include <errno.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstring>

#include "core/address_list.h"
#include "core/datagram.h"
#include "core/sockaddr_convert.h"
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
  sockaddr_storage sender;  // what the application is told
  socklen_t sender_len;
};

// Looks at a datagram of `length` bytes (the kernel's MSG_TRUNC answer)
// received into `span`, from `from`; removes its header in place.
outcome settle(const server_config &config, udp_sockets::state s,
               iov_span span, size_t length, const sockaddr_storage &from,
               socklen_t from_len) noexcept {
  outcome o{};
  const size_t capacity = iov_capacity(span);
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
      std::memcpy(&o.sender, &from, sizeof from);
      o.sender_len = from_len;
      return o;
    case datagram_verdict::strip:
      o.keep = true;
      iov_drop_front(span, d.header_length, have);
      o.got = have - d.header_length;
      o.full = length - d.header_length;
      o.sender_len = 0;
      if (d.use_source)
        o.sender_len = endpoint_to_sockaddr(
            d.family, d.source, s == udp_sockets::in_scope_inet6 ? AF_INET6 : AF_INET,
            &o.sender);
      if (o.sender_len != 0) {
        reply_map::remember(reinterpret_cast<const sockaddr *>(&o.sender),
                            o.sender_len, from, from_len);
      } else {
        std::memcpy(&o.sender, &from, sizeof from);
        o.sender_len = from_len;
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

// recvfrom/recvmsg's rule for the sender's address: copy what fits, report
// the full length.
void report_sender(const outcome &o, msghdr *msg) noexcept {
  if (msg->msg_name == nullptr) return;
  copy_sockaddr_truncated(o.sender, o.sender_len,
                          static_cast<sockaddr *>(msg->msg_name),
                          &msg->msg_namelen);
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
    outcome o = settle(config, s, staged ? iov_span{&scratch_iov, 1} : span,
                       static_cast<size_t>(n), from, m.msg_namelen);
    if (!o.keep) {
      if (flags & MSG_PEEK) drop_peeked(fd);
      continue;
    }
    if (staged) {
      o.got = iov_copy(span, iov_span{&scratch_iov, 1}, o.got);
      if (o.full > capacity) m.msg_flags |= MSG_TRUNC;
      else m.msg_flags &= ~MSG_TRUNC;
    }
    report_sender(o, msg);
    msg->msg_controllen = m.msg_controllen;
    msg->msg_flags = m.msg_flags;
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
  sockaddr_storage names[chunk];
  mmsghdr work[chunk];
  unsigned got = 0;
  while (got < vlen) {
    const unsigned want = vlen - got < chunk ? vlen - got : chunk;
    for (unsigned i = 0; i < want; ++i) {
      work[i].msg_hdr = msgs[got + i].msg_hdr;
      work[i].msg_hdr.msg_name = &names[i];
      work[i].msg_hdr.msg_namelen = sizeof names[i];
      work[i].msg_hdr.msg_flags = 0;
      work[i].msg_len = 0;
    }
    int call_flags = flags | MSG_TRUNC;
    if (got > 0 && (flags & MSG_WAITFORONE)) call_flags |= MSG_DONTWAIT;
    const int n = real::recvmmsg(fd, work, want, call_flags, timeout);
    if (n < 0) {
      if (got == 0) return -1;
      errno = saved_errno;
      break;  // what was received is returned; the error comes next time
    }
    unsigned kept = 0;
    for (unsigned i = 0; i < static_cast<unsigned>(n); ++i) {
      msghdr &m = work[i].msg_hdr;
      const iov_span span{m.msg_iov, m.msg_iovlen};
      outcome o = settle(config, s, span, work[i].msg_len, names[i], m.msg_namelen);
      if (!o.keep) continue;
      mmsghdr &out = msgs[got + kept];
      if (&out != &msgs[got + i]) {
        // An earlier datagram was discarded: this one moves into its slot.
        const iov_span to{out.msg_hdr.msg_iov, out.msg_hdr.msg_iovlen};
        const size_t copied = iov_copy(to, span, o.got);
        if (copied < o.got) m.msg_flags |= MSG_TRUNC;
        o.got = copied;
        size_t control = m.msg_controllen;
        if (control > out.msg_hdr.msg_controllen) {
          control = out.msg_hdr.msg_controllen;
          m.msg_flags |= MSG_CTRUNC;
        }
        if (control > 0) std::memmove(out.msg_hdr.msg_control, m.msg_control, control);
        m.msg_controllen = control;
      }
      report_sender(o, &out.msg_hdr);
      out.msg_hdr.msg_controllen = m.msg_controllen;
      out.msg_hdr.msg_flags = m.msg_flags;
      out.msg_len = static_cast<unsigned>((flags & MSG_TRUNC) ? o.full : o.got);
      ++kept;
    }
    got += kept;
    // Nothing discarded and fewer than asked: the kernel's own reason to
    // stop (queue empty, MSG_WAITFORONE, timeout) stands.
    if (kept == static_cast<unsigned>(n) && static_cast<unsigned>(n) < want) break;
  }
  return static_cast<int>(got);
}

}  // namespace proxyproto::datagram
