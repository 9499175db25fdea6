// Walking the Type-Length-Value area of a v2 header (§2.2 of
// haproxy:doc/proxy-protocol.txt). Used by the parser to validate and by
// readers to iterate.
#pragma once

#include <cstddef>
#include <cstdint>

namespace proxyproto {

// Registered types (§2.2), plus the cloud providers' custom ones.
enum tlv_type : uint8_t {
  pp2_type_alpn = 0x01,
  pp2_type_authority = 0x02,
  pp2_type_crc32c = 0x03,
  pp2_type_noop = 0x04,
  pp2_type_unique_id = 0x05,
  pp2_type_ssl = 0x20,
  pp2_subtype_ssl_version = 0x21,
  pp2_subtype_ssl_cn = 0x22,
  pp2_subtype_ssl_cipher = 0x23,
  pp2_subtype_ssl_sig_alg = 0x24,
  pp2_subtype_ssl_key_alg = 0x25,
  pp2_type_netns = 0x30,
};

inline constexpr size_t tlv_header_length = 3;
inline constexpr size_t unique_id_max_length = 128;      // §2.2.5
inline constexpr size_t ssl_fixed_length = 5;            // client + verify

struct tlv {
  uint8_t type;
  const uint8_t *value;
  size_t length;
};

// A cursor over a TLV area. next() yields each TLV in order; it stops at the
// end or at the first TLV that does not fit, and truncated() tells which.
class tlv_cursor {
 public:
  constexpr tlv_cursor(const uint8_t *area, size_t length) noexcept
      : pos_(area), end_(area + length) {}
  bool next(tlv *out) noexcept;
  constexpr bool truncated() const noexcept { return truncated_; }

 private:
  const uint8_t *pos_;
  const uint8_t *end_;
  bool truncated_ = false;
};

}  // namespace proxyproto
