// Version 2: the binary header (haproxy:doc/proxy-protocol.txt §2.2).
//
//   sig[12] | ver_cmd | fam | len (big endian) | addresses | TLVs
//
// The 16 fixed bytes decide everything that can be decided early (command,
// family, a length too short for the family); the rest waits until all
// 16 + len bytes are there, since §2.2 forbids parsing a partial block.
#include <cstring>

#include "core/crc32c.h"
#include "core/proxy_header.h"
#include "core/signatures.h"
#include "core/tlv.h"
#include "core/usual_header.h"

namespace proxyproto {

namespace {

constexpr parse_result reject(defect why) noexcept {
  return {parse_status::invalid, why, 0};
}

constexpr parse_result need_more() noexcept {
  return {parse_status::need_more, defect::none, 0};
}

constexpr uint8_t command_local = 0x0;
constexpr uint8_t command_proxy = 0x1;

constexpr size_t inet_block = 2 * 4 + 2 * 2;    // §2.2: 12 bytes
constexpr size_t inet6_block = 2 * 16 + 2 * 2;  // §2.2: 36 bytes
constexpr size_t unix_path = 108;
constexpr size_t unix_block = 2 * unix_path;    // §2.2: 216 bytes

// §2.2 "In practice, the following protocol bytes are expected": the seven
// valid family/transport bytes; everything else must be rejected.
constexpr bool valid_family_byte(uint8_t fam) noexcept {
  switch (fam) {
    case 0x00: case 0x11: case 0x12: case 0x21: case 0x22: case 0x31: case 0x32:
      return true;
    default:
      return false;
  }
}

constexpr size_t address_block(uint8_t fam) noexcept {
  switch (fam >> 4) {
    case 0x1: return inet_block;
    case 0x2: return inet6_block;
    case 0x3: return unix_block;
    default: return 0;
  }
}

constexpr uint16_t be16(const uint8_t *p) noexcept {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

constexpr uint32_t be32(const uint8_t *p) noexcept {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}

// §2.2.6: client (1) and verify (4), then sub-TLVs within the value.
defect check_ssl(const tlv &ssl) noexcept {
  if (ssl.length < ssl_fixed_length) return defect::v2_ssl_truncated;
  tlv_cursor sub(ssl.value + ssl_fixed_length, ssl.length - ssl_fixed_length);
  tlv item;
  while (sub.next(&item)) {
  }
  return sub.truncated() ? defect::v2_ssl_truncated : defect::none;
}

// Walks every TLV, bounds-checks it and verifies the checksum if present.
defect check_tlvs(const uint8_t *hdr, size_t total, const uint8_t *area,
                  size_t area_len) noexcept {
  if (area_len == 0) return defect::none;  // the usual header: no TLVs
  tlv_cursor cursor(area, area_len);
  tlv item;
  const uint8_t *crc_field = nullptr;
  while (cursor.next(&item)) {
    switch (item.type) {
      case pp2_type_crc32c:  // §2.2.3
        if (item.length != 4) return defect::v2_crc32c_bad_length;
        if (crc_field) return defect::v2_crc32c_repeated;
        crc_field = item.value;
        break;
      case pp2_type_unique_id:  // §2.2.5
        if (item.length > unique_id_max_length)
          return defect::v2_unique_id_too_long;
        break;
      case pp2_type_ssl: {  // §2.2.6
        const defect d = check_ssl(item);
        if (d != defect::none) return d;
        break;
      }
      default:  // §2.2: types the receiver does not interpret are skipped
        break;
    }
  }
  if (cursor.truncated()) return defect::v2_tlv_truncated;
  if (crc_field) {
    // §2.2.3: checksum of the whole header with the field taken as zeros.
    const size_t offset = static_cast<size_t>(crc_field - hdr);
    if (crc32c(hdr, total, offset, 4) != be32(crc_field))
      return defect::v2_crc32c_mismatch;
  }
  return defect::none;
}

void decode_addresses(const uint8_t *block, uint8_t fam, header *out) noexcept {
  switch (fam >> 4) {
    case 0x1:
      out->family = address_family::inet;
      std::memcpy(out->source.address, block, 4);
      std::memcpy(out->destination.address, block + 4, 4);
      out->source.port = be16(block + 8);
      out->destination.port = be16(block + 10);
      break;
    case 0x2:
      out->family = address_family::inet6;
      std::memcpy(out->source.address, block, 16);
      std::memcpy(out->destination.address, block + 16, 16);
      out->source.port = be16(block + 32);
      out->destination.port = be16(block + 34);
      break;
    case 0x3:
      out->family = address_family::unix_domain;
      out->unix_source = block;
      out->unix_destination = block + unix_path;
      break;
    default:
      out->family = address_family::unspec;
      break;
  }
  switch (fam & 0xF) {
    case 0x1: out->proto = transport::stream; break;
    case 0x2: out->proto = transport::dgram; break;
    default: out->proto = transport::unspec; break;
  }
}

}  // namespace

parse_result parse_v2(const uint8_t *buf, size_t len, header *out) noexcept {
  if (const size_t total = usual_v2_stream_header(buf, len, out))
    return {parse_status::complete, defect::none, total};
  return parse_v2_careful(buf, len, out);
}

parse_result parse_v2_careful(const uint8_t *buf, size_t len, header *out) noexcept {
  const prefix_match sig = match_v2_signature(buf, len);
  if (sig == prefix_match::none) return {parse_status::not_proxy, defect::none, 0};
  if (len <= sizeof v2_signature) return need_more();

  // §2.2: "the receiver must only accept this value" (2). The signature
  // was chosen so that no other protocol starts with it: a stream that
  // does and then names another version is a broken header, not data
  // (HAProxy fails it as "not a PROXY header" too).
  const uint8_t ver_cmd = buf[12];
  if ((ver_cmd >> 4) != 2) return reject(defect::v2_bad_version);
  const uint8_t cmd = ver_cmd & 0xF;
  // §2.2: "Receivers must drop connections presenting unexpected values".
  if (cmd != command_local && cmd != command_proxy)
    return reject(defect::v2_bad_command);
  if (len < 14) return need_more();

  // §2.2: LOCAL discards the protocol block "including the family which is
  // ignored", so only PROXY has its family checked.
  const uint8_t fam = buf[13];
  if (cmd == command_proxy && !valid_family_byte(fam))
    return reject(defect::v2_bad_family);
  if (len < v2_fixed_length) return need_more();

  // §2.2: the header is always exactly 16 + len bytes; len must hold the
  // family's address block.
  const size_t body = be16(buf + 14);
  const size_t block = cmd == command_proxy ? address_block(fam) : 0;
  if (body < block) return reject(defect::v2_length_too_short);
  const size_t total = v2_fixed_length + body;
  if (len < total) return need_more();

  *out = header{};
  out->version = 2;
  out->length = total;
  if (cmd == command_local) {
    // §2.2: the receiver "must use the real connection endpoints" and skip
    // len bytes whatever they hold.
    out->cmd = command::local;
    out->family = address_family::unspec;
    out->proto = transport::unspec;
    return {parse_status::complete, defect::none, total};
  }

  out->cmd = command::proxy;
  decode_addresses(buf + v2_fixed_length, fam, out);
  // With AF_UNSPEC the whole block is address information of an unknown
  // protocol (§2.2: "should ignore address information"), so it is not
  // walked as TLVs.
  if (out->family != address_family::unspec) {
    out->tlvs = buf + v2_fixed_length + block;
    out->tlvs_length = body - block;
    const defect d = check_tlvs(buf, total, out->tlvs, out->tlvs_length);
    if (d != defect::none) return reject(d);
  }
  return {parse_status::complete, defect::none, total};
}

}  // namespace proxyproto
