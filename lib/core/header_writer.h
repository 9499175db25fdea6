// Writes PROXY protocol headers into a caller's buffer: the sender's side of
// haproxy:doc/proxy-protocol.txt. No allocation, no sockets.
#pragma once

#include <cstddef>
#include <cstdint>

#include "proxy_header.h"

namespace proxyproto {

// What a sender says. family inet or inet6 with both endpoints of that family
// (see map_to_common_family), or unspec for v1 UNKNOWN / v2 AF_UNSPEC.
struct header_fields {
  command cmd;
  address_family family;
  ip_endpoint source;
  ip_endpoint destination;
  const uint8_t *tlvs;  // v2 only: TLV bytes appended after the addresses
  size_t tlvs_length;
  bool add_crc32c;      // v2 only: append a PP2_TYPE_CRC32C TLV, filled in
  bool datagram;        // v2 only: UDP families (0x12, 0x22), not TCP's
};

// §2.1. Writes "PROXY TCP4 ...\r\n", "PROXY TCP6 ...\r\n" or
// "PROXY UNKNOWN\r\n" (unspec family, or a LOCAL command, which v1 lacks).
// Returns the length written, or 0 when `capacity` is too small.
size_t write_v1(const header_fields &fields, uint8_t *out,
                size_t capacity) noexcept;

// §2.2. Returns the length written, or 0 when `capacity` is too small or the
// header would exceed the 65535 bytes that its length field can describe.
size_t write_v2(const header_fields &fields, uint8_t *out,
                size_t capacity) noexcept;

// The largest v1 and typical v2 header (no TLVs) this writer produces.
inline constexpr size_t v1_write_capacity = v1_max_length;
inline constexpr size_t v2_address_write_capacity = v2_fixed_length + 36;

}  // namespace proxyproto
