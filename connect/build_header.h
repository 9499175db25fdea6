// The header the test client puts in front of a TCP connection or of a
// UDP datagram, from its settings and the peer it is sent to.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

#include "connect_config.h"

namespace proxyproto {

// The most bytes build_header writes: addresses, the TLVs of
// LIBPROXYPROTO_TLVS and a CRC32C TLV (7 bytes).
inline constexpr size_t connect_header_capacity = 16 + 36 + tlvs_capacity + 7;

// Writes the header for a connection or datagram to `peer` into `out`.
// `datagram` selects v2's UDP families (0x12, 0x22) and always writes v2:
// only v2 is defined for UDP. Returns the length, or 0 when nothing can be
// written.
size_t build_header(const connect_config &config, const sockaddr *peer,
                    socklen_t peer_len, bool datagram, uint8_t *out,
                    size_t capacity) noexcept;

}  // namespace proxyproto
