// Reads the PROXY header off an accepted socket without ever blocking: the
// only code that does socket I/O on behalf of the parser. It never consumes
// a byte that is not part of a complete, valid header.
//
// A header may arrive in pieces, so the reader is incremental: each call
// peeks at what is queued and says how far the connection has come. The
// caller (the accept flow) decides how long to wait and where: see
// interpose_accept.cc and pending_pool.h.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

#include "accept/consumed_header.h"
#include "core/proxy_header.h"
#include "core/sockaddr_convert.h"
#include "core/usual_header.h"
#include "runtime/log.h"
#include "runtime/real_datagram_calls.h"
#include "settings/server_settings.h"

namespace proxyproto {

enum class header_state {
  complete,   // a valid header; consumed when asked to (see inspect_header)
  need_more,  // a strict prefix of a header so far, or nothing yet
  not_proxy,  // the stream starts with data that is no enabled header
  invalid,    // starts like a header but breaks a rule of the specification
  hangup,     // the peer shut down its side before the header was complete
  error,      // the socket failed, or no memory for a large header
};

struct header_verdict {
  size_t seen = 0;          // bytes queued at this look (need_more, hangup)
  bool has_source = false;  // complete with a usable TCP source
  sockaddr_storage source;  // the address to report when has_source
  socklen_t source_len = 0;
};

// Looks at the start of `fd`'s stream with recv(MSG_PEEK | MSG_DONTWAIT).
// With `consume`, a complete header is removed with one recv() of exactly
// its length; without, nothing is ever removed (a caller that only asks
// whether a connection is ready). `listener_family` decides how an IPv4
// source is presented (endpoint_to_sockaddr).
namespace detail {

// Enough for any v1 line and the usual v2 header with a few TLVs.
inline constexpr size_t stack_buffer_size = 256;

// The one place where a complete header has left the socket: `bytes` holds
// exactly its `length` bytes, and `h` points into them. Anything that must
// see every consumed header (its TLVs, say) belongs here.
__attribute__((always_inline)) inline void header_consumed(
    int fd, const uint8_t *bytes, size_t length, const header &h, int listener_family,
    header_verdict *out) noexcept {
  on_header_consumed(fd, bytes, length, h);  // kept, logged decoded
  // §2.1 UNKNOWN, §2.2 LOCAL and AF_UNSPEC/AF_UNIX/DGRAM: consumed, but the
  // real endpoints stand, as for a direct connection.
  if (h.cmd != command::proxy || h.proto != transport::stream ||
      (h.family != address_family::inet && h.family != address_family::inet6)) {
    PP_DEBUG("v%u header without a TCP source: real peer kept", h.version);
    return;
  }
  out->source_len =
      endpoint_to_sockaddr(h.family, h.source, listener_family, &out->source);
  out->has_source = out->source_len != 0;
}

// After a first read of `got` bytes of a `length`-byte header that is
// queued whole (interrupted, or short): reads the rest.
bool consume_rest(int fd, uint8_t *buf, size_t length, ssize_t got) noexcept;

// Removes a `length`-byte header that a peek found queued whole, reading
// it into `buf`, where it was peeked: false when the socket failed.
__attribute__((always_inline)) inline bool consume_whole(int fd, uint8_t *buf,
                                                          size_t length) noexcept {
  const ssize_t got = real::recv(fd, buf, length, MSG_DONTWAIT);
  if (got == static_cast<ssize_t>(length)) [[likely]] return true;
  if (consume_rest(fd, buf, length, got)) return true;
  PP_DEBUG("could not read the %zu header bytes", length);
  return false;
}

// Every look after the first one, and every first look that did not find a
// whole header: `first` holds the `n` bytes (or recv's -1) that the first
// peek returned into a buffer of stack_buffer_size bytes.
header_state inspect_further(int fd, const server_config &config, int listener_family,
                             bool consume_header, header_verdict *out, uint8_t *first,
                             ssize_t n) noexcept;

}  // namespace detail

// The usual case, a whole header in the first peek, is read inline,
// without the general loop: one peek, the parser, one exact read; the
// rest is detail::inspect_further's. The usual v2 header and v1 line go
// straight to the address they report, unless a consumed header is wanted
// decoded (settings/header_features.h): the parser's header is then built.
__attribute__((always_inline)) inline header_state inspect_header(
    int fd, const server_config &config, int listener_family, bool consume,
    header_verdict *out) noexcept {
  uint8_t first[detail::stack_buffer_size];
  out->has_source = false;
  out->source_len = 0;
  const ssize_t n = real::recv(fd, first, sizeof first, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0 && consume) [[likely]] {
    const size_t queued = static_cast<size_t>(n);
    if (!consumed_headers_wanted()) [[likely]] {
      size_t total = 0;
      if (config.versions & accept_v2)
        total = usual_v2_stream_source(first, queued, listener_family, &out->source,
                                       &out->source_len);
      if (total == 0 && (config.versions & accept_v1))
        total = usual_v1_stream_source(first, queued, listener_family, &out->source,
                                       &out->source_len);
      if (total != 0) [[likely]] {
        out->seen = queued;
        if (!detail::consume_whole(fd, first, total)) return header_state::error;
        out->has_source = true;
        return header_state::complete;
      }
    }
    header h;
    const parse_result r = parse_header(first, queued, config.versions, &h);
    if (r.status == parse_status::complete) [[likely]] {
      out->seen = queued;
      // The same bytes, read into the buffer they were peeked into (`h`
      // points into it).
      if (!detail::consume_whole(fd, first, r.length)) return header_state::error;
      detail::header_consumed(fd, first, r.length, h, listener_family, out);
      return header_state::complete;
    }
  }
  return detail::inspect_further(fd, config, listener_family, consume, out, first, n);
}

// What becomes of a connection, given the last look at it.
enum class connection_fate {
  proxied,    // header consumed, report verdict.source
  real_peer,  // header consumed without an address, or no header: real peer
  drop,       // close it unseen
  wait,       // not decided yet: look again when more bytes arrive
};

// The rules of LIBPROXYPROTO_TIMEOUT and LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER
// in one place. `deadline_passed`: the connection's time is up (or its slot
// is needed), so need_more is settled: nothing received counts as no header
// (passed through, or dropped under must-use), a partial header is dropped.
// Logs the decision under LIBPROXYPROTO_DEBUG. A complete header, the
// usual case, is answered inline; every other state out of line, by
// fate_of_unsettled, which names its reason in the debug log.
connection_fate fate_of_unsettled(header_state state, const header_verdict &verdict,
                                  const server_config &config,
                                  bool deadline_passed) noexcept;
inline connection_fate fate_of(header_state state, const header_verdict &verdict,
                               const server_config &config,
                               bool deadline_passed) noexcept {
  if (state == header_state::complete) [[likely]]
    return verdict.has_source ? connection_fate::proxied : connection_fate::real_peer;
  return fate_of_unsettled(state, verdict, config, deadline_passed);
}

// SO_RCVLOWAT as a progress detector: peeked bytes stay queued, so a plain
// poll() would report the socket readable forever. Raising the low-water
// mark to one byte more than seen makes poll() on a TCP socket wake only on
// progress (or hang-up). Other families ignore it in poll(); the callers
// then fall back to looking again after a pause (see pending_pool.cc).
struct low_water {
  int original = 0;  // read from the socket when first changed
  bool changed = false;
};
void expect_more_than(int fd, size_t seen, low_water *saved) noexcept;
void restore_low_water(int fd, low_water *saved) noexcept;

}  // namespace proxyproto
