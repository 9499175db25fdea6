// The byte strings that open each header version.
#pragma once

#include <cstdint>

namespace proxyproto {

// §2.2: 12 bytes, with a NUL in 5th position: never treat as a C string.
inline constexpr uint8_t v2_signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                             0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
// §2.1: "PROXY". The spec's detection looks at these five bytes only; the
// single space that follows is part of the v1 grammar.
inline constexpr uint8_t v1_signature[5] = {'P', 'R', 'O', 'X', 'Y'};

}  // namespace proxyproto
