// The LIBPROXYPROTO_TLVS setting of the connect library: TLVs to send, as
// text. Pure: parses into the caller's buffer.
//
//   LIBPROXYPROTO_TLVS = ITEM[,ITEM]...
//   ITEM  = crc32c                 append a PP2_TYPE_CRC32C, computed
//         | aws_vpce_id:TEXT       0xEA, subtype 0x01, then TEXT
//         | azure_linkid:NUMBER    0xEE, subtype 0x01, 32-bit little-endian
//         | gcp_psc_id:NUMBER      0xE0, 64-bit big-endian
//         | TYPE:TEXT              any type, the bytes of TEXT as its value
//   TYPE  = a name (alpn, authority, unique_id, netns, noop, ...; see
//           tlv_names.h), or a number: 0xHH in hex or 0-255 in decimal
//   TEXT  = bytes; %HH stands for the byte HH (so %2C is a comma and %25 a
//           percent sign, and %01vpce-1 starts with the byte 0x01)
//
// Example: 0xEA:%01vpce-123,authority:example.com,crc32c
#pragma once

#include <cstddef>
#include <cstdint>

namespace proxyproto {

struct tlv_setting {
  size_t length;    // TLV bytes written
  bool add_crc32c;  // "crc32c" was given
  size_t error_at;  // on failure: offset in the text of the bad item
};

// Parses `text` (NUL-terminated) into out[0..capacity). False when the text
// is malformed or the TLVs do not fit.
bool parse_tlv_setting(const char *text, uint8_t *out, size_t capacity,
                       tlv_setting *result) noexcept;

}  // namespace proxyproto
