// The calls the accept path makes into the "whole header" features (the
// public API's kept headers, LIBPROXYPROTO_GETSOCKNAME, the decoded debug
// line), so that the reader and the interposers hold one line each.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/proxy_header.h"

namespace proxyproto {

// A complete, valid header of `length` bytes, `parsed` from `bytes`, has
// just been consumed from `fd`. Logs it decoded under LIBPROXYPROTO_DEBUG and
// keeps it when the application asked for headers. Costs one load when
// neither is on.
void on_header_consumed(int fd, const uint8_t *bytes, size_t length,
                        const header &parsed) noexcept;

// LIBPROXYPROTO_KEEP_HEADER or proxyproto_keep_headers().
bool keeping_headers() noexcept;
// LIBPROXYPROTO_GETSOCKNAME.
bool getsockname_reports_destination() noexcept;

}  // namespace proxyproto
