// The byte strings that open each header version, and how much of one a
// buffer holds. The comparisons are written out (no memcmp call): they run
// on every accepted connection, and libc's memcmp costs a call and a
// dispatch for a dozen bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace proxyproto {

// §2.2: 12 bytes, with a NUL in 5th position: never treat as a C string.
inline constexpr uint8_t v2_signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                             0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
// §2.1: "PROXY". The spec's detection looks at these five bytes only; the
// single space that follows is part of the v1 grammar.
inline constexpr uint8_t v1_signature[5] = {'P', 'R', 'O', 'X', 'Y'};

// How much of a signature buf[0..len) matches: full (buf holds all of it),
// partial (buf is shorter and matches so far) or none.
enum class prefix_match : uint8_t { none, partial, full };

// Whether buf[0..n) equals sig[0..n), byte by byte (n is at most a dozen).
// buf may be null when n == 0.
inline bool same_bytes(const uint8_t *buf, const uint8_t *sig,
                       size_t n) noexcept {
  for (size_t i = 0; i < n; ++i)
    if (buf[i] != sig[i]) return false;
  return true;
}

inline prefix_match match_v2_signature(const uint8_t *buf, size_t len) noexcept {
  if (len >= sizeof v2_signature) {
    // Two loads against two constants: fixed-size memcpy compiles to moves.
    uint64_t head, want_head;
    uint32_t tail, want_tail;
    std::memcpy(&head, buf, 8);
    std::memcpy(&tail, buf + 8, 4);
    std::memcpy(&want_head, v2_signature, 8);
    std::memcpy(&want_tail, v2_signature + 8, 4);
    return head == want_head && tail == want_tail ? prefix_match::full
                                                  : prefix_match::none;
  }
  return same_bytes(buf, v2_signature, len) ? prefix_match::partial
                                            : prefix_match::none;
}

inline prefix_match match_v1_signature(const uint8_t *buf, size_t len) noexcept {
  if (len >= sizeof v1_signature) {
    uint32_t head, want_head;
    std::memcpy(&head, buf, 4);
    std::memcpy(&want_head, v1_signature, 4);
    return head == want_head && buf[4] == v1_signature[4] ? prefix_match::full
                                                          : prefix_match::none;
  }
  return same_bytes(buf, v1_signature, len) ? prefix_match::partial
                                            : prefix_match::none;
}

}  // namespace proxyproto
