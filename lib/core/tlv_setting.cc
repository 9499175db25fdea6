#include "core/tlv_setting.h"

#include <cstring>

#include "core/tlv.h"
#include "core/tlv_names.h"

namespace proxyproto {

namespace {

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool equals(const char *s, size_t n, const char *word) noexcept {
  return std::strlen(word) == n && std::memcmp(s, word, n) == 0;
}

// 0..max in decimal, digits only, no leading zero.
bool parse_decimal(const char *s, size_t n, uint64_t max, uint64_t *out) noexcept {
  if (n == 0 || (n > 1 && s[0] == '0')) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    const uint64_t d = static_cast<uint64_t>(s[i] - '0');
    if (v > (max - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return true;
}

bool parse_type(const char *s, size_t n, uint8_t *type) noexcept {
  if (n == 4 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    const int hi = hex_digit(s[2]), lo = hex_digit(s[3]);
    if (hi < 0 || lo < 0) return false;
    *type = static_cast<uint8_t>(hi << 4 | lo);
    return true;
  }
  uint64_t v;
  if (parse_decimal(s, n, 255, &v)) {
    *type = static_cast<uint8_t>(v);
    return true;
  }
  return tlv_type_from_name(s, n, type);
}

class tlv_out {
 public:
  tlv_out(uint8_t *buf, size_t capacity) noexcept : buf_(buf), capacity_(capacity) {}
  // Starts a TLV; its length is patched by finish().
  bool begin(uint8_t type) noexcept {
    if (capacity_ - used_ < tlv_header_length) return false;
    start_ = used_;
    buf_[used_] = type;
    used_ += tlv_header_length;
    return true;
  }
  bool byte(uint8_t b) noexcept {
    if (used_ == capacity_) return false;
    buf_[used_++] = b;
    return true;
  }
  bool finish() noexcept {
    const size_t length = used_ - start_ - tlv_header_length;
    if (length > 0xFFFF) return false;
    buf_[start_ + 1] = static_cast<uint8_t>(length >> 8);
    buf_[start_ + 2] = static_cast<uint8_t>(length);
    return true;
  }
  size_t used() const noexcept { return used_; }

 private:
  uint8_t *buf_;
  size_t capacity_;
  size_t used_ = 0;
  size_t start_ = 0;
};

// TEXT with %HH escapes.
bool put_text(tlv_out &o, const char *s, size_t n) noexcept {
  for (size_t i = 0; i < n; ++i) {
    if (s[i] == '%') {
      if (n - i < 3) return false;
      const int hi = hex_digit(s[i + 1]), lo = hex_digit(s[i + 2]);
      if (hi < 0 || lo < 0) return false;
      if (!o.byte(static_cast<uint8_t>(hi << 4 | lo))) return false;
      i += 2;
    } else if (!o.byte(static_cast<uint8_t>(s[i]))) {
      return false;
    }
  }
  return true;
}

bool parse_item(tlv_out &o, const char *s, size_t n, bool *crc) noexcept {
  if (equals(s, n, "crc32c")) {
    if (*crc) return false;  // a second checksum would be rejected (§2.2.3)
    *crc = true;
    return true;
  }
  const char *colon = static_cast<const char *>(std::memchr(s, ':', n));
  if (colon == nullptr) return false;
  const size_t name_len = static_cast<size_t>(colon - s);
  const char *value = colon + 1;
  const size_t value_len = n - name_len - 1;
  uint64_t number;
  if (equals(s, name_len, "aws_vpce_id")) {
    return o.begin(pp2_type_aws) && o.byte(0x01) &&
           put_text(o, value, value_len) && o.finish();
  }
  if (equals(s, name_len, "azure_linkid")) {
    if (!parse_decimal(value, value_len, 0xFFFFFFFFu, &number)) return false;
    return o.begin(pp2_type_azure) && o.byte(0x01) &&
           o.byte(static_cast<uint8_t>(number)) &&
           o.byte(static_cast<uint8_t>(number >> 8)) &&
           o.byte(static_cast<uint8_t>(number >> 16)) &&
           o.byte(static_cast<uint8_t>(number >> 24)) && o.finish();
  }
  if (equals(s, name_len, "gcp_psc_id")) {
    if (!parse_decimal(value, value_len, UINT64_MAX, &number)) return false;
    if (!o.begin(pp2_type_gcp)) return false;
    for (int shift = 56; shift >= 0; shift -= 8)
      if (!o.byte(static_cast<uint8_t>(number >> shift))) return false;
    return o.finish();
  }
  uint8_t type;
  if (!parse_type(s, name_len, &type)) return false;
  return o.begin(type) && put_text(o, value, value_len) && o.finish();
}

}  // namespace

bool parse_tlv_setting(const char *text, uint8_t *out, size_t capacity,
                       tlv_setting *result) noexcept {
  *result = tlv_setting{};
  tlv_out o(out, capacity);
  const char *item = text;
  for (;;) {
    const char *end = std::strchr(item, ',');
    const size_t n = end != nullptr ? static_cast<size_t>(end - item)
                                    : std::strlen(item);
    if (!parse_item(o, item, n, &result->add_crc32c)) {
      result->error_at = static_cast<size_t>(item - text);
      return false;
    }
    if (end == nullptr) break;
    item = end + 1;
  }
  result->length = o.used();
  return true;
}

}  // namespace proxyproto
