// The client library's settings, read once on the first connect().
#pragma once

#include "core/proxy_header.h"

namespace proxyproto {

struct connect_config {
  unsigned version;               // LIBPROXYPROTO_VERSION: 0, 1 or 2
  bool debug;                     // LIBPROXYPROTO_DEBUG
  bool source_ok;                 // ADDR and PORT both parsed
  address_family source_family;   // LIBPROXYPROTO_ADDR: inet or inet6
  ip_endpoint source;             // LIBPROXYPROTO_ADDR, LIBPROXYPROTO_PORT
};

inline constexpr unsigned default_connect_version = 2;
inline constexpr const char *default_source_address = "127.0.0.1";
inline constexpr unsigned default_source_port = 8080;

// Thread-safe; bad values are reported on stderr. A bad address or port
// leaves source_ok false: no header is sent rather than one with an address
// the user did not ask for.
const connect_config &connect_settings() noexcept;

}  // namespace proxyproto
