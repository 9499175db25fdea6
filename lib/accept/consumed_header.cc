#include "accept/consumed_header.h"

#include <sys/socket.h>

#include "api/convert.h"
#include "api/internal_names.h"
#include "core/sockaddr_convert.h"
#include "proxyproto.h"
#include "records/kept_headers.h"
#include "runtime/log.h"
#include "settings/header_features.h"

namespace proxyproto {

namespace {

// The header's destination, when it names a TCP endpoint to report.
socklen_t destination_of(const header &h, sockaddr_storage *out) noexcept {
  if (h.cmd != command::proxy || h.proto != transport::stream ||
      (h.family != address_family::inet && h.family != address_family::inet6))
    return 0;
  const int own = h.family == address_family::inet ? AF_INET : AF_INET6;
  return endpoint_to_sockaddr(h.family, h.destination, own, out);
}

}  // namespace

__attribute__((noinline)) void keep_consumed_header(int fd, const uint8_t *bytes,
                                                   size_t length,
                                                   const header &parsed) noexcept {
  if (debug_logging()) {
    proxyproto_header h;
    to_public_header(parsed, &h);
    char text[400];
    proxyproto_describe_internal(&h, text, sizeof text);
    PP_DEBUG("header on fd %d: %s", fd, text);
  }
  const bool for_api = keeping_headers();
  if (!for_api && !getsockname_reports_destination()) return;
  sockaddr_storage destination{};
  const socklen_t destination_length = destination_of(parsed, &destination);
  if (!kept_headers::store(fd, bytes, length, destination, destination_length,
                           for_api))
    PP_DEBUG("could not keep the header of fd %d", fd);
}

}  // namespace proxyproto
