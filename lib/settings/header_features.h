// The two settings of the whole-header features: whether headers are kept
// for the public API (LIBPROXYPROTO_KEEP_HEADER, or proxyproto_keep_headers()
// at run time), and whether getsockname() reports the header's destination
// (LIBPROXYPROTO_GETSOCKNAME).
#pragma once

#include <atomic>
#include <cstdint>

namespace proxyproto {

namespace header_features_detail {
// keep_bit | destination_bit | debug_bit once the settings are loaded;
// unloaded_bit before. Nonzero means a consumed header may be wanted.
inline constexpr uint8_t keep_bit = 1, destination_bit = 2, unloaded_bit = 4, debug_bit = 8;
inline constinit std::atomic<uint8_t> wanted{unloaded_bit};
bool wanted_after_loading() noexcept;
}  // namespace header_features_detail

// Whether a consumed header is wanted decoded at all: kept for the API or
// for getsockname(), or logged under LIBPROXYPROTO_DEBUG. One load once the
// settings are loaded, asked on every consumed header.
inline bool consumed_headers_wanted() noexcept {
  using namespace header_features_detail;
  const uint8_t w = wanted.load(std::memory_order_acquire);
  if (w == 0) [[likely]] return false;
  if (!(w & unloaded_bit)) return true;
  return wanted_after_loading();
}

bool keeping_headers() noexcept;
// Turns keeping on or off; returns whether it was on.
bool set_keeping_headers(bool on) noexcept;

bool getsockname_reports_destination() noexcept;

}  // namespace proxyproto
