// The suites of tests/unit/check_core, one per unit of lib/core, and the few
// helpers that several of them share (all inline: no extra source file).
#pragma once

#include <arpa/inet.h>
#include <check.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/proxy_header.h"

#include "../lib/check_assert.h"

// One suite per unit, named after it (tests/unit/check_<unit>.cc tests
// lib/core/<unit>.h); the corpus suite replays tests/corpus through
// parse_header.
Suite *make_parse_header_suite(void);
Suite *make_parse_v1_suite(void);
Suite *make_parse_v2_suite(void);
Suite *make_inet_text_suite(void);
Suite *make_header_writer_suite(void);
Suite *make_sockaddr_convert_suite(void);
Suite *make_crc32c_suite(void);
Suite *make_tlv_suite(void);
Suite *make_setting_values_suite(void);
Suite *make_address_list_suite(void);
Suite *make_port_list_suite(void);
Suite *make_config_text_suite(void);
Suite *make_setting_sources_suite(void);
Suite *make_activation_rule_suite(void);
Suite *make_tlv_setting_suite(void);
Suite *make_handover_text_suite(void);
Suite *make_corpus_suite(void);
Suite *make_datagram_suite(void);

namespace pp_test {

// An endpoint from text. Bytes the family does not use are set to `filler`,
// so a test can show that they are never read.
inline proxyproto::ip_endpoint ep4(const char *text, uint16_t port,
                                   uint8_t filler = 0) {
  proxyproto::ip_endpoint e;
  std::memset(&e, filler, sizeof e);
  ck_assert_int_eq(inet_pton(AF_INET, text, e.address), 1);
  e.port = port;
  return e;
}

inline proxyproto::ip_endpoint ep6(const char *text, uint16_t port) {
  proxyproto::ip_endpoint e;
  std::memset(&e, 0, sizeof e);
  ck_assert_int_eq(inet_pton(AF_INET6, text, e.address), 1);
  e.port = port;
  return e;
}

// Valid textual forms of IPv6 addresses (RFC 4291 §2.2), for the text
// parser and for v1 TCP6 lines alike. Each fits a v1 line next to "::1".
inline const char *const valid_ipv6_texts[] = {
    "::",
    "::1",
    "1::",
    "2001:db8::1",
    "2001:DB8::1",
    "2001:0db8:0000:0000:0000:0000:0000:0001",
    "abcd:ef01:2345:6789:ABCD:EF01:2345:6789",
    "aBcD:eF01::",
    "0:0:0:0:0:0:0:0",
    "1:0:0:0:0:0:0:8",
    "1:2:3:4:5:6:7::",
    "::2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7:8",
    "1:2:3::6:7:8",
    "f::f",
    "fe80::1",
    "0001:02:003:0004::",
    "::ffff:1.2.3.4",
    "::ffff:0.0.0.0",
    "::ffff:255.255.255.255",
    "::1.2.3.4",
    "1::1.2.3.4",
    "1:2:3:4:5:6:1.2.3.4",
    "1:2:3:4:5::1.2.3.4",
    "64:ff9b::192.0.2.33",
    "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
    "0000:0000:0000:0000:0000:ffff:255.255.255.255",
};

// A small deterministic generator for round-trip and random-input tests.
struct lcg {
  uint64_t state;
  uint32_t next() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(state >> 33);
  }
};

using bytes = std::vector<uint8_t>;

// A copy of some bytes that ends exactly at an inaccessible page, so that a
// parser reading buf[len] (or beyond) dies with SIGSEGV, which Check reports
// as an error of the test. Tests run forked, so one crash fails one test.
class guarded {
 public:
  guarded(const void *data, size_t len) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t data_pages = (len + page - 1) / page;
    map_length_ = (data_pages + 1) * page;
    void *map = mmap(nullptr, map_length_, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) {
      std::perror("mmap");
      std::abort();
    }
    map_ = static_cast<uint8_t *>(map);
    uint8_t *guard = map_ + data_pages * page;
    if (mprotect(guard, page, PROT_NONE) != 0) {
      std::perror("mprotect");
      std::abort();
    }
    data_ = guard - len;
    if (len != 0) std::memcpy(data_, data, len);
    length_ = len;
  }
  explicit guarded(const bytes &b) : guarded(b.data(), b.size()) {}
  explicit guarded(const std::string &s) : guarded(s.data(), s.size()) {}
  guarded(const guarded &) = delete;
  guarded &operator=(const guarded &) = delete;
  ~guarded() { munmap(map_, map_length_); }

  const uint8_t *data() const { return data_; }
  uint8_t *mutable_data() { return data_; }
  size_t size() const { return length_; }

 private:
  uint8_t *map_ = nullptr;
  size_t map_length_ = 0;
  uint8_t *data_ = nullptr;
  size_t length_ = 0;
};

inline bytes to_bytes(const std::string &s) { return bytes(s.begin(), s.end()); }

// CRC-32C, bit by bit, from the definition (reflected polynomial 0x82F63B78):
// an independent reference for the table-driven core implementation.
inline uint32_t reference_crc32c(const uint8_t *buf, size_t len) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < len; ++i) {
    crc ^= buf[i];
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc & 1u) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
  }
  return ~crc;
}

inline const uint8_t v2_signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                         0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

inline void put16(bytes &b, size_t value) {
  b.push_back(static_cast<uint8_t>((value >> 8) & 0xFFu));
  b.push_back(static_cast<uint8_t>(value & 0xFFu));
}

inline void append(bytes &b, const bytes &more) {
  b.insert(b.end(), more.begin(), more.end());
}

// One TLV: type, 16-bit big-endian length, value.
inline bytes tlv(uint8_t type, const bytes &value) {
  bytes b{type};
  put16(b, value.size());
  append(b, value);
  return b;
}

// A v2 header: signature, ver_cmd, fam, len = payload size, payload.
inline bytes v2(uint8_t ver_cmd, uint8_t fam, const bytes &payload) {
  bytes b(v2_signature, v2_signature + 12);
  b.push_back(ver_cmd);
  b.push_back(fam);
  put16(b, payload.size());
  append(b, payload);
  return b;
}

// The 12-byte INET address block: 192.0.2.1:sport -> 198.51.100.2:dport.
inline bytes inet_block(uint16_t sport = 0x1234, uint16_t dport = 80) {
  bytes b{192, 0, 2, 1, 198, 51, 100, 2};
  put16(b, sport);
  put16(b, dport);
  return b;
}

// The 36-byte INET6 address block: 2001:db8::1:sport -> 2001:db8::2:dport.
inline bytes inet6_block(uint16_t sport = 0xABCD, uint16_t dport = 443) {
  bytes b(36, 0);
  b[0] = 0x20; b[1] = 0x01; b[2] = 0x0d; b[3] = 0xb8; b[15] = 0x01;
  b[16] = 0x20; b[17] = 0x01; b[18] = 0x0d; b[19] = 0xb8; b[31] = 0x02;
  b[32] = static_cast<uint8_t>(sport >> 8);
  b[33] = static_cast<uint8_t>(sport & 0xFFu);
  b[34] = static_cast<uint8_t>(dport >> 8);
  b[35] = static_cast<uint8_t>(dport & 0xFFu);
  return b;
}

// The 216-byte UNIX address block: two NUL-padded 108-byte paths.
inline bytes unix_block(const char *source = "/run/src.sock",
                        const char *destination = "/run/dst.sock") {
  bytes b(216, 0);
  std::memcpy(b.data(), source, std::strlen(source));
  std::memcpy(b.data() + 108, destination, std::strlen(destination));
  return b;
}

// Sets the value of the CRC32C TLV that starts at `tlv_offset` (its type
// byte) so that the header verifies, computing with the reference CRC.
inline void fill_crc32c(bytes &header, size_t tlv_offset) {
  const size_t value = tlv_offset + 3;
  for (size_t i = 0; i < 4; ++i) header[value + i] = 0;
  const uint32_t crc = reference_crc32c(header.data(), header.size());
  header[value] = static_cast<uint8_t>(crc >> 24);
  header[value + 1] = static_cast<uint8_t>((crc >> 16) & 0xFFu);
  header[value + 2] = static_cast<uint8_t>((crc >> 8) & 0xFFu);
  header[value + 3] = static_cast<uint8_t>(crc & 0xFFu);
}

inline const char *status_name(proxyproto::parse_status s) {
  switch (s) {
    case proxyproto::parse_status::need_more: return "need_more";
    case proxyproto::parse_status::not_proxy: return "not_proxy";
    case proxyproto::parse_status::complete: return "complete";
    case proxyproto::parse_status::invalid: return "invalid";
  }
  return "(bad status value)";
}

// The enum identifiers, independently of the core's defect_name().
inline const char *defect_id(proxyproto::defect d) {
  using proxyproto::defect;
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
  return "(bad defect value)";
}

// Printable form of some bytes for failure messages: C-style escapes,
// truncated to a reasonable length.
inline std::string printable(const uint8_t *p, size_t len) {
  std::string s;
  const size_t shown = len < 120 ? len : 120;
  for (size_t i = 0; i < shown; ++i) {
    const uint8_t c = p[i];
    if (c == '\r') {
      s += "\\r";
    } else if (c == '\n') {
      s += "\\n";
    } else if (c == '\t') {
      s += "\\t";
    } else if (c >= 0x20 && c < 0x7F && c != '\\') {
      s += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", c);
      s += hex;
    }
  }
  if (shown < len) s += "...(" + std::to_string(len) + " bytes)";
  return s;
}

inline std::string printable(const bytes &b) { return printable(b.data(), b.size()); }
inline std::string printable(const std::string &s) {
  return printable(reinterpret_cast<const uint8_t *>(s.data()), s.size());
}

// The outcome of one parse, with the header's pointers turned into offsets
// from the start of the input (-1 when null or outside it), so that the
// guarded copy the parser saw can be released.
struct parsed {
  proxyproto::parse_result result;
  proxyproto::header h;
  long tlvs_offset;
  long unix_source_offset;
  long unix_destination_offset;
};

enum class entry { header, v1, v2 };

inline long offset_in(const uint8_t *p, const uint8_t *base, size_t len) {
  if (p == nullptr || p < base || p > base + len) return -1;
  return static_cast<long>(p - base);
}

// Parses `len` bytes placed right before an inaccessible page.
inline parsed parse_guarded(const uint8_t *input, size_t len,
                            unsigned versions = proxyproto::accept_v1_v2,
                            entry e = entry::header) {
  guarded g(input, len);
  parsed p;
  std::memset(&p, 0, sizeof p);
  switch (e) {
    case entry::header:
      p.result = proxyproto::parse_header(g.data(), g.size(), versions, &p.h);
      break;
    case entry::v1:
      p.result = proxyproto::parse_v1(g.data(), g.size(), &p.h);
      break;
    case entry::v2:
      p.result = proxyproto::parse_v2(g.data(), g.size(), &p.h);
      break;
  }
  p.tlvs_offset = offset_in(p.h.tlvs, g.data(), g.size());
  p.unix_source_offset = offset_in(p.h.unix_source, g.data(), g.size());
  p.unix_destination_offset = offset_in(p.h.unix_destination, g.data(), g.size());
  return p;
}

inline parsed parse_guarded(const bytes &input,
                            unsigned versions = proxyproto::accept_v1_v2,
                            entry e = entry::header) {
  return parse_guarded(input.data(), input.size(), versions, e);
}

inline parsed parse_guarded(const std::string &input,
                            unsigned versions = proxyproto::accept_v1_v2,
                            entry e = entry::header) {
  return parse_guarded(reinterpret_cast<const uint8_t *>(input.data()),
                       input.size(), versions, e);
}

// Escapes control and non-ASCII bytes of a description, leaving text that
// printable() already escaped as it is.
inline std::string escaped(const std::string &text) {
  std::string s;
  for (char ch : text) {
    const uint8_t c = static_cast<uint8_t>(ch);
    if (c >= 0x20 && c < 0x7F) {
      s += ch;
    } else {
      s += printable(&c, 1);
    }
  }
  return s;
}

// Asserts the status (and, for invalid, the defect; for complete, the
// length) of a parse, naming the input in the failure message.
inline void expect(const parsed &p, proxyproto::parse_status status,
                   proxyproto::defect why, size_t length,
                   const std::string &raw_input_text) {
  const std::string input_text = escaped(raw_input_text);
  ck_assert_msg(p.result.status == status,
                "input \"%s\": status %s, expected %s (defect %s)",
                input_text.c_str(), status_name(p.result.status),
                status_name(status), defect_id(p.result.why));
  if (status == proxyproto::parse_status::invalid) {
    ck_assert_msg(p.result.why == why, "input \"%s\": defect %s, expected %s",
                  input_text.c_str(), defect_id(p.result.why), defect_id(why));
  }
  if (status == proxyproto::parse_status::complete) {
    ck_assert_msg(p.result.length == length,
                  "input \"%s\": length %zu, expected %zu",
                  input_text.c_str(), p.result.length, length);
    ck_assert_msg(p.h.length == length,
                  "input \"%s\": header.length %zu, expected %zu",
                  input_text.c_str(), p.h.length, length);
  } else {
    ck_assert_msg(p.result.length == 0,
                  "input \"%s\": status %s with length %zu, expected 0",
                  input_text.c_str(), status_name(p.result.status),
                  p.result.length);
  }
}

inline void expect_invalid(const parsed &p, proxyproto::defect why,
                           const std::string &input_text) {
  expect(p, proxyproto::parse_status::invalid, why, 0, input_text);
}

inline void expect_complete(const parsed &p, size_t length,
                            const std::string &input_text) {
  expect(p, proxyproto::parse_status::complete, proxyproto::defect::none,
         length, input_text);
}

inline void expect_status(const parsed &p, proxyproto::parse_status status,
                          const std::string &input_text) {
  expect(p, status, proxyproto::defect::none, 0, input_text);
}

}  // namespace pp_test
