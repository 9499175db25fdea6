// Reads the PROXY header off a freshly accepted socket: the only code that
// does socket I/O on behalf of the parser. It never consumes a byte that is
// not part of a complete, valid header.
#pragma once

#include <sys/socket.h>

#include "config.h"

namespace proxyproto {

enum class header_outcome {
  proxied,     // header consumed; *source holds the address to report
  real_peer,   // header consumed (LOCAL, UNKNOWN, non-IP), or none present:
               // report the real peer
  drop,        // malformed, incomplete at the deadline, or missing under
               // must-use: the connection must be closed unseen
};

// `listener_family` is the family of the accepting socket (AF_INET or
// AF_INET6); it decides how an IPv4 source is presented (see
// endpoint_to_sockaddr). Waits at most config.timeout_ms for the header.
header_outcome read_proxy_header(int fd, const server_config &config,
                                 int listener_family,
                                 sockaddr_storage *source,
                                 socklen_t *source_len) noexcept;

}  // namespace proxyproto
