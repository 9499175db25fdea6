// Both settings are read once, on first use (the first consumed header, or
// the application's first API call), never at load time.
#include "settings/header_features.h"

#include <pthread.h>

#include <atomic>

#include "core/setting_values.h"
#include "runtime/environment.h"

namespace proxyproto {

namespace {

constinit std::atomic<bool> keep_headers{false};
constinit std::atomic<bool> report_destination{false};
constinit pthread_once_t settings_once = PTHREAD_ONCE_INIT;

void load_settings() noexcept {
  if (setting_is_on(environment_setting("LIBPROXYPROTO_KEEP_HEADER")))
    keep_headers.store(true, std::memory_order_relaxed);
  report_destination.store(
      setting_is_on(environment_setting("LIBPROXYPROTO_GETSOCKNAME")),
      std::memory_order_relaxed);
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
  return keep_headers.load(std::memory_order_relaxed);
}

bool set_keeping_headers(bool on) noexcept {
  load_settings_once();
  return keep_headers.exchange(on, std::memory_order_relaxed);
}

bool getsockname_reports_destination() noexcept {
  load_settings_once();
  return report_destination.load(std::memory_order_relaxed);
}

}  // namespace proxyproto
