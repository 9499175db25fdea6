#include "config.h"

#include <pthread.h>

#include "core/setting_values.h"
#include "runtime/environment.h"
#include "runtime/log.h"

namespace proxyproto {

namespace {

constinit server_config settings{default_versions, false, false,
                                 default_timeout_ms};
constinit pthread_once_t settings_once = PTHREAD_ONCE_INIT;

void load_settings() noexcept {
  set_log_tag("libproxyproto");
  settings.debug = setting_is_on(environment_setting("LIBPROXYPROTO_DEBUG"));
  set_debug_logging(settings.debug);
  settings.must_use_header = setting_is_on(
      environment_setting("LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER"));
  settings.versions =
      unsigned_environment_setting("LIBPROXYPROTO_VERSION", 3, default_versions);
  settings.timeout_ms = unsigned_environment_setting(
      "LIBPROXYPROTO_TIMEOUT", max_timeout_ms, default_timeout_ms);
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
