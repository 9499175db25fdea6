// The invariants, one function each:
//  - parse: a complete header never claims more bytes than it was given,
//    ends where its TLVs end, and stays the same when more bytes follow;
//    every strict prefix of it is need_more; the version mask is honoured;
//    an invalid header always names its defect.
//  - round trip: a header written from fields taken from the input parses
//    back to the same fields, and the v1 and v2 headers written for the same
//    addresses parse to the same addresses.
//  - v1 and v2 readings: parse_v1 and parse_v2 (quick reading first)
//    answer exactly as the careful reading alone does, fields included, for
//    the input and each of its prefixes up to a header's length (under
//    prefix_walk::sampled, for a sample of inputs; for the others, the
//    input, a complete header alone and its last strict prefix).
//  - usual source: the accept path's direct reading of the usual v2
//    header's source (usual_v2_stream_source) is what endpoint_to_sockaddr
//    makes of the careful reading, exactly when that finds PROXY, TCP over
//    IPv4 or IPv6 and no TLV, on either kind of listener; and the v1
//    line's (usual_v1_stream_source), exactly for complete TCP4 and TCP6
//    lines.
//  - datagram: the verdict on a whole datagram is deliver, strip or
//    discard, never need_more; a stripped header is a complete v2 header
//    inside the datagram; must-use never delivers; an untrusted sender is
//    never stripped; a receiver given fewer bytes is asked for more, never
//    beyond the datagram, and reaches the same verdict once it has them.
#include "invariants.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "core/datagram.h"
#include "core/header_writer.h"
#include "core/sockaddr_convert.h"
#include "core/usual_header.h"
#include "core/proxy_header.h"
#include "core/tlv.h"

namespace pp_fuzz {

namespace {

using namespace proxyproto;

[[noreturn]] void fail(const char *what, size_t a, size_t b) {
  std::fprintf(stderr, "invariant broken: %s (%zu, %zu)\n", what, a, b);
  std::fflush(stderr);
  std::abort();
}

#define PP_REQUIRE(cond, a, b) \
  do {                         \
    if (!(cond)) fail(#cond, static_cast<size_t>(a), static_cast<size_t>(b)); \
  } while (0)

bool same_endpoint(const ip_endpoint &x, const ip_endpoint &y, size_t n) {
  return x.port == y.port && std::memcmp(x.address, y.address, n) == 0;
}

// Checking every prefix is quadratic; long headers get the boundaries
// (the fixed part, the last bytes) and an even spread in between.
bool prefix_worth_checking(size_t n, size_t length) {
  if (length <= 512) return true;
  return n < 64 || length - n <= 64 || n % (length / 64 + 1) == 0;
}

// One input in walk_one_in has every prefix walked under prefix_walk::sampled.
constexpr uint32_t walk_one_in = 8;

bool walk_every_prefix(const uint8_t *data, size_t size, prefix_walk walk) {
  if (walk == prefix_walk::every_input) return true;
  uint32_t h = 2166136261u;  // FNV-1a over the first bytes and the length
  for (size_t i = 0; i < size && i < 32; ++i) h = (h ^ data[i]) * 16777619u;
  h = (h ^ static_cast<uint32_t>(size)) * 16777619u;
  return h % walk_one_in == 0;
}

void check_parse(const uint8_t *data, size_t size, unsigned versions, bool every_prefix) {
  header h;
  std::memset(&h, 0xA5, sizeof h);
  const parse_result r = parse_header(data, size, versions, &h);
  switch (r.status) {
    case parse_status::complete: {
      PP_REQUIRE(r.length > 0 && r.length <= size, r.length, size);
      PP_REQUIRE(r.why == defect::none, r.why, 0);
      PP_REQUIRE(h.length == r.length, h.length, r.length);
      PP_REQUIRE(h.version == 1 || h.version == 2, h.version, 0);
      PP_REQUIRE((versions & h.version) != 0, versions, h.version);
      if (h.version == 1) PP_REQUIRE(r.length <= v1_max_length, r.length, 0);
      if (h.version == 2) PP_REQUIRE(r.length <= v2_max_length, r.length, 0);
      if (h.version == 2 && h.tlvs_length > 0)
        PP_REQUIRE(h.tlvs + h.tlvs_length == data + r.length, h.tlvs_length, r.length);
      // The same bytes alone give the same header.
      header again;
      const parse_result exact = parse_header(data, r.length, versions, &again);
      PP_REQUIRE(exact.status == parse_status::complete && exact.length == r.length,
                 exact.status, exact.length);
      for (size_t n = every_prefix ? 0 : r.length - 1; n < r.length; ++n) {
        if (!prefix_worth_checking(n, r.length)) continue;
        header part;
        const parse_result p = parse_header(data, n, versions, &part);
        PP_REQUIRE(p.status == parse_status::need_more, n, p.status);
      }
      break;
    }
    case parse_status::invalid:
      PP_REQUIRE(r.why != defect::none && r.length == 0, r.why, r.length);
      break;
    case parse_status::need_more:
      // Only a strict prefix of a header can still be growing.
      PP_REQUIRE(r.length == 0 && size < v2_max_length, r.length, size);
      break;
    case parse_status::not_proxy:
      PP_REQUIRE(r.why == defect::none && r.length == 0, r.why, r.length);
      break;
  }
}

// Reads fields from the input: byte 0 picks command/family/crc, then
// addresses and ports, then up to 300 bytes of one opaque TLV.
void check_round_trip(const uint8_t *data, size_t size) {
  if (size < 1 + 2 * 16 + 4) return;
  header_fields f;
  std::memset(&f, 0, sizeof f);
  const uint8_t choice = data[0];
  f.cmd = (choice & 0x08) ? command::local : command::proxy;
  f.family = (choice & 0x03) == 0   ? address_family::unspec
             : (choice & 0x03) == 1 ? address_family::inet
                                    : address_family::inet6;
  f.add_crc32c = (choice & 0x80) != 0;
  std::memcpy(f.source.address, data + 1, 16);
  std::memcpy(f.destination.address, data + 17, 16);
  f.source.port = static_cast<uint16_t>(data[33] << 8 | data[34]);
  f.destination.port = static_cast<uint16_t>(data[35] << 8 | data[36]);
  const size_t rest = size - 37 < 300 ? size - 37 : 300;
  uint8_t tlv_bytes[3 + 300];
  if (choice & 0x04) {
    tlv_bytes[0] = 0xE0;  // a custom type: opaque to the parser
    tlv_bytes[1] = static_cast<uint8_t>(rest >> 8);
    tlv_bytes[2] = static_cast<uint8_t>(rest);
    std::memcpy(tlv_bytes + 3, data + 37, rest);
    f.tlvs = tlv_bytes;
    f.tlvs_length = 3 + rest;
  }
  const bool addresses = f.cmd == command::proxy && f.family != address_family::unspec;
  const size_t addr_len = f.family == address_family::inet ? 4 : 16;

  uint8_t v1[v1_write_capacity];
  const size_t n1 = write_v1(f, v1, sizeof v1);
  PP_REQUIRE(n1 > 0, n1, 0);
  header h1;
  const parse_result r1 = parse_header(v1, n1, accept_v1_v2, &h1);
  PP_REQUIRE(r1.status == parse_status::complete && r1.length == n1, r1.status, r1.why);
  PP_REQUIRE(h1.version == 1 && h1.cmd == command::proxy, h1.version, h1.cmd);
  PP_REQUIRE(h1.family == (addresses ? f.family : address_family::unspec), h1.family,
             f.family);

  uint8_t v2[v2_address_write_capacity + sizeof tlv_bytes + 7];
  const size_t n2 = write_v2(f, v2, sizeof v2);
  PP_REQUIRE(n2 > 0, n2, 0);
  header h2;
  const parse_result r2 = parse_header(v2, n2, accept_v1_v2, &h2);
  PP_REQUIRE(r2.status == parse_status::complete && r2.length == n2, r2.status, r2.why);
  PP_REQUIRE(h2.version == 2 && h2.cmd == f.cmd, h2.version, h2.cmd);
  if (!addresses) return;
  PP_REQUIRE(h2.family == f.family && h2.proto == transport::stream, h2.family, h2.proto);
  PP_REQUIRE(h2.tlvs_length == f.tlvs_length + (f.add_crc32c ? 7 : 0), h2.tlvs_length,
             f.tlvs_length);
  PP_REQUIRE(f.tlvs_length == 0 || std::memcmp(h2.tlvs, f.tlvs, f.tlvs_length) == 0, 0, 0);
  PP_REQUIRE(same_endpoint(h2.source, f.source, addr_len), 2, 0);
  PP_REQUIRE(same_endpoint(h2.destination, f.destination, addr_len), 2, 1);
  // v1 and v2 agree on the same addresses.
  PP_REQUIRE(same_endpoint(h1.source, h2.source, addr_len), 1, 0);
  PP_REQUIRE(same_endpoint(h1.destination, h2.destination, addr_len), 1, 1);
}

// The accept path's direct reading of a usual header's source
// (usual_v2_stream_source, usual_v1_stream_source) on n bytes, against the
// careful reading of the same bytes: it answers exactly for PROXY over TCP,
// IPv4 or IPv6, without TLVs (every complete TCP4 or TCP6 line, for v1),
// with what endpoint_to_sockaddr makes of the source, on either kind of
// listener.
using source_reader = size_t (*)(const uint8_t *, size_t, int, sockaddr_storage *,
                                 socklen_t *) noexcept;
void check_usual_source(source_reader read_source, const uint8_t *data, size_t n,
                        const parse_result &b, const header &careful) {
  const bool usual = b.status == parse_status::complete && careful.cmd == command::proxy &&
                     careful.proto == transport::stream &&
                     (careful.family == address_family::inet ||
                      careful.family == address_family::inet6) &&
                     careful.tlvs_length == 0;
  for (int listener_family : {AF_INET, AF_INET6}) {
    sockaddr_storage got, want;
    socklen_t got_len = 0;
    const size_t length = read_source(data, n, listener_family, &got, &got_len);
    PP_REQUIRE(length == (usual ? b.length : 0), length, n);
    if (!usual) continue;
    const socklen_t want_len =
        endpoint_to_sockaddr(careful.family, careful.source, listener_family, &want);
    PP_REQUIRE(got_len == want_len, got_len, want_len);
    PP_REQUIRE(std::memcmp(&got, &want, want_len) == 0, n, listener_family);
  }
}

// A parser with a quick reading of the usual input must answer as its
// careful reading does, fields included, and so must the direct reading of
// the usual header's source. One prefix of n bytes; returns the header's
// length when the careful reading finds a complete one, else 0.
using parser = parse_result (*)(const uint8_t *, size_t, header *) noexcept;
size_t check_same_reading_of(parser quick_reading, parser careful_reading,
                             source_reader read_source, const uint8_t *data,
                             size_t n) {
  header quick, careful;
  std::memset(&quick, 0x5A, sizeof quick);
  std::memset(&careful, 0xA5, sizeof careful);
  const parse_result a = quick_reading(data, n, &quick);
  const parse_result b = careful_reading(data, n, &careful);
  check_usual_source(read_source, data, n, b, careful);
  PP_REQUIRE(a.status == b.status, a.status, b.status);
  PP_REQUIRE(a.why == b.why, a.why, b.why);
  PP_REQUIRE(a.length == b.length, a.length, b.length);
  if (a.status != parse_status::complete) return 0;
  PP_REQUIRE(quick.version == careful.version && quick.cmd == careful.cmd &&
                 quick.proto == careful.proto && quick.length == careful.length,
             quick.length, careful.length);
  PP_REQUIRE(quick.family == careful.family, quick.family, careful.family);
  PP_REQUIRE(quick.tlvs_length == careful.tlvs_length, quick.tlvs_length,
             careful.tlvs_length);
  const size_t addr_len = quick.family == address_family::inet    ? 4
                          : quick.family == address_family::inet6 ? 16
                                                                   : 0;
  if (addr_len == 0) return b.length;
  PP_REQUIRE(quick.tlvs == careful.tlvs, n, 2);
  PP_REQUIRE(same_endpoint(quick.source, careful.source, addr_len), n, 0);
  PP_REQUIRE(same_endpoint(quick.destination, careful.destination, addr_len), n, 1);
  return b.length;
}

// The same on the input up to `decided_within` + 1 bytes, and on each of
// its prefixes (every_prefix), or on a complete header alone and on the
// byte before its end, where both readings must still ask for more.
void check_same_reading(parser quick_reading, parser careful_reading,
                        source_reader read_source, const uint8_t *data, size_t size,
                        size_t decided_within, bool every_prefix) {
  const size_t last = size < decided_within + 1 ? size : decided_within + 1;
  const size_t length =
      check_same_reading_of(quick_reading, careful_reading, read_source, data, last);
  if (every_prefix) {
    for (size_t n = 0; n < last; ++n)
      check_same_reading_of(quick_reading, careful_reading, read_source, data, n);
  } else if (length > 0) {
    check_same_reading_of(quick_reading, careful_reading, read_source, data, length);
    check_same_reading_of(quick_reading, careful_reading, read_source, data, length - 1);
  }
}

void check_datagram(const uint8_t *data, size_t size,
                    const datagram_rules &rules) {
  const datagram_inspection whole = inspect_datagram(data, size, size, rules);
  PP_REQUIRE(whole.verdict != datagram_verdict::need_more, whole.needed, size);
  if (rules.must_use_header)
    PP_REQUIRE(whole.verdict != datagram_verdict::deliver, size, 0);
  if (whole.verdict == datagram_verdict::strip) {
    PP_REQUIRE(rules.sender_trusted, 0, 0);
    PP_REQUIRE(whole.header_length >= v2_fixed_length &&
                   whole.header_length <= size, whole.header_length, size);
    header h;
    const parse_result r = parse_v2(data, whole.header_length, &h);
    PP_REQUIRE(r.status == parse_status::complete &&
                   r.length == whole.header_length, r.length,
               whole.header_length);
    if (whole.use_source)
      PP_REQUIRE(h.proto == transport::dgram &&
                     (whole.family == address_family::inet ||
                      whole.family == address_family::inet6),
                 whole.family, h.proto);
  }
  // A short buffer: asked for more, up to the datagram, then the same
  // verdict (a header needs at most two rounds: its fixed part, its body).
  const size_t cuts[] = {0, 1, 12, 15, 16, size / 2, size > 0 ? size - 1 : 0};
  for (size_t have : cuts) {
    if (have >= size) continue;
    datagram_inspection d = inspect_datagram(data, have, size, rules);
    for (int round = 0; round < 3 && d.verdict == datagram_verdict::need_more;
         ++round) {
      PP_REQUIRE(d.needed > have && d.needed <= size, d.needed, have);
      have = d.needed;
      d = inspect_datagram(data, have, size, rules);
    }
    PP_REQUIRE(d.verdict == whole.verdict, d.verdict, whole.verdict);
    PP_REQUIRE(d.reason == whole.reason, d.reason, whole.reason);
    PP_REQUIRE(d.header_length == whole.header_length, d.header_length,
               whole.header_length);
  }
}

}  // namespace

void check_invariants(const uint8_t *data, size_t size, prefix_walk walk) {
  const bool every_prefix = walk_every_prefix(data, size, walk);
  // A v1 line is read within its first 107 bytes, the usual v2 header
  // within 16 + 36: longer inputs only repeat the outcome of that prefix.
  check_same_reading(parse_v1, parse_v1_careful, usual_v1_stream_source, data, size,
                     v1_max_length, every_prefix);
  check_same_reading(parse_v2, parse_v2_careful, usual_v2_stream_source, data, size,
                     v2_fixed_length + 36, every_prefix);
  check_parse(data, size, accept_v1_v2, every_prefix);
  check_parse(data, size, accept_v1, every_prefix);
  check_parse(data, size, accept_v2, every_prefix);
  check_round_trip(data, size);
  const unsigned masks[] = {accept_v2, accept_v1};
  const bool choices[] = {false, true};
  for (unsigned versions : masks)
    for (bool must_use : choices)
      for (bool trusted : choices)
        check_datagram(data, size, datagram_rules{versions, must_use, trusted});
}

}  // namespace pp_fuzz
