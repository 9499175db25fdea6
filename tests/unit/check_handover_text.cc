// The hand-over value's writer and reader (lib/core/handover_text.h): every
// rule of the grammar.
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>

#include <climits>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "core/handover_text.h"
#include "suites.h"

using proxyproto::handover_entry;
using proxyproto::handover_max_entries;
using proxyproto::handover_value_max;
using proxyproto::handover_writer;
using proxyproto::parse_handover;

namespace {

handover_entry v4_entry(int fd, uint64_t dev, uint64_t ino, const char *ip,
                        uint16_t port) {
  handover_entry e{};
  e.fd = fd;
  e.device = dev;
  e.inode = ino;
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  inet_pton(AF_INET, ip, &sin.sin_addr);
  std::memcpy(&e.address, &sin, sizeof sin);
  e.length = sizeof sin;
  return e;
}

handover_entry v6_entry(int fd, uint64_t dev, uint64_t ino, const char *ip,
                        uint16_t port) {
  handover_entry e{};
  e.fd = fd;
  e.device = dev;
  e.inode = ino;
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(port);
  inet_pton(AF_INET6, ip, &sin6.sin6_addr);
  std::memcpy(&e.address, &sin6, sizeof sin6);
  e.length = sizeof sin6;
  return e;
}

long parse(const std::string &text, handover_entry *out, size_t capacity) {
  return parse_handover(text.data(), text.size(), out, capacity);
}

long parse(const std::string &text) {
  handover_entry out[handover_max_entries];
  return parse(text, out, handover_max_entries);
}

bool same(const handover_entry &a, const handover_entry &b) {
  return a.fd == b.fd && a.device == b.device && a.inode == b.inode &&
         a.length == b.length && std::memcmp(&a.address, &b.address, a.length) == 0;
}

}  // namespace

START_TEST(empty_value_has_no_entries) {
  char buf[handover_value_max + 1];
  handover_writer w(buf);
  ck_assert_str_eq(w.text(), "v1");
  ck_assert_int_eq(parse("v1"), 0);
}
END_TEST

START_TEST(writes_the_documented_form) {
  char buf[handover_value_max + 1];
  handover_writer w(buf);
  ck_assert(w.add(v4_entry(0, 8, 123456, "203.0.113.7", 4321)));
  ck_assert(w.add(v6_entry(1, 8, 123456, "2001:db8::1", 80)));
  ck_assert(w.add(v6_entry(7, 0, 0, "::ffff:192.0.2.1", 0)));
  ck_assert_str_eq(w.text(),
                   "v1;0,8,123456,203.0.113.7,4321;1,8,123456,2001:db8::1,80;"
                   "7,0,0,::ffff:192.0.2.1,0");
  ck_assert_uint_eq(w.length(), std::strlen(w.text()));
  ck_assert_uint_eq(w.entries(), 3);
}
END_TEST

START_TEST(round_trip) {
  const handover_entry in[] = {
      v4_entry(0, 8, 1, "203.0.113.7", 4321),
      v4_entry(INT_MAX, UINT64_MAX, UINT64_MAX, "255.255.255.255", 65535),
      v6_entry(3, 64769, 987654321, "2001:db8:0:1:2:3:4:5", 1),
      v6_entry(12, 9, 10, "::", 0),
  };
  char buf[handover_value_max + 1];
  handover_writer w(buf);
  for (const auto &e : in) ck_assert(w.add(e));
  handover_entry out[4];
  ck_assert_int_eq(parse_handover(w.text(), w.length(), out, 4), 4);
  for (size_t i = 0; i < 4; ++i) ck_assert(same(in[i], out[i]));
}
END_TEST

START_TEST(writer_is_bounded) {
  char buf[handover_value_max + 1];
  std::memset(buf, 'x', sizeof buf);
  handover_writer w(buf);
  // The longest entries there are, until the value is full.
  const auto longest = v6_entry(INT_MAX, UINT64_MAX, UINT64_MAX,
                                "1111:2222:3333:4444:5555:6666:255.255.255.255",
                                65535);
  for (size_t i = 0; i < handover_max_entries; ++i) ck_assert(w.add(longest));
  ck_assert(!w.add(longest));
  ck_assert_uint_eq(w.entries(), handover_max_entries);
  ck_assert_uint_le(w.length(), handover_value_max);
  ck_assert_uint_eq(std::strlen(buf), w.length());
  ck_assert_int_eq(parse(w.text()), static_cast<long>(handover_max_entries));
}
END_TEST

START_TEST(writer_refuses_what_it_cannot_give_back) {
  char buf[handover_value_max + 1];
  handover_writer w(buf);
  handover_entry e = v4_entry(-1, 1, 1, "192.0.2.1", 1);
  ck_assert(!w.add(e));  // negative descriptor
  e = v4_entry(3, 1, 1, "192.0.2.1", 1);
  e.length = sizeof(sockaddr_in) - 1;
  ck_assert(!w.add(e));  // short sockaddr
  e = v6_entry(3, 1, 1, "fe80::1", 1);
  sockaddr_in6 sin6;
  std::memcpy(&sin6, &e.address, sizeof sin6);
  sin6.sin6_scope_id = 2;
  std::memcpy(&e.address, &sin6, sizeof sin6);
  ck_assert(!w.add(e));  // scope id
  handover_entry unix_entry{};
  unix_entry.fd = 3;
  unix_entry.address.ss_family = AF_UNIX;
  unix_entry.length = sizeof(sa_family_t);
  ck_assert(!w.add(unix_entry));
  ck_assert_str_eq(w.text(), "v1");
}
END_TEST

START_TEST(reader_rejects_malformed_values) {
  static const char *const bad[] = {
      "",
      "v",
      "v2",
      "V1",
      "v1;",
      "v1;;",
      "v1 ",
      "v1;0,8,1,192.0.2.1",          // four fields
      "v1;0,8,1,192.0.2.1,80,9",     // six fields
      "v1;0,8,1,192.0.2.1,80;",      // trailing separator
      "v1;00,8,1,192.0.2.1,80",      // leading zero
      "v1;0,08,1,192.0.2.1,80",
      "v1;0,8,01,192.0.2.1,80",
      "v1;0,8,1,192.0.2.1,080",
      "v1;-1,8,1,192.0.2.1,80",      // sign
      "v1;+1,8,1,192.0.2.1,80",
      "v1;2147483648,8,1,192.0.2.1,80",  // fd above INT_MAX
      "v1;0,18446744073709551616,1,192.0.2.1,80",  // device above 2^64-1
      "v1;0,8,99999999999999999999,192.0.2.1,80",
      "v1;0,8,1,192.0.2.1,65536",    // port above 65535
      "v1;0,8,1,192.0.2.256,80",     // bad IPv4
      "v1;0,8,1,192.0.2,80",
      "v1;0,8,1,[::1],80",           // brackets
      "v1;0,8,1,::1%lo,80",          // zone
      "v1;0,8,1,2001:db8:::1,80",
      "v1;0,8,1,,80",
      "v1;,8,1,192.0.2.1,80",
      "v1;0,8,1,192.0.2.1,",
      "v1;0 ,8,1,192.0.2.1,80",
      "v1;0,8,1,192.0.2.1,80 ",
      "v1;0,8,1,192.0.2.1,80;x",
      "v10;0,8,1,192.0.2.1,80",
  };
  for (const char *text : bad) {
    if (parse(text) != -1) ck_abort_msg("accepted \"%s\"", text);
  }
}
END_TEST

START_TEST(reader_rejects_a_nul_inside) {
  const std::string text("v1;0,8,1,192.0.2.1,80\0;1,8,1,192.0.2.1,80", 42);
  ck_assert_int_eq(parse(text), -1);
}
END_TEST

START_TEST(reader_rejects_more_entries_than_room) {
  const std::string two = "v1;0,8,1,192.0.2.1,80;1,8,1,192.0.2.1,80";
  handover_entry out[2];
  ck_assert_int_eq(parse(two, out, 1), -1);
  ck_assert_int_eq(parse(two, out, 2), 2);
  ck_assert_int_eq(out[1].fd, 1);
}
END_TEST

START_TEST(reader_fills_plain_sockaddrs) {
  handover_entry out[2];
  ck_assert_int_eq(parse("v1;5,1,2,10.1.2.3,443;6,1,3,2001:db8::2,8080", out, 2), 2);
  sockaddr_in sin;
  std::memcpy(&sin, &out[0].address, sizeof sin);
  ck_assert_int_eq(sin.sin_family, AF_INET);
  ck_assert_int_eq(ntohs(sin.sin_port), 443);
  ck_assert_uint_eq(ntohl(sin.sin_addr.s_addr), 0x0a010203u);
  ck_assert_uint_eq(out[0].length, sizeof(sockaddr_in));
  sockaddr_in6 sin6;
  std::memcpy(&sin6, &out[1].address, sizeof sin6);
  ck_assert_int_eq(sin6.sin6_family, AF_INET6);
  ck_assert_int_eq(ntohs(sin6.sin6_port), 8080);
  ck_assert_uint_eq(sin6.sin6_flowinfo, 0);
  ck_assert_uint_eq(sin6.sin6_scope_id, 0);
  ck_assert_uint_eq(out[1].length, sizeof(sockaddr_in6));
  ck_assert_int_eq(out[1].fd, 6);
  ck_assert_uint_eq(out[1].inode, 3);
}
END_TEST

Suite *make_handover_text_suite(void) {
  Suite *s = suite_create("handover_text");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, empty_value_has_no_entries);
  tcase_add_test(tc, writes_the_documented_form);
  tcase_add_test(tc, round_trip);
  tcase_add_test(tc, writer_is_bounded);
  tcase_add_test(tc, writer_refuses_what_it_cannot_give_back);
  tcase_add_test(tc, reader_rejects_malformed_values);
  tcase_add_test(tc, reader_rejects_a_nul_inside);
  tcase_add_test(tc, reader_rejects_more_entries_than_room);
  tcase_add_test(tc, reader_fills_plain_sockaddrs);
  suite_add_tcase(s, tc);
  return s;
}
