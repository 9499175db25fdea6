// Text forms of addresses and ports for v1 headers (§2.1) and settings.
// The grammar is the spec's, stricter than inet_pton(3): no leading zeros in
// IPv4 numbers or ports ("to avoid any possible confusion with octal").
#include "core/inet_text.h"

#include <cstring>

namespace proxyproto {

namespace {

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

constexpr int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A decimal number of 1..max_digits digits with no leading zero, at most
// `max`. Returns the digits consumed, 0 on error.
size_t parse_decimal(const char *text, size_t len, size_t max_digits,
                     uint32_t max, uint32_t *out) noexcept {
  size_t i = 0;
  uint32_t value = 0;
  while (i < len && is_digit(text[i])) {
    if (i == max_digits) return 0;
    value = value * 10 + static_cast<uint32_t>(text[i] - '0');
    ++i;
  }
  if (i == 0 || (i > 1 && text[0] == '0') || value > max) return 0;
  *out = value;
  return i;
}

}  // namespace

bool parse_ipv4_text(const char *text, size_t len, uint8_t out[4]) noexcept {
  uint8_t bytes[4];
  size_t pos = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (pos == len || text[pos] != '.') return false;
      ++pos;
    }
    uint32_t value = 0;
    const size_t used = parse_decimal(text + pos, len - pos, 3, 255, &value);
    if (used == 0) return false;
    bytes[part] = static_cast<uint8_t>(value);
    pos += used;
  }
  if (pos != len) return false;
  std::memcpy(out, bytes, 4);
  return true;
}

bool parse_ipv6_text(const char *text, size_t len, uint8_t out[16]) noexcept {
  uint8_t bytes[16] = {};
  size_t filled = 0;       // bytes written so far
  bool has_gap = false;   // whether "::" was seen
  size_t gap_at = 0;       // where it stands
  size_t pos = 0;

  if (len >= 2 && text[0] == ':' && text[1] == ':') {
    has_gap = true;
    pos = 2;
    if (pos == len) {  // "::" alone
      std::memcpy(out, bytes, 16);
      return true;
    }
  } else if (len > 0 && text[0] == ':') {
    return false;  // a single leading colon
  }

  while (pos < len) {
    // A dotted quad may end the address in place of the last 32 bits.
    size_t end = pos;
    while (end < len && text[end] != ':') ++end;
    if (std::memchr(text + pos, '.', end - pos) != nullptr) {
      if (end != len || filled > 12) return false;
      if (!parse_ipv4_text(text + pos, len - pos, bytes + filled)) return false;
      filled += 4;
      pos = len;
      break;
    }
    size_t digits = 0;
    uint32_t group = 0;
    while (pos < len && digits < 5) {
      const int v = hex_value(text[pos]);
      if (v < 0) break;
      group = group << 4 | static_cast<uint32_t>(v);
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 4 || filled >= 16) return false;
    bytes[filled++] = static_cast<uint8_t>(group >> 8);
    bytes[filled++] = static_cast<uint8_t>(group);
    if (pos == len) break;
    if (text[pos] != ':') return false;
    ++pos;
    if (pos < len && text[pos] == ':') {
      if (has_gap) return false;  // one "::" at most
      has_gap = true;
      gap_at = filled;
      ++pos;
      if (pos == len) break;  // "...::" at the end
    } else if (pos == len) {
      return false;  // a single trailing colon
    }
  }

  if (!has_gap) {
    if (filled != 16) return false;
  } else {
    // "::" stands for at least one zero group.
    if (filled > 14) return false;
    const size_t tail = filled - gap_at;
    std::memmove(bytes + 16 - tail, bytes + gap_at, tail);
    std::memset(bytes + gap_at, 0, 16 - tail - gap_at);
  }
  std::memcpy(out, bytes, 16);
  return true;
}

bool parse_port_text(const char *text, size_t len, uint16_t *out) noexcept {
  uint32_t value = 0;
  if (parse_decimal(text, len, 5, 65535, &value) != len || len == 0)
    return false;
  *out = static_cast<uint16_t>(value);
  return true;
}

size_t format_decimal(uint32_t value, char *out, size_t capacity) noexcept {
  char digits[10];
  size_t n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  if (n > capacity) return 0;
  for (size_t i = 0; i < n; ++i) out[i] = digits[n - 1 - i];
  return n;
}

size_t format_ipv4(const uint8_t addr[4], char *out, size_t capacity) noexcept {
  char text[ipv4_text_max];
  size_t n = 0;
  for (int i = 0; i < 4; ++i) {
    if (i > 0) text[n++] = '.';
    n += format_decimal(addr[i], text + n, sizeof text - n);
  }
  if (n > capacity) return 0;
  std::memcpy(out, text, n);
  return n;
}

size_t format_ipv6(const uint8_t addr[16], char *out, size_t capacity) noexcept {
  static constexpr char hex[] = "0123456789abcdef";
  uint16_t groups[8];
  for (int i = 0; i < 8; ++i)
    groups[i] = static_cast<uint16_t>(addr[2 * i] << 8 | addr[2 * i + 1]);

  // RFC 5952 §4.2: compress the longest run of two or more zero groups,
  // the first one when runs tie.
  int best_start = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (groups[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && groups[j] == 0) ++j;
    if (j - i > best_len && j - i >= 2) {
      best_start = i;
      best_len = j - i;
    }
    i = j;
  }

  char text[ipv6_text_max];
  size_t n = 0;
  // RFC 5952 §5: IPv4-mapped addresses end in dotted decimal.
  const bool mapped = best_start == 0 && best_len == 5 && groups[5] == 0xFFFF;
  const int last_hex_group = mapped ? 6 : 8;
  for (int i = 0; i < last_hex_group; ++i) {
    if (i == best_start) {
      text[n++] = ':';
      text[n++] = ':';
      i += best_len - 1;
      continue;
    }
    if (n > 0 && text[n - 1] != ':') text[n++] = ':';
    const uint16_t g = groups[i];
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const unsigned nibble = (g >> shift) & 0xFu;
      if (nibble == 0 && !started && shift != 0) continue;
      started = true;
      text[n++] = hex[nibble];
    }
  }
  if (mapped) {
    text[n++] = ':';
    n += format_ipv4(addr + 12, text + n, sizeof text - n);
  }
  if (n > capacity) return 0;
  std::memcpy(out, text, n);
  return n;
}

}  // namespace proxyproto
