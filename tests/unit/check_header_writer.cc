// The sender's side: write_v1 (§2.1) and write_v2 (§2.2), and round trips
// through the parser.
#include <arpa/inet.h>
#include <check.h>

#include <cstring>
#include <string>

#include "core/header_writer.h"
#include "core/proxy_header.h"
#include "suites.h"

using namespace pp_test;
using proxyproto::accept_v1_v2;
using proxyproto::address_family;
using proxyproto::command;
using proxyproto::header_fields;
using proxyproto::ip_endpoint;
using proxyproto::parse_status;
using proxyproto::write_v1;
using proxyproto::write_v2;

namespace {

header_fields fields(command cmd, address_family family, const ip_endpoint &src,
                     const ip_endpoint &dst) {
  header_fields f;
  std::memset(&f, 0, sizeof f);
  f.cmd = cmd;
  f.family = family;
  f.source = src;
  f.destination = dst;
  f.tlvs = nullptr;
  f.tlvs_length = 0;
  f.add_crc32c = false;
  return f;
}

header_fields inet_fields() {
  return fields(command::proxy, address_family::inet, ep4("192.168.0.1", 56324),
                ep4("192.168.0.11", 443));
}

header_fields inet6_fields() {
  return fields(command::proxy, address_family::inet6, ep6("2001:db8::1", 1),
                ep6("2001:db8::2", 2));
}

constexpr uint8_t canary = 0xA5;

// Writes with this capacity into a larger buffer and checks that nothing
// past min(capacity, written) was touched.
bytes write_with(size_t (*writer)(const header_fields &, uint8_t *, size_t),
                 const header_fields &f, size_t capacity) {
  bytes buf(capacity + 64, canary);
  const size_t n = writer(f, buf.data(), capacity);
  ck_assert_msg(n <= capacity, "wrote %zu with capacity %zu", n, capacity);
  for (size_t i = capacity; i < buf.size(); ++i)
    ck_assert_msg(buf[i] == canary, "byte %zu past capacity %zu written", i,
                  capacity);
  buf.resize(n);
  return buf;
}

bytes v1_of(const header_fields &f) { return write_with(write_v1, f, 200); }
bytes v2_of(const header_fields &f, size_t capacity = 70000) {
  return write_with(write_v2, f, capacity);
}

std::string as_text(const bytes &b) { return std::string(b.begin(), b.end()); }

void expect_text(const bytes &out, const char *want) {
  const std::string got = as_text(out);
  ck_assert_msg(got == want, "wrote \"%s\", expected \"%s\"",
                printable(got).c_str(), printable(std::string(want)).c_str());
}

void expect_same_endpoints(const proxyproto::header &h, const header_fields &f) {
  const size_t n = f.family == address_family::inet ? 4 : 16;
  ck_assert_mem_eq(h.source.address, f.source.address, n);
  ck_assert_mem_eq(h.destination.address, f.destination.address, n);
  ck_assert_uint_eq(h.source.port, f.source.port);
  ck_assert_uint_eq(h.destination.port, f.destination.port);
}

// Random endpoints, with runs of zero bytes so that "::" appears.
ip_endpoint random_endpoint(lcg &rng, address_family family) {
  ip_endpoint e;
  std::memset(&e, 0, sizeof e);
  const size_t n = family == address_family::inet ? 4 : 16;
  const uint32_t shape = rng.next() % 4;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t r = rng.next();
    e.address[i] = (shape == 0 || (r & 3u) == 0) ? 0 : static_cast<uint8_t>(r >> 8);
  }
  if (family == address_family::inet6 && shape == 1) {
    std::memset(e.address, 0, 10);  // IPv4-mapped
    e.address[10] = 0xFF;
    e.address[11] = 0xFF;
  }
  e.port = static_cast<uint16_t>(rng.next() >> 8);
  return e;
}

}  // namespace

// ---- write_v1 -------------------------------------------------------------------------

START_TEST(v1_tcp4) {
  const bytes out = v1_of(inet_fields());
  expect_text(out,
                   "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
}
END_TEST

START_TEST(v1_tcp4_extremes) {
  const header_fields f = fields(command::proxy, address_family::inet,
                                 ep4("0.0.0.0", 0), ep4("255.255.255.255", 65535));
  expect_text(v1_of(f),
                   "PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n");
}
END_TEST

START_TEST(v1_tcp6) {
  expect_text(v1_of(inet6_fields()),
                   "PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n");
  const header_fields f =
      fields(command::proxy, address_family::inet6,
             ep6("2001:DB8:0:0:1:0:0:1", 65535), ep6("::", 0));
  expect_text(v1_of(f),
                   "PROXY TCP6 2001:db8::1:0:0:1 :: 65535 0\r\n");
}
END_TEST

START_TEST(v1_tcp6_mapped_parses_back) {
  const header_fields f = fields(command::proxy, address_family::inet6,
                                 ep6("::ffff:192.0.2.1", 5000), ep6("::1", 80));
  const bytes out = v1_of(f);
  const std::string text = as_text(out);
  ck_assert_msg(text.rfind("PROXY TCP6 ", 0) == 0, "wrote \"%s\"",
                printable(text).c_str());
  const parsed p = parse_guarded(out);
  expect_complete(p, out.size(), printable(text));
  ck_assert(p.h.family == address_family::inet6);
  expect_same_endpoints(p.h, f);
}
END_TEST

START_TEST(v1_tcp6_longest) {
  const header_fields f =
      fields(command::proxy, address_family::inet6,
             ep6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535),
             ep6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 65535));
  const bytes out = write_with(write_v1, f, proxyproto::v1_write_capacity);
  ck_assert_uint_eq(out.size(), 104);
  // The mapped form of the longest IPv4 address in both.
  const header_fields m =
      fields(command::proxy, address_family::inet6,
             ep6("::ffff:255.255.255.255", 65535), ep6("::ffff:255.255.255.254", 65535));
  const bytes outm = write_with(write_v1, m, proxyproto::v1_write_capacity);
  ck_assert_uint_gt(outm.size(), 0);
  expect_complete(parse_guarded(outm), outm.size(), printable(outm));
}
END_TEST

START_TEST(v1_unknown) {
  header_fields f = inet_fields();
  f.family = address_family::unspec;
  expect_text(v1_of(f), "PROXY UNKNOWN\r\n");
  // LOCAL has no v1 form: UNKNOWN, whatever the family.
  f = inet_fields();
  f.cmd = command::local;
  expect_text(v1_of(f), "PROXY UNKNOWN\r\n");
  f = inet6_fields();
  f.cmd = command::local;
  expect_text(v1_of(f), "PROXY UNKNOWN\r\n");
}
END_TEST

START_TEST(v1_capacity) {
  const header_fields f = inet_fields();
  const size_t full = std::strlen("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
  ck_assert_uint_eq(write_with(write_v1, f, full).size(), full);
  for (size_t cap = 0; cap < full; ++cap)
    ck_assert_msg(write_with(write_v1, f, cap).empty(), "capacity %zu", cap);
  header_fields u = f;
  u.family = address_family::unspec;
  ck_assert_uint_eq(write_with(write_v1, u, 15).size(), 15);
  ck_assert_uint_eq(write_with(write_v1, u, 14).size(), 0);
}
END_TEST

// ---- write_v2 --------------------------------------------------------------------------

START_TEST(v2_inet_bytes) {
  const bytes out = v2_of(inet_fields());
  bytes want(v2_signature, v2_signature + 12);
  append(want, {0x21, 0x11, 0x00, 0x0C, 192, 168, 0, 1, 192, 168, 0, 11,
                0xDC, 0x04, 0x01, 0xBB});
  ck_assert_uint_eq(out.size(), 28);
  ck_assert_mem_eq(out.data(), want.data(), 28);
}
END_TEST

START_TEST(v2_inet6_bytes) {
  const bytes out = v2_of(inet6_fields());
  ck_assert_uint_eq(out.size(), 52);
  ck_assert_mem_eq(out.data(), v2_signature, 12);
  ck_assert_uint_eq(out[12], 0x21);
  ck_assert_uint_eq(out[13], 0x21);
  ck_assert_uint_eq(out[14], 0x00);
  ck_assert_uint_eq(out[15], 36);
  const bytes block = inet6_block(1, 2);
  ck_assert_mem_eq(out.data() + 16, block.data(), 36);
}
END_TEST

START_TEST(v2_unspec_bytes) {
  header_fields f = inet_fields();
  f.family = address_family::unspec;
  const bytes out = v2_of(f);
  ck_assert_uint_eq(out.size(), 16);
  ck_assert_mem_eq(out.data(), v2_signature, 12);
  ck_assert_uint_eq(out[12], 0x21);
  ck_assert_uint_eq(out[13], 0x00);
  ck_assert_uint_eq(out[14], 0);
  ck_assert_uint_eq(out[15], 0);
}
END_TEST

START_TEST(v2_local) {
  for (address_family family :
       {address_family::unspec, address_family::inet, address_family::inet6}) {
    header_fields f = family == address_family::inet6 ? inet6_fields() : inet_fields();
    f.family = family;
    f.cmd = command::local;
    const bytes out = v2_of(f);
    ck_assert_uint_ge(out.size(), 16);
    ck_assert_uint_eq(out[12], 0x20);
    ck_assert_uint_eq(out.size(), 16u + (static_cast<unsigned>(out[14]) << 8) + out[15]);
    const parsed p = parse_guarded(out);
    expect_complete(p, out.size(), printable(out));
    ck_assert(p.h.cmd == command::local);
  }
}
END_TEST

START_TEST(v2_tlvs_appended) {
  const bytes tlvs = {0x01, 0x00, 0x02, 'h', '2', 0xEE, 0x00, 0x00};
  header_fields f = inet_fields();
  f.tlvs = tlvs.data();
  f.tlvs_length = tlvs.size();
  const bytes out = v2_of(f);
  ck_assert_uint_eq(out.size(), 28 + tlvs.size());
  ck_assert_uint_eq(out[14], 0);
  ck_assert_uint_eq(out[15], 12 + tlvs.size());
  ck_assert_mem_eq(out.data() + 28, tlvs.data(), tlvs.size());
  const parsed p = parse_guarded(out);
  expect_complete(p, out.size(), printable(out));
  ck_assert_int_eq(p.tlvs_offset, 28);
  ck_assert_uint_eq(p.h.tlvs_length, tlvs.size());
}
END_TEST

START_TEST(v2_checksum) {
  header_fields f = inet_fields();
  f.add_crc32c = true;
  const bytes out = v2_of(f);
  ck_assert_uint_eq(out.size(), 35);
  ck_assert_uint_eq(out[15], 12 + 7);
  ck_assert_uint_eq(out[28], 0x03);
  ck_assert_uint_eq(out[29], 0x00);
  ck_assert_uint_eq(out[30], 0x04);
  // The value is the big-endian CRC-32C of the header with it zeroed.
  bytes zeroed = out;
  for (size_t i = 31; i < 35; ++i) zeroed[i] = 0;
  const uint32_t crc = reference_crc32c(zeroed.data(), zeroed.size());
  const uint8_t want[4] = {static_cast<uint8_t>(crc >> 24),
                           static_cast<uint8_t>((crc >> 16) & 0xFFu),
                           static_cast<uint8_t>((crc >> 8) & 0xFFu),
                           static_cast<uint8_t>(crc & 0xFFu)};
  ck_assert_mem_eq(out.data() + 31, want, 4);
  expect_complete(parse_guarded(out), 35, printable(out));
}
END_TEST

START_TEST(v2_checksum_after_tlvs) {
  const bytes tlvs = {0x02, 0x00, 0x03, 'a', '.', 'b', 0x05, 0x00, 0x01, 'u'};
  for (const header_fields &base : {inet_fields(), inet6_fields()}) {
    header_fields f = base;
    f.tlvs = tlvs.data();
    f.tlvs_length = tlvs.size();
    f.add_crc32c = true;
    const bytes out = v2_of(f);
    const size_t block = f.family == address_family::inet ? 12 : 36;
    ck_assert_uint_eq(out.size(), 16 + block + tlvs.size() + 7);
    ck_assert_mem_eq(out.data() + 16 + block, tlvs.data(), tlvs.size());
    const parsed p = parse_guarded(out);
    expect_complete(p, out.size(), printable(out));
    // And it really is checked: change an address byte.
    bytes bad = out;
    // Through a pointer checked first: on 32-bit targets gcc cannot tell
    // that the copy's buffer is not null (-Wnull-dereference).
    uint8_t *const address_byte = bad.data() + 17;
    ck_assert_ptr_nonnull(bad.data());
    *address_byte ^= 0x10;
    expect_invalid(parse_guarded(bad), proxyproto::defect::v2_crc32c_mismatch,
                   printable(bad));
  }
}
END_TEST

START_TEST(v2_checksum_unspec) {
  header_fields f = inet_fields();
  f.family = address_family::unspec;
  f.add_crc32c = true;
  const bytes out = v2_of(f);
  ck_assert_uint_ge(out.size(), 16);
  expect_complete(parse_guarded(out), out.size(), printable(out));
}
END_TEST

START_TEST(v2_capacity) {
  header_fields f = inet6_fields();
  ck_assert_uint_eq(proxyproto::v2_address_write_capacity, 52);
  ck_assert_uint_eq(write_with(write_v2, f, 52).size(), 52);
  for (size_t cap = 0; cap < 52; ++cap)
    ck_assert_msg(write_with(write_v2, f, cap).empty(), "capacity %zu", cap);
  f.add_crc32c = true;
  ck_assert_uint_eq(write_with(write_v2, f, 59).size(), 59);
  ck_assert_uint_eq(write_with(write_v2, f, 58).size(), 0);
  const bytes tlvs(100, 0);
  header_fields t = inet_fields();
  t.tlvs = tlvs.data();
  t.tlvs_length = tlvs.size();
  ck_assert_uint_eq(write_with(write_v2, t, 128).size(), 128);
  ck_assert_uint_eq(write_with(write_v2, t, 127).size(), 0);
}
END_TEST

// The length field caps a header at 16 + 65535 bytes.
START_TEST(v2_maximum_length) {
  // A single NOOP TLV filling everything after the addresses.
  bytes tlvs(65535 - 12, 0);
  tlvs[0] = 0x04;
  tlvs[1] = static_cast<uint8_t>((65535 - 12 - 3) >> 8);
  tlvs[2] = static_cast<uint8_t>((65535 - 12 - 3) & 0xFF);
  header_fields f = inet_fields();
  f.tlvs = tlvs.data();
  f.tlvs_length = tlvs.size();
  const bytes out = v2_of(f, 70000);
  ck_assert_uint_eq(out.size(), 65551);
  ck_assert_uint_eq(out[14], 0xFF);
  ck_assert_uint_eq(out[15], 0xFF);
  expect_complete(parse_guarded(out), 65551, "maximum header");
  // One byte more does not fit the length field, whatever the capacity.
  bytes more(65535 - 12 + 1, 0);
  f.tlvs = more.data();
  f.tlvs_length = more.size();
  ck_assert_uint_eq(v2_of(f, 70000).size(), 0);
  // With the checksum TLV, 7 bytes fewer.
  f.tlvs = tlvs.data();
  f.tlvs_length = tlvs.size() - 7;
  tlvs[1] = static_cast<uint8_t>((65535 - 12 - 3 - 7) >> 8);
  tlvs[2] = static_cast<uint8_t>((65535 - 12 - 3 - 7) & 0xFF);
  f.add_crc32c = true;
  const bytes with_crc = v2_of(f, 70000);
  ck_assert_uint_eq(with_crc.size(), 65551);
  expect_complete(parse_guarded(with_crc), 65551, "maximum header with CRC");
  f.tlvs_length = tlvs.size() - 6;
  ck_assert_uint_eq(v2_of(f, 70000).size(), 0);
}
END_TEST

// ---- Round trips -------------------------------------------------------------------------

START_TEST(round_trip_v1) {
  lcg rng{42};
  for (int n = 0; n < 5000; ++n) {
    const address_family family =
        (n & 1) != 0 ? address_family::inet6 : address_family::inet;
    const header_fields f = fields(command::proxy, family, random_endpoint(rng, family),
                                   random_endpoint(rng, family));
    const bytes out = write_with(write_v1, f, proxyproto::v1_write_capacity);
    ck_assert_uint_gt(out.size(), 0);
    const parsed p = parse_guarded(out);
    expect_complete(p, out.size(), printable(out));
    ck_assert_uint_eq(p.h.version, 1);
    ck_assert(p.h.cmd == command::proxy);
    ck_assert(p.h.family == family);
    expect_same_endpoints(p.h, f);
  }
}
END_TEST

START_TEST(round_trip_v2) {
  lcg rng{4242};
  const bytes tlvs = {0x01, 0x00, 0x02, 'h', '2'};
  for (int n = 0; n < 5000; ++n) {
    const address_family family =
        (n & 1) != 0 ? address_family::inet6 : address_family::inet;
    header_fields f = fields(command::proxy, family, random_endpoint(rng, family),
                             random_endpoint(rng, family));
    f.add_crc32c = (n & 2) != 0;
    if ((n & 4) != 0) {
      f.tlvs = tlvs.data();
      f.tlvs_length = tlvs.size();
    }
    const bytes out = v2_of(f, 200);
    ck_assert_uint_gt(out.size(), 0);
    const parsed p = parse_guarded(out);
    expect_complete(p, out.size(), printable(out));
    ck_assert_uint_eq(p.h.version, 2);
    ck_assert(p.h.cmd == command::proxy);
    ck_assert(p.h.family == family);
    ck_assert(p.h.proto == proxyproto::transport::stream);
    expect_same_endpoints(p.h, f);
    const size_t expected_tlvs = f.tlvs_length + (f.add_crc32c ? 7 : 0);
    ck_assert_uint_eq(p.h.tlvs_length, expected_tlvs);
  }
}
END_TEST

Suite *make_header_writer_suite(void) {
  Suite *s = suite_create("header_writer");

  TCase *tc = tcase_create("write_v1");
  tcase_add_test(tc, v1_tcp4);
  tcase_add_test(tc, v1_tcp4_extremes);
  tcase_add_test(tc, v1_tcp6);
  tcase_add_test(tc, v1_tcp6_mapped_parses_back);
  tcase_add_test(tc, v1_tcp6_longest);
  tcase_add_test(tc, v1_unknown);
  tcase_add_test(tc, v1_capacity);
  suite_add_tcase(s, tc);

  tc = tcase_create("write_v2");
  tcase_add_test(tc, v2_inet_bytes);
  tcase_add_test(tc, v2_inet6_bytes);
  tcase_add_test(tc, v2_unspec_bytes);
  tcase_add_test(tc, v2_local);
  tcase_add_test(tc, v2_tlvs_appended);
  tcase_add_test(tc, v2_checksum);
  tcase_add_test(tc, v2_checksum_after_tlvs);
  tcase_add_test(tc, v2_checksum_unspec);
  tcase_add_test(tc, v2_capacity);
  tcase_add_test(tc, v2_maximum_length);
  suite_add_tcase(s, tc);

  tc = tcase_create("round_trip");
  tcase_add_test(tc, round_trip_v1);
  tcase_add_test(tc, round_trip_v2);
  suite_add_tcase(s, tc);
  return s;
}
