// The ports list: single ports and ranges.
#include <check.h>

#include <cstring>
#include <string>

#include "core/port_list.h"
#include "suites.h"

using proxyproto::parse_port_list;
using proxyproto::port_list;
using proxyproto::port_list_contains;
using proxyproto::port_list_max_entries;

namespace {

port_list parsed(const char *text) {
  port_list l;
  ck_assert_msg(parse_port_list(text, std::strlen(text), &l), "\"%s\" rejected", text);
  return l;
}

bool rejected(const char *text, size_t len) {
  port_list l;
  std::memset(&l, 0x5a, sizeof l);
  const bool ok = parse_port_list(text, len, &l);
  if (!ok) ck_assert_uint_eq(l.count, 0);  // matches nothing
  return !ok;
}

}  // namespace

START_TEST(single_ports) {
  const port_list l = parsed("80, 443");
  ck_assert_uint_eq(l.count, 2);
  ck_assert(port_list_contains(l, 80));
  ck_assert(port_list_contains(l, 443));
  ck_assert(!port_list_contains(l, 81));
  ck_assert(!port_list_contains(l, 0));
  ck_assert(!port_list_contains(l, 8080));
  const port_list extremes = parsed("1,65535");
  ck_assert(port_list_contains(extremes, 1));
  ck_assert(port_list_contains(extremes, 65535));
  ck_assert(!port_list_contains(extremes, 2));
  ck_assert(!port_list_contains(extremes, 65534));
}
END_TEST

START_TEST(ranges) {
  const port_list l = parsed("\t8000-8099 ,9000-9000");
  ck_assert(port_list_contains(l, 8000));
  ck_assert(port_list_contains(l, 8050));
  ck_assert(port_list_contains(l, 8099));
  ck_assert(!port_list_contains(l, 7999));
  ck_assert(!port_list_contains(l, 8100));
  ck_assert(port_list_contains(l, 9000));
  ck_assert(!port_list_contains(l, 9001));
  const port_list all = parsed("1-65535");
  ck_assert(port_list_contains(all, 1));
  ck_assert(port_list_contains(all, 65535));
}
END_TEST

START_TEST(invalid_forms) {
  const char *bad[] = {"",      " ",       ",",       "80,",    ",80",
                       "80,,81", "0",      "65536",   "080",    "-80",
                       "+80",   "80-",     "-",       "90-80",  "80 81",
                       "80-90-100", "0-10", "http",   "80/tcp", "80 # web",
                       "8O",    "99999999999"};
  for (const char *b : bad)
    ck_assert_msg(rejected(b, std::strlen(b)), "\"%s\" was accepted", b);
  ck_assert(rejected("80\0", 3));
}
END_TEST

START_TEST(too_many_entries) {
  std::string text;
  for (size_t i = 0; i < port_list_max_entries; ++i)
    text += (i ? "," : "") + std::to_string(1000 + i);
  port_list l;
  ck_assert(parse_port_list(text.data(), text.size(), &l));
  ck_assert(port_list_contains(l, 1063));
  text += ",2000";
  ck_assert(rejected(text.data(), text.size()));
}
END_TEST

Suite *make_port_list_suite(void) {
  Suite *s = suite_create("port_list");
  TCase *tc = tcase_create("parse_and_match");
  tcase_add_test(tc, single_ports);
  tcase_add_test(tc, ranges);
  tcase_add_test(tc, invalid_forms);
  tcase_add_test(tc, too_many_entries);
  suite_add_tcase(s, tc);
  return s;
}
