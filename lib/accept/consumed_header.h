// The one call the accept path makes when a header leaves the socket, so
// that the whole-header features (kept headers for the public API and
// getsockname(), the decoded debug line) cost the reader one line.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/proxy_header.h"
#include "runtime/log.h"
#include "settings/header_features.h"

namespace proxyproto {

// A complete, valid header of `length` bytes, `parsed` from `bytes`, has
// just been consumed from `fd`. Logs it decoded under LIBPROXYPROTO_DEBUG and
// keeps it when the application asked for headers. Costs one load when
// neither is on.
void keep_consumed_header(int fd, const uint8_t *bytes, size_t length,
                          const header &parsed) noexcept;
inline void on_header_consumed(int fd, const uint8_t *bytes, size_t length,
                               const header &parsed) noexcept {
  if (consumed_headers_wanted()) [[unlikely]]
    keep_consumed_header(fd, bytes, length, parsed);
}

}  // namespace proxyproto
