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
header_state inspect_header(int fd, const server_config &config,
                            int listener_family, bool consume,
                            header_verdict *out) noexcept;

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
