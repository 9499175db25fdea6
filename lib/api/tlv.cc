// TLV iteration and the typed accessors of the public interface. Every
// decoder checks the value's exact shape: a fixed-size value of another size,
// or a string longer than its documented maximum, is MALFORMED, never read
// past; a provider TLV of another subtype is not the one asked for (ABSENT).
#include "api/internal_names.h"
#include "core/tlv.h"
#include "core/tlv_names.h"
#include "proxyproto.h"
#include "runtime/export.h"

namespace proxyproto {

namespace {

// The first TLV of `type` in the header's area; an area whose walk stops at a
// truncated TLV cannot come from proxyproto_parse(), which rejects it, but a
// hand-made struct may hold one: it simply ends the search.
bool find_tlv(const proxyproto_header *h, uint8_t type, tlv *out) noexcept {
  if (h == nullptr || h->tlvs == nullptr) return false;
  tlv_cursor cursor(h->tlvs, h->tlvs_length);
  while (cursor.next(out))
    if (out->type == type) return true;
  return false;
}

int get_string(const proxyproto_header *h, uint8_t type, size_t max,
               proxyproto_bytes *out) noexcept {
  tlv t;
  if (!find_tlv(h, type, &t)) return PROXYPROTO_TLV_ABSENT;
  if (t.length > max) return PROXYPROTO_TLV_MALFORMED;
  if (out != nullptr) *out = {t.value, t.length};
  return PROXYPROTO_TLV_OK;
}

// A provider TLV: subtype byte, then the value. Searches on past TLVs of
// the same type with other subtypes.
int get_subtyped(const proxyproto_header *h, uint8_t type, uint8_t subtype,
                 tlv *value) noexcept {
  if (h == nullptr || h->tlvs == nullptr) return PROXYPROTO_TLV_ABSENT;
  tlv_cursor cursor(h->tlvs, h->tlvs_length);
  tlv t;
  bool empty_seen = false;
  while (cursor.next(&t)) {
    if (t.type != type) continue;
    if (t.length == 0) {
      empty_seen = true;  // no subtype byte at all
      continue;
    }
    if (t.value[0] != subtype) continue;
    *value = {t.type, t.value + 1, t.length - 1};
    return PROXYPROTO_TLV_OK;
  }
  return empty_seen ? PROXYPROTO_TLV_MALFORMED : PROXYPROTO_TLV_ABSENT;
}

}  // namespace

}  // namespace proxyproto

extern "C" {

using proxyproto::tlv;

PROXYPROTO_EXPORT void proxyproto_tlv_begin(proxyproto_tlv_iterator *it,
                                            const void *area, size_t length) {
  const auto *p = static_cast<const unsigned char *>(area);
  it->position = p;
  it->end = p != nullptr ? p + length : p;
  it->truncated = 0;
}

PROXYPROTO_EXPORT int proxyproto_tlv_next(proxyproto_tlv_iterator *it,
                                          proxyproto_tlv *out) {
  if (it->position == nullptr || it->position >= it->end) return 0;
  proxyproto::tlv_cursor cursor(it->position,
                                static_cast<size_t>(it->end - it->position));
  tlv t;
  if (!cursor.next(&t)) {
    it->truncated = cursor.truncated() ? 1 : 0;
    it->position = it->end;
    return 0;
  }
  out->type = t.type;
  out->value = t.value;
  out->length = t.length;
  it->position = t.value + t.length;
  return 1;
}

PROXYPROTO_EXPORT int proxyproto_tlv_find(const proxyproto_header *header,
                                          uint8_t type, proxyproto_tlv *out) {
  tlv t;
  if (!proxyproto::find_tlv(header, type, &t)) return 0;
  if (out != nullptr) *out = {t.type, t.value, t.length};
  return 1;
}

PROXYPROTO_EXPORT const char *proxyproto_tlv_name(uint8_t type) {
  return proxyproto::tlv_type_name(type);
}

PROXYPROTO_EXPORT int proxyproto_get_alpn(const proxyproto_header *h,
                                          proxyproto_bytes *out) {
  return proxyproto::get_string(h, PROXYPROTO_TLV_ALPN, PROXYPROTO_ALPN_MAX, out);
}

PROXYPROTO_EXPORT int proxyproto_get_authority(const proxyproto_header *h,
                                               proxyproto_bytes *out) {
  return proxyproto::get_string(h, PROXYPROTO_TLV_AUTHORITY,
                                PROXYPROTO_AUTHORITY_MAX, out);
}

PROXYPROTO_EXPORT int proxyproto_get_unique_id(const proxyproto_header *h,
                                               proxyproto_bytes *out) {
  return proxyproto::get_string(h, PROXYPROTO_TLV_UNIQUE_ID,
                                PROXYPROTO_UNIQUE_ID_MAX, out);
}

PROXYPROTO_EXPORT int proxyproto_get_netns(const proxyproto_header *h,
                                           proxyproto_bytes *out) {
  return proxyproto::get_string(h, PROXYPROTO_TLV_NETNS, PROXYPROTO_NETNS_MAX,
                                out);
}

PROXYPROTO_EXPORT int proxyproto_get_aws_vpce_id(const proxyproto_header *h,
                                                 proxyproto_bytes *out) {
  tlv v;
  const int rc = proxyproto::get_subtyped(h, PROXYPROTO_TLV_AWS,
                                          PROXYPROTO_AWS_VPCE_ID, &v);
  if (rc != PROXYPROTO_TLV_OK) return rc;
  if (v.length == 0 || v.length > PROXYPROTO_AWS_VPCE_ID_MAX)
    return PROXYPROTO_TLV_MALFORMED;
  if (out != nullptr) *out = {v.value, v.length};
  return PROXYPROTO_TLV_OK;
}

PROXYPROTO_EXPORT int proxyproto_get_azure_linkid(const proxyproto_header *h,
                                                  uint32_t *out) {
  tlv v;
  const int rc = proxyproto::get_subtyped(h, PROXYPROTO_TLV_AZURE,
                                          PROXYPROTO_AZURE_LINKID, &v);
  if (rc != PROXYPROTO_TLV_OK) return rc;
  if (v.length != 4) return PROXYPROTO_TLV_MALFORMED;
  // Azure sends the LinkID little-endian, unlike the rest of the header.
  if (out != nullptr)
    *out = static_cast<uint32_t>(v.value[0]) |
           static_cast<uint32_t>(v.value[1]) << 8 |
           static_cast<uint32_t>(v.value[2]) << 16 |
           static_cast<uint32_t>(v.value[3]) << 24;
  return PROXYPROTO_TLV_OK;
}

PROXYPROTO_EXPORT int proxyproto_get_gcp_psc_id(const proxyproto_header *h,
                                                uint64_t *out) {
  tlv t;
  if (!proxyproto::find_tlv(h, PROXYPROTO_TLV_GCP, &t))
    return PROXYPROTO_TLV_ABSENT;
  if (t.length != 8) return PROXYPROTO_TLV_MALFORMED;
  uint64_t id = 0;
  for (size_t i = 0; i < 8; ++i) id = id << 8 | t.value[i];
  if (out != nullptr) *out = id;
  return PROXYPROTO_TLV_OK;
}

PROXYPROTO_EXPORT int proxyproto_get_ssl(const proxyproto_header *h,
                                         proxyproto_ssl *out) {
  tlv t;
  if (!proxyproto::find_tlv(h, PROXYPROTO_TLV_SSL, &t))
    return PROXYPROTO_TLV_ABSENT;
  // §2.2.6: client (1 byte), verify (4 bytes, big-endian), sub-TLVs.
  if (t.length < proxyproto::ssl_fixed_length) return PROXYPROTO_TLV_MALFORMED;
  proxyproto_ssl ssl{};
  ssl.client = t.value[0];
  ssl.verify = static_cast<uint32_t>(t.value[1]) << 24 |
               static_cast<uint32_t>(t.value[2]) << 16 |
               static_cast<uint32_t>(t.value[3]) << 8 | t.value[4];
  proxyproto::tlv_cursor sub(t.value + proxyproto::ssl_fixed_length,
                             t.length - proxyproto::ssl_fixed_length);
  tlv s;
  while (sub.next(&s)) {
    proxyproto_bytes *field = nullptr;
    switch (s.type) {
      case PROXYPROTO_SSL_VERSION: field = &ssl.version; break;
      case PROXYPROTO_SSL_CN: field = &ssl.cn; break;
      case PROXYPROTO_SSL_CIPHER: field = &ssl.cipher; break;
      case PROXYPROTO_SSL_SIG_ALG: field = &ssl.sig_alg; break;
      case PROXYPROTO_SSL_KEY_ALG: field = &ssl.key_alg; break;
      case PROXYPROTO_SSL_GROUP: field = &ssl.group; break;
      case PROXYPROTO_SSL_SIG_SCHEME: field = &ssl.sig_scheme; break;
      case PROXYPROTO_SSL_CLIENT_CERT: field = &ssl.client_cert; break;
      default: break;  // unknown sub-TLVs are skipped, as unknown TLVs are
    }
    if (field != nullptr && field->data == nullptr) *field = {s.value, s.length};
  }
  if (sub.truncated()) return PROXYPROTO_TLV_MALFORMED;
  if (out != nullptr) *out = ssl;
  return PROXYPROTO_TLV_OK;
}

}  // extern "C"

PROXYPROTO_INTERNAL_NAME(proxyproto_tlv_begin);
PROXYPROTO_INTERNAL_NAME(proxyproto_tlv_next);
PROXYPROTO_INTERNAL_NAME(proxyproto_tlv_name);
PROXYPROTO_INTERNAL_NAME(proxyproto_get_aws_vpce_id);
PROXYPROTO_INTERNAL_NAME(proxyproto_get_azure_linkid);
PROXYPROTO_INTERNAL_NAME(proxyproto_get_gcp_psc_id);
PROXYPROTO_INTERNAL_NAME(proxyproto_get_ssl);
