// Check tests of the LIBPROXYPROTO_TLVS parser (lib/core/tlv_setting.h).
#include <check.h>

#include <cstdlib>
#include <cstring>

#include "core/tlv_setting.h"
#include "suites.h"

namespace {

uint8_t out[256];

proxyproto::tlv_setting parse_ok(const char *text) {
  proxyproto::tlv_setting r;
  ck_assert_msg(proxyproto::parse_tlv_setting(text, out, sizeof out, &r),
                "rejected: %s", text);
  return r;
}

void expect_bytes(const proxyproto::tlv_setting &r, const char *bytes, size_t n) {
  ck_assert_uint_eq(r.length, n);
  ck_assert_int_eq(std::memcmp(out, bytes, n), 0);
}

size_t reject_at(const char *text) {
  proxyproto::tlv_setting r;
  ck_assert_msg(!proxyproto::parse_tlv_setting(text, out, sizeof out, &r),
                "accepted: %s", text);
  return r.error_at;
}

START_TEST(names_numbers_and_escapes) {
  expect_bytes(parse_ok("authority:example.com"), "\x02\x00\x0b" "example.com", 14);
  expect_bytes(parse_ok("0xEA:%01vpce-1"), "\xea\x00\x07\x01vpce-1", 10);
  expect_bytes(parse_ok("0xea:%01vpce-1"), "\xea\x00\x07\x01vpce-1", 10);
  expect_bytes(parse_ok("241:a%2Cb%25"), "\xf1\x00\x04" "a,b%", 7);
  expect_bytes(parse_ok("noop:"), "\x04\x00\x00", 3);
  const auto r = parse_ok("alpn:h2,crc32c,unique_id:x");
  ck_assert(r.add_crc32c);
  expect_bytes(r, "\x01\x00\x02h2\x05\x00\x01x", 9);
}
END_TEST

START_TEST(provider_items) {
  expect_bytes(parse_ok("aws_vpce_id:vpce-1"), "\xea\x00\x07\x01vpce-1", 10);
  expect_bytes(parse_ok("azure_linkid:305419896"),
               "\xee\x00\x05\x01\x78\x56\x34\x12", 8);
  expect_bytes(parse_ok("gcp_psc_id:18446744073709551615"),
               "\xe0\x00\x08\xff\xff\xff\xff\xff\xff\xff\xff", 11);
  expect_bytes(parse_ok("gcp_psc_id:258"), "\xe0\x00\x08\0\0\0\0\0\0\x01\x02", 11);
}
END_TEST

START_TEST(rejections) {
  ck_assert_uint_eq(reject_at("nosuch:1"), 0);
  ck_assert_uint_eq(reject_at("alpn:h2,bogus"), 8);          // no colon
  ck_assert_uint_eq(reject_at("alpn:h2,,alpn:x"), 8);        // empty item
  ck_assert_uint_eq(reject_at("crc32c,crc32c"), 7);          // two checksums
  ck_assert_uint_eq(reject_at("0x1:a"), 0);                  // one hex digit
  ck_assert_uint_eq(reject_at("256:a"), 0);                  // type > 255
  ck_assert_uint_eq(reject_at("alpn:%4"), 0);                // short escape
  ck_assert_uint_eq(reject_at("alpn:%zz"), 0);               // bad escape
  ck_assert_uint_eq(reject_at("azure_linkid:4294967296"), 0);  // > 32 bits
  ck_assert_uint_eq(reject_at("azure_linkid:-1"), 0);
  ck_assert_uint_eq(reject_at("gcp_psc_id:18446744073709551616"), 0);
  ck_assert_uint_eq(reject_at("gcp_psc_id:01"), 0);          // leading zero
  ck_assert_uint_eq(reject_at(""), 0);
}
END_TEST

START_TEST(capacity) {
  proxyproto::tlv_setting r;
  uint8_t small[5];
  ck_assert(proxyproto::parse_tlv_setting("alpn:h2", small, sizeof small, &r));
  ck_assert(!proxyproto::parse_tlv_setting("alpn:h2x", small, sizeof small, &r));
  ck_assert(!proxyproto::parse_tlv_setting("alpn:h,alpn:", small, sizeof small, &r));
}
END_TEST

}  // namespace

Suite *make_tlv_setting_suite(void) {
  Suite *s = suite_create("tlv_setting");
  TCase *t = tcase_create("parse");
  tcase_add_test(t, names_numbers_and_escapes);
  tcase_add_test(t, provider_items);
  tcase_add_test(t, rejections);
  tcase_add_test(t, capacity);
  suite_add_tcase(s, t);
  return s;
}
