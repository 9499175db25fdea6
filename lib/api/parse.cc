// The public parser: lib/core's parse_header, its result turned into the C
// struct. Nothing is parsed twice and nothing is copied but addresses.
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>

#include "api/convert.h"
#include "api/internal_names.h"
#include "core/sockaddr_convert.h"
#include "runtime/export.h"

namespace proxyproto {

namespace {

int family_of(address_family f) noexcept {
  switch (f) {
    case address_family::inet: return AF_INET;
    case address_family::inet6: return AF_INET6;
    case address_family::unix_domain: return AF_UNIX;
    case address_family::unspec: break;
  }
  return AF_UNSPEC;
}

int transport_of(transport t) noexcept {
  switch (t) {
    case transport::stream: return SOCK_STREAM;
    case transport::dgram: return SOCK_DGRAM;
    case transport::unspec: break;
  }
  return 0;
}

// §2.2: a unix address is 108 bytes, NUL-padded.
socklen_t unix_sockaddr(const uint8_t *path, sockaddr_storage *out) noexcept {
  sockaddr_un un{};
  un.sun_family = AF_UNIX;
  static_assert(sizeof un.sun_path == 108);
  std::memcpy(un.sun_path, path, sizeof un.sun_path);
  std::memcpy(out, &un, sizeof un);
  const size_t used = strnlen(un.sun_path, sizeof un.sun_path);
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + used);
}

}  // namespace

void to_public_header(const header &h, proxyproto_header *out) noexcept {
  std::memset(out, 0, sizeof *out);
  out->version = h.version;
  out->command = h.cmd == command::proxy ? PROXYPROTO_CMD_PROXY
                                         : PROXYPROTO_CMD_LOCAL;
  out->family = family_of(h.family);
  out->transport = transport_of(h.proto);
  switch (h.family) {
    case address_family::inet:
    case address_family::inet6: {
      // Each address keeps its own family (no v4-mapping here).
      const int own = family_of(h.family);
      out->source_length =
          endpoint_to_sockaddr(h.family, h.source, own, &out->source);
      out->destination_length = endpoint_to_sockaddr(
          h.family, h.destination, own, &out->destination);
      break;
    }
    case address_family::unix_domain:
      out->source_length = unix_sockaddr(h.unix_source, &out->source);
      out->destination_length =
          unix_sockaddr(h.unix_destination, &out->destination);
      break;
    case address_family::unspec:
      break;
  }
  out->tlvs = h.tlvs;
  out->tlvs_length = h.tlvs != nullptr ? h.tlvs_length : 0;
  out->length = h.length;
  out->defect = defect_name(defect::none);
}

}  // namespace proxyproto

extern "C" PROXYPROTO_EXPORT int proxyproto_parse(const void *buf,
                                                  size_t length,
                                                  unsigned versions,
                                                  proxyproto_header *out) {
  using namespace proxyproto;
  if (buf == nullptr || out == nullptr) return PROXYPROTO_INVALID;
  header h{};
  const parse_result r = parse_header(static_cast<const uint8_t *>(buf),
                                      length, versions & accept_v1_v2, &h);
  switch (r.status) {
    case parse_status::complete:
      to_public_header(h, out);
      return PROXYPROTO_COMPLETE;
    case parse_status::need_more:
      return PROXYPROTO_NEED_MORE;
    case parse_status::not_proxy:
      return PROXYPROTO_NOT_PROXY;
    case parse_status::invalid:
      out->defect = defect_name(r.why);
      return PROXYPROTO_INVALID;
  }
  return PROXYPROTO_INVALID;
}

PROXYPROTO_INTERNAL_NAME(proxyproto_parse);
