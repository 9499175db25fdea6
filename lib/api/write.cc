// The public writer: lib/core's write_v1/write_v2 behind sockaddr inputs.
#include <cstring>

#include "core/header_writer.h"
#include "core/sockaddr_convert.h"
#include "core/tlv.h"
#include "proxyproto.h"
#include "runtime/export.h"

namespace proxyproto {

namespace {

// Builds the core's fields; false when the addresses cannot be written.
bool to_fields(const proxyproto_fields &in, header_fields *out) noexcept {
  *out = header_fields{};
  out->cmd = in.command == PROXYPROTO_CMD_LOCAL ? command::local : command::proxy;
  if (in.command != PROXYPROTO_CMD_LOCAL && in.command != PROXYPROTO_CMD_PROXY)
    return false;
  out->tlvs = static_cast<const uint8_t *>(in.tlvs);
  out->tlvs_length = in.tlvs != nullptr ? in.tlvs_length : 0;
  out->add_crc32c = in.add_crc32c != 0;
  if (in.source == nullptr && in.destination == nullptr) {
    out->family = address_family::unspec;
    return true;
  }
  if (in.source == nullptr || in.destination == nullptr) return false;
  const address_family s =
      sockaddr_to_endpoint(in.source, in.source_length, &out->source);
  const address_family d = sockaddr_to_endpoint(
      in.destination, in.destination_length, &out->destination);
  if (s == address_family::unspec || d == address_family::unspec) return false;
  out->family = map_to_common_family(s, &out->source, d, &out->destination);
  return true;
}

}  // namespace

}  // namespace proxyproto

extern "C" {

PROXYPROTO_EXPORT size_t proxyproto_write_v1(const proxyproto_fields *fields,
                                             void *out, size_t capacity) {
  proxyproto::header_fields f;
  if (fields == nullptr || out == nullptr || !proxyproto::to_fields(*fields, &f))
    return 0;
  return proxyproto::write_v1(f, static_cast<uint8_t *>(out), capacity);
}

PROXYPROTO_EXPORT size_t proxyproto_write_v2(const proxyproto_fields *fields,
                                             void *out, size_t capacity) {
  proxyproto::header_fields f;
  if (fields == nullptr || out == nullptr || !proxyproto::to_fields(*fields, &f))
    return 0;
  return proxyproto::write_v2(f, static_cast<uint8_t *>(out), capacity);
}

PROXYPROTO_EXPORT size_t proxyproto_tlv_put(void *out, size_t capacity,
                                            size_t offset, uint8_t type,
                                            const void *value, size_t length) {
  if (out == nullptr || length > 0xFFFF || offset > capacity ||
      capacity - offset < proxyproto::tlv_header_length + length ||
      (length > 0 && value == nullptr))
    return 0;
  uint8_t *p = static_cast<uint8_t *>(out) + offset;
  p[0] = type;
  p[1] = static_cast<uint8_t>(length >> 8);
  p[2] = static_cast<uint8_t>(length);
  if (length > 0) std::memcpy(p + 3, value, length);
  return offset + proxyproto::tlv_header_length + length;
}

}  // extern "C"
