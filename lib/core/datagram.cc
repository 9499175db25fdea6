// The per-datagram rules of datagram.h, on top of the v2 parser.
#include "core/datagram.h"

#include <cstring>

#include "core/signatures.h"

namespace proxyproto {

namespace {

constexpr datagram_inspection verdict(datagram_verdict v,
                                      datagram_reason r) noexcept {
  datagram_inspection d{};
  d.verdict = v;
  d.reason = r;
  d.why = defect::none;
  return d;
}

constexpr datagram_inspection discard(datagram_reason r) noexcept {
  return verdict(datagram_verdict::discard, r);
}

datagram_inspection no_header(const datagram_rules &rules) noexcept {
  return rules.must_use_header
             ? discard(datagram_reason::no_header_under_must_use)
             : verdict(datagram_verdict::deliver, datagram_reason::none);
}

datagram_inspection need_more(size_t needed) noexcept {
  datagram_inspection d = verdict(datagram_verdict::need_more,
                                  datagram_reason::none);
  d.needed = needed;
  return d;
}

// The fixed part is all there: its length field says where the header ends.
constexpr size_t v2_length_from_fixed(const uint8_t *buf) noexcept {
  return v2_fixed_length + (static_cast<size_t>(buf[14]) << 8 | buf[15]);
}

// A PROXY header of a UDP family with no TLVs: source, destination,
// source port, destination port (§2.2).
datagram_inspection usual(const uint8_t *block, address_family family,
                          size_t address_length, size_t total) noexcept {
  datagram_inspection d = verdict(datagram_verdict::strip, datagram_reason::none);
  d.header_length = total;
  d.use_source = true;
  d.family = family;
  std::memcpy(d.source.address, block, address_length);
  std::memcpy(d.destination.address, block + address_length, address_length);
  const uint8_t *ports = block + 2 * address_length;
  d.source.port = static_cast<uint16_t>(ports[0] << 8 | ports[1]);
  d.destination.port = static_cast<uint16_t>(ports[2] << 8 | ports[3]);
  return d;
}

}  // namespace

datagram_inspection inspect_datagram(const uint8_t *buf, size_t have,
                                     size_t datagram_length,
                                     const datagram_rules &rules) noexcept {
  if (have > datagram_length) have = datagram_length;
  // Untrusted senders are never parsed: their bytes are theirs, and under
  // must-use they are not delivered at all (as an untrusted TCP peer is
  // dropped).
  if (!rules.sender_trusted)
    return rules.must_use_header
               ? discard(datagram_reason::untrusted_under_must_use)
               : verdict(datagram_verdict::deliver, datagram_reason::none);
  if ((rules.versions & accept_v2) == 0) return no_header(rules);

  // Only the full 12-byte signature, or a datagram that is nothing but a
  // strict prefix of it, counts: a sender never splits a header, so such a
  // short datagram is a header cut short (discarded: the application never
  // sees a byte of one), and anything that differs is payload.
  const size_t sig = sizeof v2_signature;
  const size_t compared = have < sig ? have : sig;
  if (compared == 0) {
    if (datagram_length == 0) return no_header(rules);
    return need_more(datagram_length < v2_fixed_length ? datagram_length
                                                       : v2_fixed_length);
  }
  if (std::memcmp(buf, v2_signature, compared) != 0) return no_header(rules);
  if (have < v2_fixed_length) {
    if (datagram_length <= have) {
      if (have > sig && (buf[sig] >> 4) != 2)
        return discard(datagram_reason::bad_version);
      return discard(datagram_reason::truncated);
    }
    return need_more(datagram_length < v2_fixed_length ? datagram_length
                                                       : v2_fixed_length);
  }
  if ((buf[sig] >> 4) != 2) return discard(datagram_reason::bad_version);

  const size_t total = v2_length_from_fixed(buf);
  if (total > datagram_length)
    return discard(datagram_reason::longer_than_datagram);
  if (total > have) return need_more(total);

  // The header a UDP proxy sends on every datagram: PROXY, UDP over IPv4
  // or IPv6, its address block and nothing else. No rule of §2.2 can fail
  // on it (a valid family byte, a length that is exactly the block, no TLV
  // and so no checksum), so it is read here, without the general parser,
  // which gives the same answer (tests/engine/check_usual_header.cc).
  if (buf[12] == 0x21) {
    if (buf[13] == 0x12 && total == v2_fixed_length + 12)
      return usual(buf + v2_fixed_length, address_family::inet, 4, total);
    if (buf[13] == 0x22 && total == v2_fixed_length + 36)
      return usual(buf + v2_fixed_length, address_family::inet6, 16, total);
  }

  header h;
  const parse_result r = parse_v2(buf, total, &h);
  if (r.status != parse_status::complete) {
    datagram_inspection d = discard(datagram_reason::invalid);
    d.why = r.status == parse_status::invalid ? r.why : defect::none;
    return d;
  }
  datagram_inspection d = verdict(datagram_verdict::strip, datagram_reason::none);
  d.header_length = r.length;
  d.family = h.family;
  d.use_source = h.cmd == command::proxy && h.proto == transport::dgram &&
                 (h.family == address_family::inet ||
                  h.family == address_family::inet6);
  if (d.use_source) {
    d.source = h.source;
    d.destination = h.destination;
  } else {
    d.family = address_family::unspec;
  }
  return d;
}

const char *datagram_reason_name(datagram_reason r) noexcept {
  switch (r) {
    case datagram_reason::none: return "none";
    case datagram_reason::untrusted_under_must_use: return "untrusted_under_must_use";
    case datagram_reason::no_header_under_must_use: return "no_header_under_must_use";
    case datagram_reason::truncated: return "truncated";
    case datagram_reason::bad_version: return "bad_version";
    case datagram_reason::longer_than_datagram: return "longer_than_datagram";
    case datagram_reason::invalid: return "invalid";
  }
  return "unknown";
}

}  // namespace proxyproto
