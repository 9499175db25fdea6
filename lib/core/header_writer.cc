// The sender's side: v1 lines (§2.1) and v2 binary headers (§2.2).
#include "core/header_writer.h"

#include <cstring>

#include "core/crc32c.h"
#include "core/inet_text.h"
#include "core/signatures.h"
#include "core/tlv.h"

namespace proxyproto {

namespace {

// Appends to a fixed buffer; remembers overflow instead of checking at
// every call site.
class output {
 public:
  constexpr output(uint8_t *buf, size_t capacity) noexcept
      : buf_(buf), capacity_(capacity) {}

  void put(const void *bytes, size_t n) noexcept {
    if (overflow_ || capacity_ - used_ < n) {
      overflow_ = true;
      return;
    }
    std::memcpy(buf_ + used_, bytes, n);
    used_ += n;
  }
  void put_text(const char *text) noexcept { put(text, std::strlen(text)); }
  void put_u8(uint8_t v) noexcept { put(&v, 1); }
  void put_be16(uint16_t v) noexcept {
    const uint8_t b[2] = {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
    put(b, 2);
  }
  void put_address_text(address_family family, const uint8_t *addr) noexcept {
    char text[ipv6_text_max];
    const size_t n = family == address_family::inet
                         ? format_ipv4(addr, text, sizeof text)
                         : format_ipv6(addr, text, sizeof text);
    put(text, n);
  }
  void put_decimal(uint32_t v) noexcept {
    char text[10];
    put(text, format_decimal(v, text, sizeof text));
  }

  constexpr size_t used() const noexcept { return used_; }
  constexpr uint8_t *data() const noexcept { return buf_; }
  // The written length, or 0 after an overflow.
  constexpr size_t result() const noexcept { return overflow_ ? 0 : used_; }

 private:
  uint8_t *buf_;
  size_t capacity_;
  size_t used_ = 0;
  bool overflow_ = false;
};

constexpr bool has_addresses(const header_fields &f) noexcept {
  return f.cmd == command::proxy &&
         (f.family == address_family::inet || f.family == address_family::inet6);
}

}  // namespace

size_t write_v1(const header_fields &fields, uint8_t *out,
                size_t capacity) noexcept {
  output o(out, capacity);
  if (!has_addresses(fields)) {
    // v1 has no LOCAL; UNKNOWN tells the receiver to use the real endpoints.
    o.put_text("PROXY UNKNOWN\r\n");
    return o.result();
  }
  o.put_text(fields.family == address_family::inet ? "PROXY TCP4 " : "PROXY TCP6 ");
  o.put_address_text(fields.family, fields.source.address);
  o.put_u8(' ');
  o.put_address_text(fields.family, fields.destination.address);
  o.put_u8(' ');
  o.put_decimal(fields.source.port);
  o.put_u8(' ');
  o.put_decimal(fields.destination.port);
  o.put_text("\r\n");
  return o.result();
}

size_t write_v2(const header_fields &fields, uint8_t *out,
                size_t capacity) noexcept {
  output o(out, capacity);
  o.put(v2_signature, sizeof v2_signature);
  o.put_u8(fields.cmd == command::proxy ? 0x21 : 0x20);

  const bool addresses = has_addresses(fields);
  const bool inet = fields.family == address_family::inet;
  const size_t block = !addresses ? 0 : inet ? 12 : 36;
  const size_t crc_tlv = fields.add_crc32c ? tlv_header_length + 4 : 0;
  const size_t body = block + fields.tlvs_length + crc_tlv;
  if (body > 0xFFFF) return 0;
  // §2.2: 0x11 TCP over IPv4, 0x21 TCP over IPv6, 0x12 and 0x22 their UDP
  // counterparts, 0x00 UNSPEC (LOCAL).
  const uint8_t transport_nibble = fields.datagram ? 0x2 : 0x1;
  o.put_u8(!addresses ? 0x00
                      : static_cast<uint8_t>((inet ? 0x10 : 0x20) | transport_nibble));
  o.put_be16(static_cast<uint16_t>(body));

  if (addresses) {
    const size_t n = inet ? 4 : 16;
    o.put(fields.source.address, n);
    o.put(fields.destination.address, n);
    o.put_be16(fields.source.port);
    o.put_be16(fields.destination.port);
  }
  if (fields.tlvs_length > 0) o.put(fields.tlvs, fields.tlvs_length);
  if (fields.add_crc32c) {
    // §2.2.3: write the field as zeros, checksum the whole header, fill in.
    const size_t field = o.used() + tlv_header_length;
    const uint8_t tlv_head[3] = {pp2_type_crc32c, 0, 4};
    const uint8_t zeros[4] = {};
    o.put(tlv_head, sizeof tlv_head);
    o.put(zeros, sizeof zeros);
    if (o.result() == 0) return 0;
    const uint32_t crc = crc32c(o.data(), o.used());
    uint8_t *p = o.data() + field;
    p[0] = static_cast<uint8_t>(crc >> 24);
    p[1] = static_cast<uint8_t>(crc >> 16);
    p[2] = static_cast<uint8_t>(crc >> 8);
    p[3] = static_cast<uint8_t>(crc);
  }
  return o.result();
}

}  // namespace proxyproto
