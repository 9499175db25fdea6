// Version 1: one line of US-ASCII text (haproxy:doc/proxy-protocol.txt §2.1).
//
//   "PROXY" SP ( "TCP4" | "TCP6" ) SP src SP dst SP sport SP dport CRLF
//   "PROXY" SP "UNKNOWN" [ SP <anything but CRLF> ] CRLF
//
// The line is located first (§2.1: wait for CRLF before decoding), then
// decoded field by field; every field separator is exactly one space.
#include <cstring>

#include "core/inet_text.h"
#include "core/proxy_header.h"
#include "core/signatures.h"

namespace proxyproto {

namespace {

constexpr parse_result reject(defect why) noexcept {
  return {parse_status::invalid, why, 0};
}

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

}  // namespace

parse_result parse_v1(const uint8_t *buf, size_t len, header *out) noexcept {
  const size_t sig_have = len < sizeof v1_signature ? len : sizeof v1_signature;
  if (sig_have != 0 && std::memcmp(buf, v1_signature, sig_have) != 0)
    return {parse_status::not_proxy, defect::none, 0};
  if (len < sizeof v1_signature)
    return {parse_status::need_more, defect::none, 0};
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

}  // namespace proxyproto
