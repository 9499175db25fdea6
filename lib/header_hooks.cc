// Settings of the whole-header features and the hook the accept path calls.
//
// Both settings are read once, on first use (the first consumed header, or
// the application's first API call), never at load time.
#include "header_hooks.h"

#include <errno.h>
#include <pthread.h>

#include <atomic>

#include "core/sockaddr_convert.h"
#include "core/setting_values.h"
#include "header_store.h"
#include "proxyproto.h"
#include "public_convert.h"
#include "runtime/environment.h"
#include "runtime/export.h"
#include "runtime/log.h"

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

void load_settings_once() noexcept { pthread_once(&settings_once, load_settings); }

// The header's destination, when it names a TCP endpoint to report.
socklen_t destination_of(const header &h, sockaddr_storage *out) noexcept {
  if (h.cmd != command::proxy || h.proto != transport::stream ||
      (h.family != address_family::inet && h.family != address_family::inet6))
    return 0;
  const int own = h.family == address_family::inet ? AF_INET : AF_INET6;
  return endpoint_to_sockaddr(h.family, h.destination, own, out);
}

}  // namespace

bool keeping_headers() noexcept {
  load_settings_once();
  return keep_headers.load(std::memory_order_relaxed);
}

bool getsockname_reports_destination() noexcept {
  load_settings_once();
  return report_destination.load(std::memory_order_relaxed);
}

void on_header_consumed(int fd, const uint8_t *bytes, size_t length,
                        const header &parsed) noexcept {
  if (debug_logging()) {
    proxyproto_header h;
    to_public_header(parsed, &h);
    char text[400];
    proxyproto_describe(&h, text, sizeof text);
    PP_DEBUG("header on fd %d: %s", fd, text);
  }
  const bool for_api = keeping_headers();
  if (!for_api && !getsockname_reports_destination()) return;
  sockaddr_storage destination{};
  const socklen_t destination_length = destination_of(parsed, &destination);
  if (!header_store::store(fd, bytes, length, destination, destination_length,
                           for_api))
    PP_DEBUG("could not keep the header of fd %d", fd);
}

}  // namespace proxyproto

extern "C" {

PROXYPROTO_EXPORT int proxyproto_keep_headers(int on) {
  proxyproto::load_settings_once();
  return proxyproto::keep_headers.exchange(on != 0, std::memory_order_relaxed)
             ? 1
             : 0;
}

PROXYPROTO_EXPORT ssize_t proxyproto_get_header(int fd, void *buf,
                                                size_t capacity,
                                                proxyproto_header *out) {
  const ssize_t length = proxyproto::header_store::copy(fd, buf, capacity);
  if (length < 0 || static_cast<size_t>(length) > capacity) return length;
  // The copy was valid when stored; parse it again for the caller's view.
  if (out != nullptr &&
      proxyproto_parse(buf, static_cast<size_t>(length),
                       PROXYPROTO_V1 | PROXYPROTO_V2, out) != PROXYPROTO_COMPLETE) {
    errno = ENOENT;
    return -1;
  }
  return length;
}

}  // extern "C"
