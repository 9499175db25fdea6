// Names of TLV types: for logs, the inspection tool's output and the
// LIBPROXYPROTO_TLVS setting. One table, so all three agree.
#pragma once

#include <cstddef>
#include <cstdint>

namespace proxyproto {

// Custom types of the cloud providers (§2.2.7 reserves 0xE0-0xEF).
inline constexpr uint8_t pp2_type_gcp = 0xE0;    // PSC connection ID
inline constexpr uint8_t pp2_type_aws = 0xEA;    // subtype 0x01: VPCE ID
inline constexpr uint8_t pp2_type_azure = 0xEE;  // subtype 0x01: LinkID
inline constexpr uint8_t pp2_subtype_ssl_group = 0x26;
inline constexpr uint8_t pp2_subtype_ssl_sig_scheme = 0x27;
inline constexpr uint8_t pp2_subtype_ssl_client_cert = 0x28;

// "alpn", "authority", "crc32c", "noop", "unique_id", "ssl", "ssl_version",
// "ssl_cn", "ssl_cipher", "ssl_sig_alg", "ssl_key_alg", "ssl_group",
// "ssl_sig_scheme", "ssl_client_cert", "netns", "gcp", "aws", "azure"; null
// for other types.
const char *tlv_type_name(uint8_t type) noexcept;

// The reverse, for a name of `length` bytes.
bool tlv_type_from_name(const char *name, size_t length, uint8_t *type) noexcept;

}  // namespace proxyproto
