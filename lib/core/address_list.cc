#include "core/address_list.h"

#include <cstring>

#include "core/inet_text.h"

namespace proxyproto {

namespace {

constexpr bool is_blank(char c) { return c == ' ' || c == '\t'; }

// Whether the first `bits` bits of a and b are equal.
bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits) noexcept {
  const unsigned whole = bits / 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  const unsigned rest = bits % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff00u >> rest);
  return ((a[whole] ^ b[whole]) & mask) == 0;
}

// Whether every bit after the first `bits` of `bytes` (of `size` bytes) is 0.
bool host_bits_clear(const uint8_t *bytes, size_t size, unsigned bits) noexcept {
  for (size_t i = 0; i < size; ++i) {
    const unsigned first_bit = static_cast<unsigned>(i) * 8;
    uint8_t host_mask;
    if (first_bit + 8 <= bits) {
      host_mask = 0;
    } else if (first_bit >= bits) {
      host_mask = 0xff;
    } else {
      host_mask = static_cast<uint8_t>(0xffu >> (bits - first_bit));
    }
    if ((bytes[i] & host_mask) != 0) return false;
  }
  return true;
}

// A prefix length: decimal, no sign, no leading zero, at most `max`.
bool parse_prefix_length(const char *text, size_t len, unsigned max,
                         unsigned *out) noexcept {
  if (len == 0 || len > 3 || (len > 1 && text[0] == '0')) return false;
  unsigned n = 0;
  for (size_t i = 0; i < len; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    n = n * 10 + static_cast<unsigned>(text[i] - '0');
  }
  if (n > max) return false;
  *out = n;
  return true;
}

bool parse_item(const char *text, size_t len, address_list *list) noexcept {
  if (len == 4 && std::memcmp(text, "unix", 4) == 0) {
    list->unix_peers = true;
    return true;
  }
  if (list->count == address_list_max_entries) return false;
  const char *slash = static_cast<const char *>(std::memchr(text, '/', len));
  const size_t address_len =
      slash != nullptr ? static_cast<size_t>(slash - text) : len;
  address_prefix p{};
  unsigned max_bits;
  if (parse_ipv4_text(text, address_len, p.bytes)) {
    p.ipv4 = true;
    max_bits = 32;
  } else if (parse_ipv6_text(text, address_len, p.bytes)) {
    p.ipv4 = false;
    max_bits = 128;
  } else {
    return false;
  }
  unsigned bits = max_bits;
  if (slash != nullptr &&
      !parse_prefix_length(slash + 1, len - address_len - 1, max_bits, &bits))
    return false;
  if (!host_bits_clear(p.bytes, p.ipv4 ? 4 : 16, bits)) return false;
  p.bits = static_cast<uint8_t>(bits);
  list->entries[list->count++] = p;
  return true;
}

}  // namespace

bool parse_address_list(const char *text, size_t len,
                        address_list *out) noexcept {
  std::memset(out, 0, sizeof *out);
  size_t start = 0;
  for (;;) {
    size_t end = start;
    while (end < len && text[end] != ',') ++end;
    size_t a = start, b = end;
    while (a < b && is_blank(text[a])) ++a;
    while (b > a && is_blank(text[b - 1])) --b;
    if (a == b || !parse_item(text + a, b - a, out)) {
      std::memset(out, 0, sizeof *out);
      return false;
    }
    if (end == len) return true;
    start = end + 1;
  }
}

bool address_list_contains(const address_list &list, bool ipv4,
                           const uint8_t *bytes) noexcept {
  static constexpr uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0,    0,
                                                0, 0, 0, 0, 0xff, 0xff};
  const uint8_t *as_ipv4 = ipv4 ? bytes : nullptr;
  if (!ipv4 && std::memcmp(bytes, mapped_prefix, sizeof mapped_prefix) == 0)
    as_ipv4 = bytes + 12;
  for (size_t i = 0; i < list.count; ++i) {
    const address_prefix &p = list.entries[i];
    if (p.ipv4) {
      if (as_ipv4 != nullptr && prefix_equal(p.bytes, as_ipv4, p.bits))
        return true;
    } else if (!ipv4 && prefix_equal(p.bytes, bytes, p.bits)) {
      return true;
    }
  }
  return false;
}

}  // namespace proxyproto
