#include "core/crc32c.h"

#include <array>

namespace proxyproto {

namespace {

// Reflected Castagnoli polynomial (RFC 4960 Appendix B), table built at
// compile time so that nothing runs at load.
constexpr uint32_t castagnoli_reflected = 0x82F63B78u;

constexpr std::array<uint32_t, 256> make_table() noexcept {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc & 1u) ? (crc >> 1) ^ castagnoli_reflected : crc >> 1;
    table[i] = crc;
  }
  return table;
}

constexpr std::array<uint32_t, 256> table = make_table();

}  // namespace

uint32_t crc32c(const uint8_t *buf, size_t len, size_t skip_offset,
                size_t skip_length) noexcept {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < len; ++i) {
    const bool skipped = i >= skip_offset && i - skip_offset < skip_length;
    const uint8_t byte = skipped ? 0 : buf[i];
    crc = table[(crc ^ byte) & 0xFFu] ^ (crc >> 8);
  }
  return crc ^ 0xFFFFFFFFu;
}

}  // namespace proxyproto
