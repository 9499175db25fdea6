// The server library's settings, read from the environment once, on the
// first intercepted accept(), so that loading the library costs nothing.
#pragma once

namespace proxyproto {

struct server_config {
  unsigned versions;      // LIBPROXYPROTO_VERSION, a version_mask
  bool must_use_header;   // LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER
  bool debug;             // LIBPROXYPROTO_DEBUG
  unsigned timeout_ms;    // LIBPROXYPROTO_TIMEOUT
};

inline constexpr unsigned default_versions = 3;
inline constexpr unsigned default_timeout_ms = 3000;  // §1: cover a retransmit
inline constexpr unsigned max_timeout_ms = 600000;

// Thread-safe; the first call reads the environment (secure_getenv, so a
// setuid program ignores it) and reports bad values on stderr.
const server_config &server_settings() noexcept;

}  // namespace proxyproto
