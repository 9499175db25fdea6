// core/datagram: the header a UDP proxy sends on every datagram (PROXY,
// UDP over IPv4 or IPv6, no TLV) is read without the general v2 parser.
// That shortcut must give exactly what parse_v2 gives: checked for the two
// usual headers, every value of each of their four fixed bytes after the
// signature (version/command, family, both length bytes), and headers
// that only look usual (a TLV after the addresses, a wrong checksum).
#include <check.h>

#include <cstring>
#include <vector>

#include "core/crc32c.h"
#include "core/datagram.h"
#include "core/proxy_header.h"
#include "core/signatures.h"
#include "suites.h"

using namespace proxyproto;

namespace {

const datagram_rules rules{accept_v1 | accept_v2, false, true};

std::vector<uint8_t> usual(bool six) {
  std::vector<uint8_t> out(v2_signature, v2_signature + sizeof v2_signature);
  const size_t block = six ? 36 : 12;
  out.push_back(0x21);
  out.push_back(six ? 0x22 : 0x12);
  out.push_back(0);
  out.push_back(static_cast<uint8_t>(block));
  for (size_t i = 0; i < block; ++i) out.push_back(static_cast<uint8_t>(0xA0 + i));
  for (char c : std::string("payload")) out.push_back(static_cast<uint8_t>(c));
  return out;
}

// inspect_datagram() against parse_v2() on the same bytes: a strip must be
// a complete parse with the same length, family and endpoints, and a
// complete parse that fits the datagram must be a strip.
void agree(const std::vector<uint8_t> &dg, const char *what, int value) {
  const datagram_inspection d = inspect_datagram(dg.data(), dg.size(), dg.size(), rules);
  header h;
  const parse_result r = parse_v2(dg.data(), dg.size(), &h);
  const bool parsed = r.status == parse_status::complete;
  ck_assert_msg((d.verdict == datagram_verdict::strip) == parsed, "%s %d: verdict %d, parse %d",
                what, value, static_cast<int>(d.verdict), static_cast<int>(r.status));
  if (!parsed) return;
  ck_assert_uint_eq(d.header_length, r.length);
  const bool use = h.cmd == command::proxy && h.proto == transport::dgram &&
                   (h.family == address_family::inet || h.family == address_family::inet6);
  ck_assert_msg(d.use_source == use, "%s %d: use_source", what, value);
  if (!use) return;
  ck_assert(d.family == h.family);
  ck_assert_int_eq(std::memcmp(d.source.address, h.source.address, 16), 0);
  ck_assert_int_eq(std::memcmp(d.destination.address, h.destination.address, 16), 0);
  ck_assert_uint_eq(d.source.port, h.source.port);
  ck_assert_uint_eq(d.destination.port, h.destination.port);
}

}  // namespace

START_TEST(the_usual_headers) {
  for (bool six : {false, true}) {
    const std::vector<uint8_t> dg = usual(six);
    const datagram_inspection d = inspect_datagram(dg.data(), dg.size(), dg.size(), rules);
    ck_assert(d.verdict == datagram_verdict::strip);
    ck_assert(d.use_source);
    ck_assert(d.family == (six ? address_family::inet6 : address_family::inet));
    ck_assert_uint_eq(d.header_length, six ? 52 : 28);
    const size_t a = six ? 16 : 4;
    ck_assert_uint_eq(d.source.address[0], 0xA0);
    ck_assert_uint_eq(d.destination.address[0], 0xA0 + a);
    ck_assert_uint_eq(d.source.port, (0xA0 + 2 * a) << 8 | (0xA1 + 2 * a));
    ck_assert_uint_eq(d.destination.port, (0xA2 + 2 * a) << 8 | (0xA3 + 2 * a));
    agree(dg, six ? "usual v6" : "usual v4", 0);
  }
}
END_TEST

START_TEST(every_fixed_byte) {
  for (bool six : {false, true}) {
    for (size_t at = 12; at < 16; ++at) {
      for (int v = 0; v < 256; ++v) {
        std::vector<uint8_t> dg = usual(six);
        dg[at] = static_cast<uint8_t>(v);
        agree(dg, at == 12 ? "ver_cmd" : at == 13 ? "family" : "length byte", v);
      }
    }
  }
}
END_TEST

// A TLV after the addresses leaves the shortcut: its checksum is checked.
START_TEST(not_quite_usual) {
  for (bool six : {false, true}) {
    std::vector<uint8_t> dg = usual(six);
    const size_t fixed = v2_fixed_length + (six ? 36 : 12);
    dg.resize(fixed);
    const uint8_t tlv[] = {0x03, 0x00, 0x04, 0, 0, 0, 0};
    dg.insert(dg.end(), tlv, tlv + sizeof tlv);
    dg[15] = static_cast<uint8_t>(dg[15] + sizeof tlv);
    const uint32_t crc = crc32c(dg.data(), dg.size());
    for (unsigned i = 0; i < 4; ++i) dg[fixed + 3 + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
    dg.push_back('p');
    agree(dg, "with checksum", 0);
    ck_assert(inspect_datagram(dg.data(), dg.size(), dg.size(), rules).verdict ==
              datagram_verdict::strip);
    dg[fixed + 6] ^= 1;  // a wrong checksum
    agree(dg, "with a wrong checksum", 0);
    const datagram_inspection d = inspect_datagram(dg.data(), dg.size(), dg.size(), rules);
    ck_assert(d.verdict == datagram_verdict::discard);
    ck_assert(d.why == defect::v2_crc32c_mismatch);
  }
}
END_TEST

Suite *make_usual_header_suite(void) {
  Suite *s = suite_create("usual_header");
  TCase *tc = tcase_create("as parse_v2");
  tcase_add_test(tc, the_usual_headers);
  tcase_add_test(tc, every_fixed_byte);
  tcase_add_test(tc, not_quite_usual);
  suite_add_tcase(s, tc);
  return s;
}
