// The two settings of the whole-header features: whether headers are kept
// for the public API (LIBPROXYPROTO_KEEP_HEADER, or proxyproto_keep_headers()
// at run time), and whether getsockname() reports the header's destination
// (LIBPROXYPROTO_GETSOCKNAME).
#pragma once

namespace proxyproto {

bool keeping_headers() noexcept;
// Turns keeping on or off; returns whether it was on.
bool set_keeping_headers(bool on) noexcept;

bool getsockname_reports_destination() noexcept;

}  // namespace proxyproto
