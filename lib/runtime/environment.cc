#include "runtime/environment.h"

#include <stdlib.h>

#include "core/setting_values.h"
#include "runtime/log.h"

namespace proxyproto {

const char *environment_setting(const char *name) noexcept {
  const char *value = secure_getenv(name);
  return value != nullptr && value[0] != '\0' ? value : nullptr;
}

unsigned unsigned_environment_setting(const char *name, unsigned max,
                                      unsigned fallback) noexcept {
  const char *text = environment_setting(name);
  unsigned value = fallback;
  if (text != nullptr && !parse_setting_unsigned(text, max, &value)) {
    PP_WARN("%s=\"%s\" is not a number from 0 to %u; using %u", name, text,
            max, fallback);
    value = fallback;
  }
  return value;
}

}  // namespace proxyproto
