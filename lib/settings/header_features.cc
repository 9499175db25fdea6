// Both settings come from the server's settings (captured environment and
// configuration file), read once, on first use: the first consumed header,
// or the application's first API call.
#include "settings/header_features.h"

#include <pthread.h>

#include <atomic>

#include "runtime/log.h"
#include "settings/server_settings.h"

namespace proxyproto {

namespace {

// A word, as it is exchanged: an exchange of a byte is a call into
// libatomic on some targets (riscv64 with gcc 12).
constinit std::atomic<uint32_t> keep_headers{0};
constinit std::atomic<bool> report_destination{false};
constinit std::atomic<bool> loaded{false};
constinit pthread_once_t settings_once = PTHREAD_ONCE_INIT;

// The summary consumed_headers_wanted() reads, after either setting moved.
void publish_wanted() noexcept {
  using namespace header_features_detail;
  // The debug log is set with the server's settings, which are loaded by
  // then and never change.
  const uint8_t w = (keep_headers.load(std::memory_order_relaxed) ? keep_bit : 0) |
                    (report_destination.load(std::memory_order_relaxed) ? destination_bit : 0) |
                    (debug_logging() ? debug_bit : 0);
  wanted.store(w, std::memory_order_release);
}

void load_settings() noexcept {
  const server_config &config = server_settings();
  if (config.keep_header) keep_headers.store(1, std::memory_order_relaxed);
  report_destination.store(config.getsockname, std::memory_order_relaxed);
  loaded.store(true, std::memory_order_release);
  publish_wanted();
}

// Asked on every consumed header: once loaded, one acquire load.
constinit std::atomic<bool> settings_loaded{false};

void load_settings_once() noexcept {
  if (settings_loaded.load(std::memory_order_acquire)) [[likely]] return;
  pthread_once(&settings_once, load_settings);
  settings_loaded.store(true, std::memory_order_release);
}

}  // namespace

bool keeping_headers() noexcept {
  load_settings_once();
  return keep_headers.load(std::memory_order_relaxed) != 0;
}

bool set_keeping_headers(bool on) noexcept {
  load_settings_once();
  const bool was = keep_headers.exchange(on ? 1 : 0, std::memory_order_relaxed) != 0;
  publish_wanted();
  return was;
}

bool header_features_detail::wanted_after_loading() noexcept {
  load_settings_once();
  return keeping_headers() || getsockname_reports_destination() || debug_logging();
}

bool getsockname_reports_destination() noexcept {
  // Until a header has been consumed (which loads the settings) there is no
  // destination to report; loading them here would read the configuration
  // file in every process that calls getsockname(), clients included.
  if (!loaded.load(std::memory_order_acquire)) return false;
  return report_destination.load(std::memory_order_relaxed);
}

}  // namespace proxyproto
