#include "connect_config.h"

#include <pthread.h>

#include <cstring>

#include "core/setting_values.h"
#include "core/tlv_setting.h"
#include "runtime/environment.h"
#include "runtime/log.h"

namespace proxyproto {

namespace {

constinit connect_config settings{};
constinit pthread_once_t settings_once = PTHREAD_ONCE_INIT;

void load_settings() noexcept {
  set_log_tag("libproxyproto_connect");
  settings.debug = setting_is_on(environment_setting("LIBPROXYPROTO_DEBUG"));
  set_debug_logging(settings.debug);
  settings.udp = setting_is_on(environment_setting("LIBPROXYPROTO_UDP"));

  settings.version = unsigned_environment_setting(
      "LIBPROXYPROTO_VERSION", 2, default_connect_version);

  bool ok = true;
  const char *addr = environment_setting("LIBPROXYPROTO_ADDR");
  if (!parse_setting_address(addr ? addr : default_source_address,
                             &settings.source_family, &settings.source)) {
    PP_WARN("LIBPROXYPROTO_ADDR=\"%s\" is not an IPv4 or IPv6 address; "
            "no PROXY header will be sent", addr);
    ok = false;
  }
  unsigned port = default_source_port;
  if (const char *text = environment_setting("LIBPROXYPROTO_PORT");
      text != nullptr && !parse_setting_unsigned(text, 65535, &port)) {
    PP_WARN("LIBPROXYPROTO_PORT=\"%s\" is not a port from 0 to 65535; "
            "no PROXY header will be sent", text);
    ok = false;
  }
  settings.source.port = static_cast<uint16_t>(port);

  settings.cmd = command::proxy;
  if (const char *text = environment_setting("LIBPROXYPROTO_COMMAND")) {
    if (std::strcmp(text, "local") == 0) {
      settings.cmd = command::local;
    } else if (std::strcmp(text, "proxy") != 0) {
      PP_WARN("LIBPROXYPROTO_COMMAND=\"%s\" is neither proxy nor local; "
              "no PROXY header will be sent", text);
      ok = false;
    }
  }
  if (const char *text = environment_setting("LIBPROXYPROTO_DESTINATION_ADDR")) {
    if (parse_setting_address(text, &settings.destination_family,
                              &settings.destination)) {
      settings.destination_address_set = true;
    } else {
      PP_WARN("LIBPROXYPROTO_DESTINATION_ADDR=\"%s\" is not an IPv4 or IPv6 "
              "address; no PROXY header will be sent", text);
      ok = false;
    }
  }
  if (const char *text = environment_setting("LIBPROXYPROTO_DESTINATION_PORT")) {
    unsigned destination_port = 0;
    if (parse_setting_unsigned(text, 65535, &destination_port)) {
      settings.destination.port = static_cast<uint16_t>(destination_port);
      settings.destination_port_set = true;
    } else {
      PP_WARN("LIBPROXYPROTO_DESTINATION_PORT=\"%s\" is not a port from 0 to "
              "65535; no PROXY header will be sent", text);
      ok = false;
    }
  }
  if (const char *text = environment_setting("LIBPROXYPROTO_TLVS")) {
    tlv_setting parsed;
    if (parse_tlv_setting(text, settings.tlvs, sizeof settings.tlvs, &parsed)) {
      settings.tlvs_length = parsed.length;
      settings.add_crc32c = parsed.add_crc32c;
    } else {
      PP_WARN("LIBPROXYPROTO_TLVS: cannot use the item at offset %zu of "
              "\"%s\" (or the TLVs exceed %zu bytes); no PROXY header will "
              "be sent", parsed.error_at, text, tlvs_capacity);
      ok = false;
    }
  }
  settings.source_ok = ok;
  PP_DEBUG("version %u, source port %u, udp %s%s", settings.version, port,
           settings.udp ? "on" : "off",
           ok ? "" : " (disabled by a bad setting)");
}

}  // namespace

const connect_config &connect_settings() noexcept {
  pthread_once(&settings_once, load_settings);
  return settings;
}

}  // namespace proxyproto
