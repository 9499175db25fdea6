// The usual headers read directly. v2: PROXY, TCP over IPv4 or IPv6, its
// address block and no TLV, inline, so that the accept path reads it
// without a call (parse_v2 starts with it too). v1: a well-formed TCP4 or
// TCP6 line, out of line in parse_v1.cc, beside the quick reading it uses.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/proxy_header.h"
#include "core/signatures.h"
#include "core/sockaddr_convert.h"

namespace proxyproto {

namespace usual_header_detail {
inline constexpr size_t inet_block = 2 * 4 + 2 * 2;    // §2.2: 12 bytes
inline constexpr size_t inet6_block = 2 * 16 + 2 * 2;  // §2.2: 36 bytes
constexpr uint16_t be16(const uint8_t *p) noexcept {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
}  // namespace usual_header_detail

// The header nearly every proxy sends on a TCP connection: PROXY, TCP over
// IPv4 (0x11) or IPv6 (0x21), its address block and nothing else. No rule
// of §2.2 can fail on it (a valid version, command and family byte, a
// length that is exactly the block, no TLV and so no checksum), so it is
// read without the careful reading; parse_v2_careful gives the same answer
// (tests/unit/check_parse_v2.cc, and the fuzz invariants for every input).
// Its total length, or 0 for any other input: the test both readings
// below share.
inline size_t usual_v2_stream_length(const uint8_t *buf, size_t len) noexcept {
  using namespace usual_header_detail;
  if (len < v2_fixed_length + inet_block || buf[12] != 0x21) return 0;
  const uint8_t fam = buf[13];
  const size_t block = fam == 0x11 ? inet_block : fam == 0x21 ? inet6_block : 0;
  if (block == 0 || be16(buf + 14) != block || len < v2_fixed_length + block)
    return 0;
  if (match_v2_signature(buf, len) != prefix_match::full) return 0;
  return v2_fixed_length + block;
}

// The usual header read into *out, as parse_v2 would: its length, or 0.
inline size_t usual_v2_stream_header(const uint8_t *buf, size_t len, header *out) noexcept {
  using namespace usual_header_detail;
  const size_t total = usual_v2_stream_length(buf, len);
  if (total == 0) return 0;
  const size_t block = total - v2_fixed_length;
  *out = header{};
  out->version = 2;
  out->length = total;
  out->cmd = command::proxy;
  out->proto = transport::stream;
  const uint8_t *a = buf + v2_fixed_length;
  if (block == inet_block) {
    out->family = address_family::inet;
    std::memcpy(out->source.address, a, 4);
    std::memcpy(out->destination.address, a + 4, 4);
  } else {
    out->family = address_family::inet6;
    std::memcpy(out->source.address, a, 16);
    std::memcpy(out->destination.address, a + 16, 16);
  }
  out->source.port = be16(a + block - 4);
  out->destination.port = be16(a + block - 2);
  out->tlvs = buf + total;
  out->tlvs_length = 0;
  return total;
}

// The usual header's source, read straight into the address accept(2)
// reports, without a header in between: what endpoint_to_sockaddr makes
// of usual_v2_stream_header's source (the same tests hold it to that).
// The wire's address and port are already in network order. Returns the
// header's length, or 0 for any other input (*out then undefined).
inline size_t usual_v2_stream_source(const uint8_t *buf, size_t len, int listener_family,
                                     sockaddr_storage *out, socklen_t *out_len) noexcept {
  using namespace usual_header_detail;
  const size_t total = usual_v2_stream_length(buf, len);
  if (total == 0) return 0;
  const uint8_t *a = buf + v2_fixed_length;
  // As endpoint_to_sockaddr: the part a sockaddr_in6 can fill is cleared.
  std::memset(out, 0, sizeof(sockaddr_in6));
  if (total == v2_fixed_length + inet_block && listener_family != AF_INET6) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    std::memcpy(&sin.sin_port, a + 8, 2);
    std::memcpy(&sin.sin_addr, a, 4);
    std::memcpy(out, &sin, sizeof sin);
    *out_len = sizeof sin;
    return total;
  }
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  if (total == v2_fixed_length + inet_block) {
    // An IPv4 source on an IPv6 listener: ::ffff:a.b.c.d, as the kernel
    // shows it on a dual-stack socket.
    std::memcpy(&sin6.sin6_port, a + 8, 2);
    std::memcpy(sin6.sin6_addr.s6_addr, sockaddr_convert_detail::v4_mapped_prefix, 12);
    std::memcpy(sin6.sin6_addr.s6_addr + 12, a, 4);
  } else {
    std::memcpy(&sin6.sin6_port, a + 32, 2);
    std::memcpy(sin6.sin6_addr.s6_addr, a, 16);
  }
  std::memcpy(out, &sin6, sizeof sin6);
  *out_len = sizeof sin6;
  return total;
}

// The usual v1 line (a well-formed TCP4 or TCP6 line, as parse_v1's quick
// reading takes it) with its source read into the address accept(2)
// reports, as endpoint_to_sockaddr makes it of parse_v1's source. Returns
// the line's length, or 0 for any other input, which parse_v1 decides
// (*out then undefined).
size_t usual_v1_stream_source(const uint8_t *buf, size_t len, int listener_family,
                              sockaddr_storage *out, socklen_t *out_len) noexcept;

}  // namespace proxyproto
