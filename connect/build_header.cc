#include "build_header.h"

#include "core/header_writer.h"
#include "core/sockaddr_convert.h"

namespace proxyproto {

static_assert(connect_header_capacity >= v1_write_capacity);

size_t build_header(const connect_config &config, const sockaddr *peer,
                    socklen_t peer_len, bool datagram, uint8_t *out,
                    size_t capacity) noexcept {
  header_fields fields{};
  fields.cmd = config.cmd;
  fields.source = config.source;
  address_family peer_family =
      sockaddr_to_endpoint(peer, peer_len, &fields.destination);
  // LIBPROXYPROTO_DESTINATION_ADDR / _PORT replace what the peer was.
  if (config.destination_address_set) {
    const uint16_t port = fields.destination.port;
    fields.destination = config.destination;
    fields.destination.port = port;
    peer_family = config.destination_family;
  }
  if (config.destination_port_set)
    fields.destination.port = config.destination.port;
  fields.family = map_to_common_family(config.source_family, &fields.source,
                                       peer_family, &fields.destination);
  fields.tlvs = config.tlvs;
  fields.tlvs_length = config.tlvs_length;
  fields.add_crc32c = config.add_crc32c;
  fields.datagram = datagram;
  return config.version == 1 && !datagram ? write_v1(fields, out, capacity)
                                          : write_v2(fields, out, capacity);
}

}  // namespace proxyproto
