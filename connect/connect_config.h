// The client library's settings, read once on the first connect() (or,
// with LIBPROXYPROTO_UDP, the first send on a UDP socket).
#pragma once

#include "core/proxy_header.h"

namespace proxyproto {

// The most TLV bytes LIBPROXYPROTO_TLVS may describe.
inline constexpr size_t tlvs_capacity = 2048;

struct connect_config {
  unsigned version;               // LIBPROXYPROTO_VERSION: 0, 1 or 2
  bool debug;                     // LIBPROXYPROTO_DEBUG
  bool udp;                       // LIBPROXYPROTO_UDP: a header per datagram
  bool source_ok;                 // ADDR and PORT both parsed
  address_family source_family;   // LIBPROXYPROTO_ADDR: inet or inet6
  ip_endpoint source;             // LIBPROXYPROTO_ADDR, LIBPROXYPROTO_PORT
  command cmd;                    // LIBPROXYPROTO_COMMAND: proxy or local
  // LIBPROXYPROTO_DESTINATION_ADDR / _PORT: replace the connected-to
  // address / port in the header (each on its own).
  bool destination_address_set;
  address_family destination_family;
  ip_endpoint destination;
  bool destination_port_set;
  // LIBPROXYPROTO_TLVS (v2 only), parsed once; see core/tlv_setting.h.
  uint8_t tlvs[tlvs_capacity];
  size_t tlvs_length;
  bool add_crc32c;
};

inline constexpr unsigned default_connect_version = 2;
inline constexpr const char *default_source_address = "127.0.0.1";
inline constexpr unsigned default_source_port = 8080;

// Thread-safe; bad values are reported on stderr. A bad address or port
// leaves source_ok false: no header is sent rather than one with an address
// the user did not ask for.
const connect_config &connect_settings() noexcept;

}  // namespace proxyproto
