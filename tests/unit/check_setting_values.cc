// The values of LIBPROXYPROTO_* settings.
#include <arpa/inet.h>
#include <check.h>

#include <climits>
#include <cstring>

#include "core/proxy_header.h"
#include "core/setting_values.h"
#include "suites.h"

using proxyproto::address_family;
using proxyproto::ip_endpoint;
using proxyproto::parse_setting_address;
using proxyproto::parse_setting_unsigned;
using proxyproto::setting_is_on;

// ---- setting_is_on -------------------------------------------------------------

START_TEST(flag_off) {
  ck_assert(!setting_is_on(nullptr));
  ck_assert(!setting_is_on(""));
  ck_assert(!setting_is_on("0"));
}
END_TEST

START_TEST(flag_on) {
  const char *values[] = {"1", "yes", "true", "on", "00", "01", " ", "0 ", "2"};
  for (const char *v : values) ck_assert_msg(setting_is_on(v), "\"%s\" is off", v);
}
END_TEST

// ---- parse_setting_unsigned -------------------------------------------------------

START_TEST(unsigned_valid) {
  unsigned out = 99;
  ck_assert(parse_setting_unsigned("3", 3, &out));
  ck_assert_uint_eq(out, 3);
  ck_assert(parse_setting_unsigned("0", 3, &out));
  ck_assert_uint_eq(out, 0);
  ck_assert(parse_setting_unsigned("0", 0, &out));
  ck_assert_uint_eq(out, 0);
  ck_assert(parse_setting_unsigned("1", 3, &out));
  ck_assert_uint_eq(out, 1);
  ck_assert(parse_setting_unsigned("65536", 100000, &out));
  ck_assert_uint_eq(out, 65536);
  ck_assert(parse_setting_unsigned("4294967295", UINT_MAX, &out));
  ck_assert_uint_eq(out, 4294967295u);
}
END_TEST

START_TEST(unsigned_invalid) {
  const char *values[] = {"4",  "03", "00", "",   "-1", "+1", "1x",  "x1", " 1",
                          "1 ", "0x1", "3.0", "10", "4294967299", "18446744073709551619"};
  for (const char *v : values) {
    unsigned out = 77;
    ck_assert_msg(!parse_setting_unsigned(v, 3, &out), "\"%s\" accepted (%u)", v, out);
  }
  unsigned out = 0;
  ck_assert(!parse_setting_unsigned("4294967296", UINT_MAX, &out));
  ck_assert(!parse_setting_unsigned("1", 0, &out));
}
END_TEST

// ---- parse_setting_address ----------------------------------------------------------

START_TEST(address_ipv4) {
  ip_endpoint e;
  std::memset(&e, 0, sizeof e);
  e.port = 4321;
  address_family family = address_family::unspec;
  ck_assert(parse_setting_address("8.8.8.8", &family, &e));
  ck_assert(family == address_family::inet);
  const uint8_t want[4] = {8, 8, 8, 8};
  ck_assert_mem_eq(e.address, want, 4);
  ck_assert_uint_eq(e.port, 4321);
}
END_TEST

START_TEST(address_ipv6) {
  ip_endpoint e;
  std::memset(&e, 0, sizeof e);
  e.port = 1234;
  address_family family = address_family::unspec;
  ck_assert(parse_setting_address("2001:4860:4860::8888", &family, &e));
  ck_assert(family == address_family::inet6);
  uint8_t want[16];
  ck_assert_int_eq(inet_pton(AF_INET6, "2001:4860:4860::8888", want), 1);
  ck_assert_mem_eq(e.address, want, 16);
  ck_assert_uint_eq(e.port, 1234);
  ck_assert(parse_setting_address("::ffff:10.0.0.1", &family, &e));
  ck_assert(family == address_family::inet6);
  ck_assert(parse_setting_address("::", &family, &e));
  ck_assert(family == address_family::inet6);
}
END_TEST

START_TEST(address_invalid) {
  const char *values[] = {"",          "8.8.8",      "8.8.8.8 ",  " 8.8.8.8",
                          "08.8.8.8",  "256.1.1.1",  "localhost", "1::2::3",
                          "fe80::1%eth0", "[::1]",   "8.8.8.8:53", "::1 ",
                          "12345::1",  "x"};
  for (const char *v : values) {
    ip_endpoint e;
    address_family family = address_family::unspec;
    ck_assert_msg(!parse_setting_address(v, &family, &e), "\"%s\" accepted", v);
  }
}
END_TEST

Suite *make_setting_values_suite(void) {
  Suite *s = suite_create("setting_values");

  TCase *tc = tcase_create("setting_is_on");
  tcase_add_test(tc, flag_off);
  tcase_add_test(tc, flag_on);
  suite_add_tcase(s, tc);

  tc = tcase_create("parse_setting_unsigned");
  tcase_add_test(tc, unsigned_valid);
  tcase_add_test(tc, unsigned_invalid);
  suite_add_tcase(s, tc);

  tc = tcase_create("parse_setting_address");
  tcase_add_test(tc, address_ipv4);
  tcase_add_test(tc, address_ipv6);
  tcase_add_test(tc, address_invalid);
  suite_add_tcase(s, tc);
  return s;
}
