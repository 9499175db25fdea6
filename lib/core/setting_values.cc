#include "core/setting_values.h"

#include <cstring>

#include "core/inet_text.h"

namespace proxyproto {

bool setting_is_on(const char *value) noexcept {
  return value != nullptr && value[0] != '\0' && std::strcmp(value, "0") != 0;
}

bool parse_setting_unsigned(const char *value, unsigned max,
                            unsigned *out) noexcept {
  if (value == nullptr) return false;
  const size_t len = std::strlen(value);
  if (len == 0 || len > 10 || (len > 1 && value[0] == '0')) return false;
  unsigned long long n = 0;
  for (size_t i = 0; i < len; ++i) {
    if (value[i] < '0' || value[i] > '9') return false;
    n = n * 10 + static_cast<unsigned>(value[i] - '0');
  }
  if (n > max) return false;
  *out = static_cast<unsigned>(n);
  return true;
}

bool parse_setting_address(const char *value, address_family *family,
                           ip_endpoint *out) noexcept {
  if (value == nullptr) return false;
  const size_t len = std::strlen(value);
  if (parse_ipv4_text(value, len, out->address)) {
    *family = address_family::inet;
    return true;
  }
  if (parse_ipv6_text(value, len, out->address)) {
    *family = address_family::inet6;
    return true;
  }
  return false;
}

}  // namespace proxyproto
