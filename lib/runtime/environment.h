// Reading LIBPROXYPROTO_* variables, the same way in both libraries.
#pragma once

namespace proxyproto {

// The variable's value, or null when it is unset or empty. Uses
// secure_getenv, so a set-user-ID or set-group-ID program sees none.
const char *environment_setting(const char *name) noexcept;

// A decimal number from 0 to `max`; `fallback` when the variable is unset,
// and also, after a warning on stderr, when its value is not such a number.
unsigned unsigned_environment_setting(const char *name, unsigned max,
                                      unsigned fallback) noexcept;

}  // namespace proxyproto
