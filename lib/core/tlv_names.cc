#include "core/tlv_names.h"

#include <cstring>

#include "core/tlv.h"

namespace proxyproto {

namespace {

struct named_type {
  uint8_t type;
  const char *name;
};

constexpr named_type names[] = {
    {pp2_type_alpn, "alpn"},
    {pp2_type_authority, "authority"},
    {pp2_type_crc32c, "crc32c"},
    {pp2_type_noop, "noop"},
    {pp2_type_unique_id, "unique_id"},
    {pp2_type_ssl, "ssl"},
    {pp2_subtype_ssl_version, "ssl_version"},
    {pp2_subtype_ssl_cn, "ssl_cn"},
    {pp2_subtype_ssl_cipher, "ssl_cipher"},
    {pp2_subtype_ssl_sig_alg, "ssl_sig_alg"},
    {pp2_subtype_ssl_key_alg, "ssl_key_alg"},
    {pp2_subtype_ssl_group, "ssl_group"},
    {pp2_subtype_ssl_sig_scheme, "ssl_sig_scheme"},
    {pp2_subtype_ssl_client_cert, "ssl_client_cert"},
    {pp2_type_netns, "netns"},
    {pp2_type_gcp, "gcp"},
    {pp2_type_aws, "aws"},
    {pp2_type_azure, "azure"},
};

}  // namespace

const char *tlv_type_name(uint8_t type) noexcept {
  for (const named_type &n : names)
    if (n.type == type) return n.name;
  return nullptr;
}

bool tlv_type_from_name(const char *name, size_t length, uint8_t *type) noexcept {
  for (const named_type &n : names) {
    if (std::strlen(n.name) == length && std::memcmp(n.name, name, length) == 0) {
      *type = n.type;
      return true;
    }
  }
  return false;
}

}  // namespace proxyproto
