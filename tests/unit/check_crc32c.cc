// CRC-32C (lib/core/crc32c.h): RFC 4960 Appendix B, RFC 3720 B.4 vectors.
#include <check.h>

#include <cstring>
#include <string>

#include "core/crc32c.h"
#include "suites.h"

using namespace pp_test;
using proxyproto::crc32c;

namespace {

uint32_t crc_of(const bytes &b) { return crc32c(b.data(), b.size()); }

}  // namespace

// ---- Known vectors ----------------------------------------------------------------

START_TEST(check_value) {
  const char *s = "123456789";
  ck_assert_uint_eq(crc32c(reinterpret_cast<const uint8_t *>(s), 9), 0xE3069283u);
}
END_TEST

START_TEST(rfc3720_vectors) {
  ck_assert_uint_eq(crc_of(bytes(32, 0x00)), 0x8A9136AAu);
  ck_assert_uint_eq(crc_of(bytes(32, 0xFF)), 0x62A8AB43u);
  bytes inc(32), dec(32);
  for (size_t i = 0; i < 32; ++i) {
    inc[i] = static_cast<uint8_t>(i);
    dec[i] = static_cast<uint8_t>(31 - i);
  }
  ck_assert_uint_eq(crc_of(inc), 0x46DD794Eu);
  ck_assert_uint_eq(crc_of(dec), 0x113FDB5Cu);
  // An iSCSI SCSI Read (10) command PDU.
  const bytes pdu = {0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                     0x00, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00,
                     0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28,
                     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,
                     0x00, 0x00, 0x00, 0x00};
  ck_assert_uint_eq(crc_of(pdu), 0xD9963A56u);
}
END_TEST

START_TEST(empty_input) {
  const uint8_t b = 0x55;
  ck_assert_uint_eq(crc32c(&b, 0), 0);
}
END_TEST

// Every length and alignment against the bitwise reference, in case the
// implementation works in words or tables.
START_TEST(matches_reference) {
  lcg rng{99};
  bytes data(1200);
  for (uint8_t &b : data) b = static_cast<uint8_t>(rng.next() >> 7);
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t len = 0; len + offset <= 600; ++len) {
      guarded g(data.data() + offset, len);
      const uint32_t got = crc32c(g.data(), g.size());
      const uint32_t want = reference_crc32c(data.data() + offset, len);
      ck_assert_msg(got == want, "offset %zu len %zu: %08x, expected %08x", offset,
                    len, got, want);
    }
  }
  const bytes big(65551, 0x3C);
  guarded g(big);
  ck_assert_uint_eq(crc32c(g.data(), g.size()),
                    reference_crc32c(big.data(), big.size()));
}
END_TEST

// ---- The skipped range --------------------------------------------------------------

START_TEST(skip_is_zeros) {
  const std::string text = "PROXY protocol checksum field here";
  bytes b = to_bytes(text);
  for (size_t off = 0; off + 4 <= b.size(); ++off) {
    bytes zeroed = b;
    for (size_t i = 0; i < 4; ++i) zeroed[off + i] = 0;
    const uint32_t want = reference_crc32c(zeroed.data(), zeroed.size());
    ck_assert_msg(crc32c(b.data(), b.size(), off, 4) == want, "skip at %zu", off);
  }
}
END_TEST

START_TEST(skip_lengths_and_places) {
  lcg rng{5};
  bytes b(300);
  for (uint8_t &x : b) x = static_cast<uint8_t>(rng.next() >> 3);
  for (int n = 0; n < 3000; ++n) {
    const size_t len = rng.next() % 300;
    const size_t off = len == 0 ? 0 : rng.next() % len;
    const size_t skip = len == 0 ? 0 : rng.next() % (len - off + 1);
    bytes zeroed(b.begin(), b.begin() + static_cast<long>(len));
    for (size_t i = 0; i < skip; ++i) zeroed[off + i] = 0;
    guarded g(b.data(), len);
    ck_assert_msg(crc32c(g.data(), len, off, skip) ==
                      reference_crc32c(zeroed.data(), zeroed.size()),
                  "len %zu skip %zu at %zu", len, skip, off);
  }
}
END_TEST

START_TEST(skip_length_zero_ignores_offset) {
  const bytes b = to_bytes("123456789");
  ck_assert_uint_eq(crc32c(b.data(), b.size(), 3, 0), 0xE3069283u);
  ck_assert_uint_eq(crc32c(b.data(), b.size(), 0, 0), 0xE3069283u);
}
END_TEST

START_TEST(skip_everything) {
  const bytes b(32, 0xFF);
  ck_assert_uint_eq(crc32c(b.data(), 32, 0, 32), 0x8A9136AAu);
}
END_TEST

Suite *make_crc32c_suite(void) {
  Suite *s = suite_create("crc32c");

  TCase *tc = tcase_create("crc32c_vectors");
  tcase_add_test(tc, check_value);
  tcase_add_test(tc, rfc3720_vectors);
  tcase_add_test(tc, empty_input);
  tcase_add_test(tc, matches_reference);
  suite_add_tcase(s, tc);

  tc = tcase_create("crc32c_skip");
  tcase_add_test(tc, skip_is_zeros);
  tcase_add_test(tc, skip_lengths_and_places);
  tcase_add_test(tc, skip_length_zero_ignores_offset);
  tcase_add_test(tc, skip_everything);
  suite_add_tcase(s, tc);
  return s;
}
