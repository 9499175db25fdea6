// Version 1: one line of US-ASCII text (haproxy:doc/proxy-protocol.txt §2.1).
//
//   "PROXY" SP ( "TCP4" | "TCP6" ) SP src SP dst SP sport SP dport CRLF
//   "PROXY" SP "UNKNOWN" [ SP <anything but CRLF> ] CRLF
//
// Two readings of the same grammar. The quick one walks a well-formed TCP4,
// TCP6 or bare UNKNOWN line once, byte by byte, decoding as it goes, and
// answers only "complete" (with the header) or "not sure". Everything it
// accepts is accepted by the careful one with the same fields: it takes
// only digits, dots, hex digits, colons and single spaces before the CRLF,
// so that CRLF is the line's first CR or LF, and it checks the 107 bytes.
// The careful reading decides every other input: it locates the line first
// (§2.1: wait for CRLF before decoding), then decodes it field by field, so
// that the outcome of a bad or short line (need_more before any field
// error, the first field's defect first) is the rules' own. Every field
// separator is exactly one space.
#include <bit>
#include <cstring>

#include "core/inet_text.h"
#include "core/proxy_header.h"
#include "core/signatures.h"
#include "core/sockaddr_convert.h"
#include "core/usual_header.h"

namespace proxyproto {

namespace {

constexpr parse_result reject(defect why) noexcept {
  return {parse_status::invalid, why, 0};
}

// ---- The careful reading -----------------------------------------------------

// Where the CRLF of the line starts, or the status that stops the search.
struct line_end {
  parse_status status;  // complete when `cr` is valid
  defect why;
  size_t cr;
};

line_end find_crlf(const uint8_t *buf, size_t len) noexcept {
  const size_t scan = len < v1_max_length ? len : v1_max_length;
  for (size_t i = 0; i < scan; ++i) {
    if (buf[i] == '\n')  // §2.1: a lone LF never ends the line
      return {parse_status::invalid, defect::v1_lone_cr_or_lf, 0};
    if (buf[i] != '\r') continue;
    // §2.1: the CRLF must fit within the first 107 bytes.
    if (i + 1 >= v1_max_length)
      return {parse_status::invalid, defect::v1_no_crlf_in_107_bytes, 0};
    if (i + 1 == len) return {parse_status::need_more, defect::none, 0};
    if (buf[i + 1] != '\n')  // §2.1: nor does a lone CR
      return {parse_status::invalid, defect::v1_lone_cr_or_lf, 0};
    return {parse_status::complete, defect::none, i};
  }
  if (len >= v1_max_length)
    return {parse_status::invalid, defect::v1_no_crlf_in_107_bytes, 0};
  return {parse_status::need_more, defect::none, 0};
}

// A cursor over the line without its CRLF.
class fields {
 public:
  constexpr fields(const uint8_t *line, size_t len) noexcept
      : line_(line), len_(len) {}

  // Reads " <token>". `missing` is the defect when the line has ended.
  // A separator that is not exactly one space, or an empty token, is
  // v1_bad_space.
  bool next(const char **token, size_t *token_len, defect missing,
            defect *why) noexcept {
    if (pos_ == len_) {
      *why = missing;
      return false;
    }
    if (line_[pos_] != ' ') {
      *why = defect::v1_bad_space;
      return false;
    }
    const size_t start = ++pos_;
    while (pos_ < len_ && line_[pos_] != ' ') ++pos_;
    if (pos_ == start) {
      *why = defect::v1_bad_space;
      return false;
    }
    *token = reinterpret_cast<const char *>(line_ + start);
    *token_len = pos_ - start;
    return true;
  }

  constexpr bool at_end() const noexcept { return pos_ == len_; }
  constexpr void skip(size_t n) noexcept { pos_ += n; }

 private:
  const uint8_t *line_;
  size_t len_;
  size_t pos_ = 0;
};

bool token_is(const char *token, size_t len, const char *word) noexcept {
  return len == std::strlen(word) && std::memcmp(token, word, len) == 0;
}

// ---- The quick reading -------------------------------------------------------

// The header every v1 line starts from: a stream PROXY of `total` bytes.
void start_header(header *out, address_family family, size_t total) noexcept {
  *out = header{};
  out->version = 1;
  out->cmd = command::proxy;
  out->proto = transport::stream;
  out->family = family;
  out->length = total;
}

// The quick reading never reads past the buffer, and its number loops
// have no bound check: each reads a byte only after a digit, a dot or a
// space, and stops at any other byte. So a buffer whose last byte is none
// of those bounds them all. That is true of a lone line (it ends in LF) and
// of most data after one; for any other buffer the line's first CR is found
// first (memchr, libc's vector search) and stands in for that last byte.
// An IPv6 address is scanned up to an explicit end either way.

// Whether a buffer ending in `last` bounds the number loops by itself.
constexpr bool stops_every_field(uint8_t last) noexcept {
  return !((last >= '0' && last <= '9') || last == '.' || last == ' ');
}

// The numbers are read as far as they can go and no further: a number
// ends after its fifth digit (a port) or third (a quad's), or after a
// leading 0, and the caller then requires the separator. So "1234." or
// "05" fails on the byte after the number read ('4', '5'), never on a test
// of its own.

// A port at p (0-65535, 1-5 digits, no leading zero): the byte after it,
// or null. As for the quad's numbers, each byte read follows a digit.
inline const uint8_t *quick_port(const uint8_t *p, uint32_t *out) noexcept {
  uint32_t value = static_cast<uint32_t>(p[0]) - '0';
  if (value > 9) return nullptr;
  if (value == 0) {  // "0"; a digit after it is not the separator
    *out = 0;
    return p + 1;
  }
#pragma GCC unroll 4
  for (size_t i = 1; i < 5; ++i) {
    const uint32_t digit = static_cast<uint32_t>(p[i]) - '0';
    if (digit > 9) {
      *out = value;
      return p + i;
    }
    value = value * 10 + digit;
  }
  if (value > 65535) return nullptr;
  *out = value;
  return p + 5;
}

// One number of a dotted quad (0-255, 1-3 digits, no leading zero), read
// unrolled: the byte after it, or null. Each byte read is at most the one
// after a digit, so the CR sentinel still bounds it.
inline const uint8_t *quick_quad_part(const uint8_t *p, uint8_t *out) noexcept {
  const uint32_t d0 = static_cast<uint32_t>(p[0]) - '0';
  if (d0 > 9) return nullptr;
  if (d0 == 0) {  // "0"; a digit after it is not the separator
    *out = 0;
    return p + 1;
  }
  const uint32_t d1 = static_cast<uint32_t>(p[1]) - '0';
  if (d1 > 9) {
    *out = static_cast<uint8_t>(d0);
    return p + 1;
  }
  const uint32_t d2 = static_cast<uint32_t>(p[2]) - '0';
  if (d2 > 9) {
    *out = static_cast<uint8_t>(d0 * 10 + d1);
    return p + 2;
  }
  const uint32_t value = d0 * 100 + d1 * 10 + d2;
  if (value > 255) return nullptr;
  *out = static_cast<uint8_t>(value);
  return p + 3;
}

// A dotted quad followed by `stop`: the byte after the stop, or null.
inline const uint8_t *quick_ipv4(const uint8_t *p, uint8_t stop,
                                 uint8_t address[4]) noexcept {
  if ((p = quick_quad_part(p, &address[0])) == nullptr || *p++ != '.') return nullptr;
  if ((p = quick_quad_part(p, &address[1])) == nullptr || *p++ != '.') return nullptr;
  if ((p = quick_quad_part(p, &address[2])) == nullptr || *p++ != '.') return nullptr;
  if ((p = quick_quad_part(p, &address[3])) == nullptr || *p++ != stop) return nullptr;
  return p;
}

// An IPv6 address followed by one space, within [p, end): the byte after
// the space, or null. The token goes to the strict parser, which refuses
// any byte outside hex digits, colons and dots.
inline const uint8_t *quick_ipv6(const uint8_t *p, const uint8_t *end,
                                 uint8_t address[16]) noexcept {
  const uint8_t *start = p;
  while (p < end && *p != ' ') ++p;
  if (p == end || p == start ||
      !parse_ipv6_text(reinterpret_cast<const char *>(start),
                       static_cast<size_t>(p - start), address))
    return nullptr;
  return p + 1;
}

// The line's next eight bytes as one number (fixed-size memcpy is a move),
// for comparing words in one go; `word` is exactly eight bytes.
inline uint64_t eight_bytes(const void *p) noexcept {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// The quick reading of a line whose signature is there: its total length
// when it is a well-formed TCP4, TCP6 or bare UNKNOWN line, else 0.
__attribute__((always_inline)) inline size_t quick_line(const uint8_t *buf, size_t len,
                                                    header *out) noexcept {
  // Past the signature, the eight bytes " UNKNOWN", or " TCP4 " / " TCP6 "
  // and at least two more, come before any CR of a line this reads.
  if (len < sizeof v1_signature + 8) return 0;
  // `end`: the bound of an IPv6 address's scan, and the CR that bounds the
  // number loops when the buffer's last byte does not.
  const uint8_t *end = buf + (len < v1_max_length ? len : v1_max_length);
  if (!stops_every_field(buf[len - 1])) {
    const void *found = std::memchr(buf, '\r', static_cast<size_t>(end - buf));
    if (found == nullptr) return 0;
    end = static_cast<const uint8_t *>(found);
  }

  const uint8_t *p = buf + sizeof v1_signature;
  const uint64_t word = eight_bytes(p);
  if (word == eight_bytes(" UNKNOWN")) {
    p += 8;
  } else {
    // The mask that keeps the line's first six bytes of the eight.
    constexpr uint64_t six_bytes = std::endian::native == std::endian::little
                                       ? 0x0000FFFFFFFFFFFFull
                                       : 0xFFFFFFFFFFFF0000ull;
    const uint64_t proto = word & six_bytes;
    const bool inet = proto == (eight_bytes(" TCP4 ..") & six_bytes);
    if (!inet && proto != (eight_bytes(" TCP6 ..") & six_bytes)) return 0;
    p += 6;
    // Decoded straight into *out (whatever this leaves there when it
    // returns 0 is rewritten by the careful reading).
    start_header(out, inet ? address_family::inet : address_family::inet6, 0);
    if (inet) {
      p = quick_ipv4(p, ' ', out->source.address);
      if (p != nullptr) p = quick_ipv4(p, ' ', out->destination.address);
    } else {
      p = quick_ipv6(p, end, out->source.address);
      if (p != nullptr) p = quick_ipv6(p, end, out->destination.address);
    }
    if (p == nullptr) return 0;
    uint32_t source_port, destination_port;
    p = quick_port(p, &source_port);
    if (p == nullptr || *p != ' ') return 0;
    p = quick_port(p + 1, &destination_port);
    if (p == nullptr) return 0;
    out->source.port = static_cast<uint16_t>(source_port);
    out->destination.port = static_cast<uint16_t>(destination_port);
  }
  // `p` is at the first byte no field took, read already: the line's first
  // CR (every byte before it was a field's or a single space), followed by
  // LF, within the first 107 bytes.
  const size_t total = static_cast<size_t>(p - buf) + 2;
  if (total > len || total > v1_max_length || p[0] != '\r' || p[1] != '\n') return 0;
  if (word == eight_bytes(" UNKNOWN"))
    start_header(out, address_family::unspec, total);
  else
    out->length = total;
  return total;
}

// The careful reading of a line whose signature is there: every outcome.
parse_result careful_line(const uint8_t *buf, size_t len, header *out) noexcept {
  const line_end end = find_crlf(buf, len);
  if (end.status != parse_status::complete) return {end.status, end.why, 0};
  const size_t total = end.cr + 2;

  fields line(buf, end.cr);
  line.skip(sizeof v1_signature);

  const char *token = nullptr;
  size_t token_len = 0;
  defect why = defect::none;
  if (!line.next(&token, &token_len, defect::v1_bad_protocol, &why))
    return reject(why);

  *out = header{};
  out->version = 1;
  out->cmd = command::proxy;
  out->proto = transport::stream;
  out->length = total;

  // §2.1: for UNKNOWN the receiver ignores whatever precedes the CRLF.
  if (token_is(token, token_len, "UNKNOWN")) {
    out->family = address_family::unspec;
    return {parse_status::complete, defect::none, total};
  }
  bool (*parse_address)(const char *, size_t, uint8_t *) noexcept;
  if (token_is(token, token_len, "TCP4")) {
    out->family = address_family::inet;
    parse_address = parse_ipv4_text;
  } else if (token_is(token, token_len, "TCP6")) {
    out->family = address_family::inet6;
    parse_address = parse_ipv6_text;
  } else {
    return reject(defect::v1_bad_protocol);
  }

  // §2.1: both addresses are of the announced family.
  if (!line.next(&token, &token_len, defect::v1_bad_source_address, &why))
    return reject(why);
  if (!parse_address(token, token_len, out->source.address))
    return reject(defect::v1_bad_source_address);
  if (!line.next(&token, &token_len, defect::v1_bad_destination_address, &why))
    return reject(why);
  if (!parse_address(token, token_len, out->destination.address))
    return reject(defect::v1_bad_destination_address);

  if (!line.next(&token, &token_len, defect::v1_bad_source_port, &why))
    return reject(why);
  if (!parse_port_text(token, token_len, &out->source.port))
    return reject(defect::v1_bad_source_port);
  if (!line.next(&token, &token_len, defect::v1_bad_destination_port, &why))
    return reject(why);
  if (!parse_port_text(token, token_len, &out->destination.port))
    return reject(defect::v1_bad_destination_port);

  if (!line.at_end()) return reject(defect::v1_trailing_bytes);
  return {parse_status::complete, defect::none, total};
}

}  // namespace

parse_result parse_v1(const uint8_t *buf, size_t len, header *out) noexcept {
  const prefix_match sig = match_v1_signature(buf, len);
  if (sig == prefix_match::none) return {parse_status::not_proxy, defect::none, 0};
  if (sig == prefix_match::partial)
    return {parse_status::need_more, defect::none, 0};
  if (const size_t total = quick_line(buf, len, out))
    return {parse_status::complete, defect::none, total};
  return careful_line(buf, len, out);
}

// Flattened (the whole quick reading, numbers and all, is straight-line code
// in it) and inlined into the accept path by link-time optimisation, the
// default build, which saves the call's frame: about 30 instructions a
// connection. GCC warns that a function defined out of line might not be
// inlinable, which is what a build without link-time optimisation makes
// of it: a call, as before.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wattributes"
__attribute__((flatten, always_inline)) size_t usual_v1_stream_source(const uint8_t *buf, size_t len, int listener_family,
                              sockaddr_storage *out, socklen_t *out_len) noexcept {
  if (match_v1_signature(buf, len) != prefix_match::full) return 0;
  header h;
  const size_t total = quick_line(buf, len, &h);
  if (total == 0 || h.family == address_family::unspec) return 0;
  *out_len = endpoint_to_sockaddr(h.family, h.source, listener_family, out);
  return total;
}

#pragma GCC diagnostic pop

parse_result parse_v1_careful(const uint8_t *buf, size_t len,
                              header *out) noexcept {
  const prefix_match sig = match_v1_signature(buf, len);
  if (sig == prefix_match::none) return {parse_status::not_proxy, defect::none, 0};
  if (sig == prefix_match::partial)
    return {parse_status::need_more, defect::none, 0};
  return careful_line(buf, len, out);
}

}  // namespace proxyproto
