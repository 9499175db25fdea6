// Telling a v1 header, a v2 header and no header apart (§2.2, "Identifying
// the protocol version"), and naming defects.
#include "core/proxy_header.h"
#include "core/signatures.h"

namespace proxyproto {

namespace {

// Everything but a whole v2 signature: a v1 line, a prefix of either
// signature (need more), or no header. Out of line, so that parse_header
// stays a test and a tail call for the usual v2 header.
__attribute__((noinline)) parse_result other_than_v2(const uint8_t *buf,
                                                     size_t len, unsigned versions,
                                                     header *out) noexcept {
  bool undecided = false;
  if ((versions & accept_v2) && match_v2_signature(buf, len) == prefix_match::partial)
    undecided = true;
  if (versions & accept_v1) {
    switch (match_v1_signature(buf, len)) {
      case prefix_match::full:
        return parse_v1(buf, len, out);
      case prefix_match::partial:
        undecided = true;
        break;
      case prefix_match::none:
        break;
    }
  }
  if (undecided) return {parse_status::need_more, defect::none, 0};
  return {parse_status::not_proxy, defect::none, 0};
}

}  // namespace

parse_result parse_header(const uint8_t *buf, size_t len, unsigned versions,
                          header *out) noexcept {
  // A whole v2 signature goes straight to parse_v2, which decides the
  // version byte: the twelve signature bytes start no other protocol, so
  // any version but 2 is invalid. (The two signatures cannot both match,
  // nor one match whole and the other in part: one starts with CR, the
  // other with P.)
  if ((versions & accept_v2) && match_v2_signature(buf, len) == prefix_match::full)
    return parse_v2(buf, len, out);
  return other_than_v2(buf, len, versions, out);
}

size_t v2_total_length(const uint8_t *buf, size_t len) noexcept {
  if (len < v2_fixed_length) return 0;
  if (match_v2_signature(buf, len) != prefix_match::full) return 0;
  return v2_fixed_length + (static_cast<size_t>(buf[14]) << 8 | buf[15]);
}

const char *defect_name(defect d) noexcept {
  switch (d) {
    case defect::none: return "none";
    case defect::v1_no_crlf_in_107_bytes: return "v1_no_crlf_in_107_bytes";
    case defect::v1_lone_cr_or_lf: return "v1_lone_cr_or_lf";
    case defect::v1_bad_space: return "v1_bad_space";
    case defect::v1_bad_protocol: return "v1_bad_protocol";
    case defect::v1_bad_source_address: return "v1_bad_source_address";
    case defect::v1_bad_destination_address: return "v1_bad_destination_address";
    case defect::v1_bad_source_port: return "v1_bad_source_port";
    case defect::v1_bad_destination_port: return "v1_bad_destination_port";
    case defect::v1_trailing_bytes: return "v1_trailing_bytes";
    case defect::v2_bad_version: return "v2_bad_version";
    case defect::v2_bad_command: return "v2_bad_command";
    case defect::v2_bad_family: return "v2_bad_family";
    case defect::v2_length_too_short: return "v2_length_too_short";
    case defect::v2_tlv_truncated: return "v2_tlv_truncated";
    case defect::v2_crc32c_bad_length: return "v2_crc32c_bad_length";
    case defect::v2_crc32c_repeated: return "v2_crc32c_repeated";
    case defect::v2_crc32c_mismatch: return "v2_crc32c_mismatch";
    case defect::v2_unique_id_too_long: return "v2_unique_id_too_long";
    case defect::v2_ssl_truncated: return "v2_ssl_truncated";
  }
  return "unknown";
}

}  // namespace proxyproto
