// The server library's settings: the captured environment over the
// configuration file, read once, on the first intercepted accept(), so
// that loading the library costs nothing.
#pragma once

#include <atomic>

#include "core/address_list.h"
#include "core/port_list.h"

namespace proxyproto {

struct server_config {
  unsigned versions;      // LIBPROXYPROTO_VERSION, a version_mask
  bool must_use_header;   // LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER
  bool debug;             // LIBPROXYPROTO_DEBUG
  unsigned timeout_ms;    // LIBPROXYPROTO_TIMEOUT
  // Trust and scope (see connection_scope.h). When the library does not act
  // in this process (core/activation_rule.h), `active` is false and
  // `versions` is accept_none, so every call goes straight to the C library.
  bool active;
  bool allow_set;         // LIBPROXYPROTO_ALLOW given (valid or not)
  address_list allow;     // empty when allow_set and invalid: trusts nobody
  bool ports_set;         // LIBPROXYPROTO_PORTS given (valid or not)
  port_list ports;        // empty when ports_set and invalid: matches nothing
  // Active with neither `allow` nor `ports`: every TCP peer is in scope,
  // which the accept path asks in one load (connection_scope.h).
  bool every_tcp_peer;
  bool keep_header;       // LIBPROXYPROTO_KEEP_HEADER (see header_features.h)
  bool getsockname;       // LIBPROXYPROTO_GETSOCKNAME
  // UDP (lib/datagram/): off unless asked for, since a header on a UDP
  // service lets its sender name any source.
  bool udp;                        // LIBPROXYPROTO_UDP
  unsigned udp_reply_entries;      // LIBPROXYPROTO_UDP_REPLY_ENTRIES
  unsigned udp_reply_seconds;      // LIBPROXYPROTO_UDP_REPLY_SECONDS
  // Standard input is a connection accepted for this process by an inetd
  // (lib/accept/inherited_connections.h).
  bool inetd;                      // LIBPROXYPROTO_INETD
  // Under proxyproto-run only: io_uring_setup() is allowed (an io_uring
  // accept bypasses the launcher); off, it fails with ENOSYS.
  bool io_uring;                   // LIBPROXYPROTO_IO_URING
};

inline constexpr unsigned default_versions = 3;
inline constexpr unsigned default_timeout_ms = 3000;  // §1: cover a retransmit
inline constexpr unsigned max_timeout_ms = 600000;
// The reply map (lib/datagram/reply_map.h): how many clients learnt from
// headers are remembered, and for how long after their last datagram.
inline constexpr unsigned default_udp_reply_entries = 4096;
inline constexpr unsigned max_udp_reply_entries = 65536;
inline constexpr unsigned default_udp_reply_seconds = 60;
inline constexpr unsigned max_udp_reply_seconds = 86400;

// The largest configuration file read; a bigger one is invalid.
inline constexpr unsigned long config_file_max_bytes = 65536;

// Thread-safe; the first call reads the configuration file and the captured
// environment, decides whether the library acts in this process, and
// reports bad values (see setting_report.h). Every later call is one load
// and a test, inline (the accept path asks on every call).
namespace settings_detail {
extern std::atomic<const server_config *> loaded;  // null until loaded
// The same once loaded, when the library acts on accepted connections
// (versions is not accept_none); else null.
extern std::atomic<const server_config *> accepting;
const server_config &load() noexcept;
}  // namespace settings_detail
inline const server_config &server_settings() noexcept {
  if (const server_config *c = settings_detail::loaded.load(std::memory_order_acquire))
      [[likely]]
    return *c;
  return settings_detail::load();
}

// The settings when they are loaded and the library acts on accepted
// connections, else null (then server_settings() says which): the accept
// path's first question, in one load.
inline const server_config *accepting_settings() noexcept {
  return settings_detail::accepting.load(std::memory_order_acquire);
}

}  // namespace proxyproto
