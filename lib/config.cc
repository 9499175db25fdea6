#include "config.h"

#include <pthread.h>
#include <stdlib.h>

#include "core/setting_values.h"
#include "runtime/log.h"

namespace proxyproto {

namespace {

constinit server_config settings{default_versions, false, false,
                                 default_timeout_ms};
constinit pthread_once_t settings_once = PTHREAD_ONCE_INIT;

const char *setting(const char *name) noexcept {
  const char *value = secure_getenv(name);
  return value != nullptr && value[0] != '\0' ? value : nullptr;
}

unsigned unsigned_setting(const char *name, unsigned max,
                          unsigned fallback) noexcept {
  const char *text = setting(name);
  unsigned value = fallback;
  if (text != nullptr && !parse_setting_unsigned(text, max, &value)) {
    PP_WARN("%s=\"%s\" is not a number from 0 to %u; using %u", name, text,
            max, fallback);
    value = fallback;
  }
  return value;
}

void load_settings() noexcept {
  set_log_tag("libproxyproto");
  settings.debug = setting_is_on(setting("LIBPROXYPROTO_DEBUG"));
  set_debug_logging(settings.debug);
  settings.must_use_header =
      setting_is_on(setting("LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER"));
  settings.versions =
      unsigned_setting("LIBPROXYPROTO_VERSION", 3, default_versions);
  settings.timeout_ms = unsigned_setting("LIBPROXYPROTO_TIMEOUT",
                                         max_timeout_ms, default_timeout_ms);
  PP_DEBUG("version mask %u, must use header %s, timeout %u ms",
           settings.versions, settings.must_use_header ? "yes" : "no",
           settings.timeout_ms);
}

}  // namespace

const server_config &server_settings() noexcept {
  pthread_once(&settings_once, load_settings);
  return settings;
}

}  // namespace proxyproto
