// The values of LIBPROXYPROTO_* settings, parsed without locale, allocation
// or errno: shared by both libraries and unit-tested on their own.
#pragma once

#include <cstdint>

#include "proxy_header.h"

namespace proxyproto {

// A flag is on when it is set to a non-empty value other than "0".
bool setting_is_on(const char *value) noexcept;

// A decimal number 0..max, no sign, no leading zeros, nothing after it.
bool parse_setting_unsigned(const char *value, unsigned max,
                            unsigned *out) noexcept;

// An IPv4 or IPv6 address in text (as in a v1 header). Sets *family to inet
// or inet6 and the address bytes of *out; leaves out->port alone.
bool parse_setting_address(const char *value, address_family *family,
                           ip_endpoint *out) noexcept;

}  // namespace proxyproto
