// CRC-32C (Castagnoli), as RFC 4960 Appendix B computes it, for the
// PP2_TYPE_CRC32C TLV of haproxy:doc/proxy-protocol.txt §2.2.3.
#pragma once

#include <cstddef>
#include <cstdint>

namespace proxyproto {

// CRC-32C of buf[0..len). `skip_offset`/`skip_length` name a range that is
// taken as zero bytes (the checksum field itself); pass skip_length 0 for none.
uint32_t crc32c(const uint8_t *buf, size_t len, size_t skip_offset = 0,
                size_t skip_length = 0) noexcept;

}  // namespace proxyproto
