// One UDP datagram as a receiver in scope sees it: does it carry a PROXY
// header, and what becomes of it. Pure: no sockets, no state between
// datagrams.
//
// The specification's rules for UDP: the header and its payload travel in
// one datagram, a sender never splits a header over datagrams, and the
// receiver parses each datagram on its own. Only version 2 is defined for
// UDP (families 0x12, UDP over IPv4, and 0x22, UDP over IPv6), so a
// datagram that starts with "PROXY " is payload like any other: a v1 line
// is never looked for on UDP (the §2 rule "MUST not try to guess" applies:
// nothing but the v2 signature makes a header).
#pragma once

#include <cstddef>
#include <cstdint>

#include "proxy_header.h"

namespace proxyproto {

enum class datagram_verdict : uint8_t {
  deliver,    // no header: the application gets the datagram as it came
  strip,      // a valid v2 header of header_length bytes opens it: remove
  discard,    // never delivered, not a byte of it
  need_more,  // the caller's bytes end before the header does, although the
              // datagram is longer: inspect again with `needed` bytes
};

// Why a datagram is discarded (or, for `deliver` and `strip`, none).
enum class datagram_reason : uint8_t {
  none,
  untrusted_under_must_use,  // real sender outside `allow`, header required
  no_header_under_must_use,  // no v2 signature, header required
  truncated,        // a prefix of the 16 fixed bytes, and nothing after it
  bad_version,      // the v2 signature, then a version other than 2
  longer_than_datagram,      // its length field runs past the datagram's end
  invalid,          // breaks a rule of §2.2; `why` says which
};

// What the receiver knows besides the bytes.
struct datagram_rules {
  unsigned versions;     // the version mask; without accept_v2 nothing is
                         // a header on UDP
  bool must_use_header;  // LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER
  bool sender_trusted;   // the real sender is in `allow`
};

struct datagram_inspection {
  datagram_verdict verdict;
  datagram_reason reason;
  defect why;            // for reason invalid
  size_t header_length;  // strip: bytes to remove from the front
  size_t needed;         // need_more: bytes to look at (<= the datagram)
  // strip: true for a PROXY header of a UDP family (0x12, 0x22), whose
  // source becomes the sender the application sees; LOCAL and every other
  // family keep the real sender.
  bool use_source;
  address_family family;  // inet or inet6 when use_source
  ip_endpoint source;
  ip_endpoint destination;
};

// Inspects a datagram of `datagram_length` bytes whose first `have` bytes
// (have <= datagram_length) are buf[0..have): a receiver whose buffer was
// smaller than the datagram learns the real length from the kernel
// (MSG_TRUNC) and may get `need_more`. Never reads past buf[have - 1].
datagram_inspection inspect_datagram(const uint8_t *buf, size_t have,
                                     size_t datagram_length,
                                     const datagram_rules &rules) noexcept;

// The largest v2 header a datagram can open with: every byte a UDP header
// may have, so that a buffer this large (plus the payload) always settles a
// datagram.
inline constexpr size_t datagram_header_max = v2_max_length;

const char *datagram_reason_name(datagram_reason r) noexcept;

}  // namespace proxyproto
