// The PROXY protocol header as the core sees it: plain data, no sockets.
//
// Everything here follows haproxy:doc/proxy-protocol.txt; section numbers in
// comments (§2.1 for v1, §2.2 for v2) refer to that document.
#pragma once

#include <cstddef>
#include <cstdint>

namespace proxyproto {

// Which versions a receiver recognises. The numeric values are the ones of
// LIBPROXYPROTO_VERSION, so the setting is the mask.
enum version_mask : unsigned {
  accept_none = 0,
  accept_v1 = 1,
  accept_v2 = 2,
  accept_v1_v2 = 3,
};

enum class parse_status : uint8_t {
  need_more,  // the bytes so far are a strict prefix of an enabled header
  not_proxy,  // no enabled version's signature: the stream carries no header
  complete,   // a valid header of `length` bytes
  invalid,    // starts like an enabled header, but breaks a rule of the spec
};

// Why a header is invalid: one value per rule, so that tests can tell which
// rule fired and debug logs can name it.
enum class defect : uint8_t {
  none,
  v1_no_crlf_in_107_bytes,  // §2.1: CRLF must occur within 107 bytes
  v1_lone_cr_or_lf,         // §2.1: a single CR or LF does not end the line
  v1_bad_space,             // §2.1: exactly one space between fields
  v1_bad_protocol,          // §2.1: TCP4, TCP6 or UNKNOWN only
  v1_bad_source_address,
  v1_bad_destination_address,
  v1_bad_source_port,
  v1_bad_destination_port,
  v1_trailing_bytes,        // something between the last port and CRLF
  v2_bad_version,           // §2.2: the signature, then any version but 2
  v2_bad_command,           // §2.2: LOCAL (0) and PROXY (1) only
  v2_bad_family,            // §2.2: the seven listed family/transport bytes
  v2_length_too_short,      // §2.2: len below the family's address block
  v2_tlv_truncated,         // §2.2: a TLV runs past the end of the header
  v2_crc32c_bad_length,     // §2.2.3: the checksum TLV holds 4 bytes
  v2_crc32c_repeated,       // more than one checksum TLV: ambiguous
  v2_crc32c_mismatch,       // §2.2.3: mismatch makes the connection invalid
  v2_unique_id_too_long,    // §2.2.5: at most 128 bytes
  v2_ssl_truncated,         // §2.2.6: client + verify fields, then sub-TLVs
};

// A short, stable, lower-case name for a defect ("v2_bad_family").
const char *defect_name(defect d) noexcept;

enum class command : uint8_t {
  local,  // v2 LOCAL: use the real connection endpoints
  proxy,  // v1 lines and v2 PROXY
};

enum class address_family : uint8_t {
  unspec,  // v1 UNKNOWN, v2 AF_UNSPEC (0x0_)
  inet,    // v1 TCP4, v2 0x1_
  inet6,   // v1 TCP6, v2 0x2_
  unix_domain,  // v2 0x3_ (AF_UNIX)
};

enum class transport : uint8_t {
  unspec,  // v2 0x_0
  stream,  // v1 (always TCP), v2 0x_1
  dgram,   // v2 0x_2
};

// An IP address and port, in network byte order as on the wire. For inet only
// the first 4 bytes of `address` are meaningful.
struct ip_endpoint {
  uint8_t address[16];
  uint16_t port;  // host byte order
};

// A parsed header. Pointers point into the buffer given to the parser and
// are valid only as long as it is.
struct header {
  uint8_t version;  // 1 or 2
  command cmd;
  address_family family;
  transport proto;
  ip_endpoint source;       // meaningful for inet and inet6
  ip_endpoint destination;  // meaningful for inet and inet6
  const uint8_t *unix_source;       // 108 bytes, family unix_domain only
  const uint8_t *unix_destination;  // 108 bytes, family unix_domain only
  const uint8_t *tlvs;  // v2: the bytes after the address block
  size_t tlvs_length;
  size_t length;        // the whole header, signature to last TLV byte
};

struct parse_result {
  parse_status status;
  defect why;     // set when status is invalid
  size_t length;  // bytes of the header when complete; 0 otherwise
};

// §2.1 maximum v1 line, CRLF included.
inline constexpr size_t v1_max_length = 107;
// §2.2: 16 fixed bytes, then up to 65535 bytes of addresses and TLVs.
inline constexpr size_t v2_fixed_length = 16;
inline constexpr size_t v2_max_length = v2_fixed_length + 65535;
// The bytes needed to tell a v1, v2 or no header apart (v2's signature plus
// its version/command byte).
inline constexpr size_t detect_length = 13;

// Parses the start of a stream. `versions` selects what is recognised; a
// signature of a version not in the mask is "not_proxy". On `complete`, *out
// describes the header and result.length bytes belong to it; on any other
// status *out is unspecified. Never reads past buf[len - 1].
parse_result parse_header(const uint8_t *buf, size_t len, unsigned versions,
                          header *out) noexcept;

// The individual parsers, for callers that already know the version.
parse_result parse_v1(const uint8_t *buf, size_t len, header *out) noexcept;
parse_result parse_v2(const uint8_t *buf, size_t len, header *out) noexcept;

// parse_v1 without its quick reading of well-formed lines: the careful
// reading alone, which gives every outcome its rule. parse_v1 must answer
// exactly as this does for every input; the fuzz invariants hold it to that.
parse_result parse_v1_careful(const uint8_t *buf, size_t len,
                              header *out) noexcept;

// parse_v2 without its direct reading of the usual header (PROXY, TCP over
// IPv4 or IPv6, no TLV): every rule of §2.2 applied in order. parse_v2 must
// answer exactly as this does; the unit tests and fuzz invariants hold it
// to that.
parse_result parse_v2_careful(const uint8_t *buf, size_t len,
                              header *out) noexcept;

// The total size of a v2 header that starts with buf[0..len), known once
// its 16 fixed bytes have arrived; 0 before that or when buf does not start
// with the v2 signature. Lets a reader size its buffer for a header larger
// than its first read. (A v1 line never exceeds v1_max_length.)
size_t v2_total_length(const uint8_t *buf, size_t len) noexcept;

}  // namespace proxyproto
