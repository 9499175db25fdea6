// proxyproto_keep_headers() and proxyproto_get_header(): the public face of
// the headers the accept flow keeps (lib/records/kept_headers.h).
#include <errno.h>

#include "api/internal_names.h"
#include "proxyproto.h"
#include "records/kept_headers.h"
#include "runtime/export.h"
#include "settings/header_features.h"

extern "C" {

PROXYPROTO_EXPORT int proxyproto_keep_headers(int on) {
  return proxyproto::set_keeping_headers(on != 0) ? 1 : 0;
}

PROXYPROTO_EXPORT ssize_t proxyproto_get_header(int fd, void *buf,
                                                size_t capacity,
                                                proxyproto_header *out) {
  const ssize_t length = proxyproto::kept_headers::copy(fd, buf, capacity);
  if (length < 0 || static_cast<size_t>(length) > capacity) return length;
  // The copy was valid when stored; parse it again for the caller's view.
  if (out != nullptr &&
      proxyproto_parse_internal(buf, static_cast<size_t>(length),
                                PROXYPROTO_V1 | PROXYPROTO_V2,
                                out) != PROXYPROTO_COMPLETE) {
    errno = ENOENT;
    return -1;
  }
  return length;
}

}  // extern "C"
