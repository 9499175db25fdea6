// The allow list: parsing CIDR prefixes and matching peers against them.
#include <arpa/inet.h>
#include <check.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "core/address_list.h"
#include "suites.h"

using proxyproto::address_list;
using proxyproto::address_list_contains;
using proxyproto::address_list_max_entries;
using proxyproto::parse_address_list;

namespace {

address_list parsed(const char *text) {
  address_list list;
  ck_assert_msg(parse_address_list(text, std::strlen(text), &list),
                "\"%s\" was rejected", text);
  return list;
}

bool rejected(const char *text) {
  address_list list;
  std::memset(&list, 0x5a, sizeof list);
  const bool ok = parse_address_list(text, std::strlen(text), &list);
  // A failed parse leaves an empty list: nobody trusted, not even unix.
  if (!ok) {
    ck_assert_uint_eq(list.count, 0);
    ck_assert(!list.unix_peers);
  }
  return !ok;
}

// Whether the text address (IPv4 or IPv6) is in the list.
bool has(const address_list &list, const char *address) {
  uint8_t bytes[16];
  if (inet_pton(AF_INET, address, bytes) == 1)
    return address_list_contains(list, true, bytes);
  ck_assert_int_eq(inet_pton(AF_INET6, address, bytes), 1);
  return address_list_contains(list, false, bytes);
}

}  // namespace

START_TEST(ipv4_host) {
  const address_list l = parsed("192.0.2.1");
  ck_assert_uint_eq(l.count, 1);
  ck_assert_uint_eq(l.entries[0].bits, 32);
  ck_assert(has(l, "192.0.2.1"));
  ck_assert(!has(l, "192.0.2.2"));
  ck_assert(!has(l, "192.0.2.0"));
}
END_TEST

START_TEST(ipv4_prefixes) {
  const address_list l8 = parsed("10.0.0.0/8");
  ck_assert(has(l8, "10.0.0.0"));
  ck_assert(has(l8, "10.255.255.255"));
  ck_assert(!has(l8, "11.0.0.0"));
  ck_assert(!has(l8, "9.255.255.255"));
  const address_list l32 = parsed("127.0.0.1/32");
  ck_assert(has(l32, "127.0.0.1"));
  ck_assert(!has(l32, "127.0.0.2"));
  // A prefix that does not end on a byte boundary.
  const address_list l26 = parsed("192.0.2.64/26");
  ck_assert(has(l26, "192.0.2.64"));
  ck_assert(has(l26, "192.0.2.127"));
  ck_assert(!has(l26, "192.0.2.63"));
  ck_assert(!has(l26, "192.0.2.128"));
  const address_list l31 = parsed("127.0.0.2/31");
  ck_assert(has(l31, "127.0.0.2"));
  ck_assert(has(l31, "127.0.0.3"));
  ck_assert(!has(l31, "127.0.0.1"));
}
END_TEST

START_TEST(ipv4_every_length) {
  // For each /n of 255.255.255.255 masked, the first address outside.
  for (unsigned bits = 0; bits <= 32; ++bits) {
    const uint32_t mask = bits == 0 ? 0 : ~0u << (32 - bits);
    const uint32_t net = 0xC0A8FFFFu & mask;  // 192.168.255.255
    in_addr a{htonl(net)};
    char text[64];
    std::snprintf(text, sizeof text, "%s/%u", inet_ntoa(a), bits);
    const address_list l = parsed(text);
    ck_assert_uint_eq(l.entries[0].bits, bits);
    const uint32_t last = net | ~mask;
    uint8_t b[4];
    const uint32_t inside[] = {net, last};
    for (uint32_t v : inside) {
      const uint32_t be = htonl(v);
      std::memcpy(b, &be, 4);
      ck_assert_msg(address_list_contains(l, true, b), "%s misses an inside address", text);
    }
    if (bits > 0) {
      const uint32_t outside = net ^ (1u << (32 - bits));  // flip the last prefix bit
      const uint32_t be = htonl(outside);
      std::memcpy(b, &be, 4);
      ck_assert_msg(!address_list_contains(l, true, b), "%s matches outside", text);
    }
  }
}
END_TEST

START_TEST(zero_prefix_matches_its_family_only) {
  const address_list v4 = parsed("0.0.0.0/0");
  ck_assert(has(v4, "1.2.3.4"));
  ck_assert(has(v4, "255.255.255.255"));
  ck_assert(has(v4, "::ffff:1.2.3.4"));
  ck_assert(!has(v4, "2001:db8::1"));
  ck_assert(!has(v4, "::1"));
  const address_list v6 = parsed("::/0");
  ck_assert(has(v6, "2001:db8::1"));
  ck_assert(has(v6, "::1"));
  ck_assert(!has(v6, "1.2.3.4"));
}
END_TEST

START_TEST(ipv6_prefixes) {
  const address_list l = parsed("2001:db8::/32");
  ck_assert(has(l, "2001:db8::"));
  ck_assert(has(l, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
  ck_assert(!has(l, "2001:db9::"));
  ck_assert(!has(l, "2001:db7:ffff::"));
  const address_list l128 = parsed("::1/128");
  ck_assert(has(l128, "::1"));
  ck_assert(!has(l128, "::2"));
  ck_assert(!has(l128, "::"));
  const address_list host = parsed("2001:db8::1");
  ck_assert_uint_eq(host.entries[0].bits, 128);
  ck_assert(has(host, "2001:db8::1"));
  ck_assert(!has(host, "2001:db8::"));
  const address_list l65 = parsed("2001:db8:0:0:8000::/65");
  ck_assert(has(l65, "2001:db8::ffff:0:0:1"));
  ck_assert(!has(l65, "2001:db8::7fff:0:0:1"));
}
END_TEST

START_TEST(mapped_peers_match_ipv4_prefixes) {
  const address_list l = parsed("10.0.0.0/8, 127.0.0.1");
  ck_assert(has(l, "::ffff:10.1.2.3"));
  ck_assert(has(l, "::ffff:127.0.0.1"));
  ck_assert(!has(l, "::ffff:127.0.0.2"));
  ck_assert(!has(l, "::ffff:11.0.0.1"));
  // Not mapped: the same low 32 bits in another IPv6 address do not count.
  ck_assert(!has(l, "::10.1.2.3"));
  ck_assert(!has(l, "64:ff9b::10.1.2.3"));
  ck_assert(!has(l, "::fffe:10.1.2.3"));
  // A mapped prefix written in IPv6 matches mapped peers by their 16 bytes.
  const address_list m = parsed("::ffff:10.0.0.0/104");
  ck_assert(has(m, "::ffff:10.9.9.9"));
  ck_assert(!has(m, "::ffff:11.9.9.9"));
}
END_TEST

START_TEST(lists_and_spaces) {
  const address_list l = parsed(" 10.0.0.0/8 ,\t192.0.2.1,2001:db8::/32 , unix ");
  ck_assert_uint_eq(l.count, 3);
  ck_assert(l.unix_peers);
  ck_assert(has(l, "10.2.3.4"));
  ck_assert(has(l, "192.0.2.1"));
  ck_assert(has(l, "2001:db8::5"));
  ck_assert(!has(l, "192.0.2.2"));
  const address_list u = parsed("unix");
  ck_assert_uint_eq(u.count, 0);
  ck_assert(u.unix_peers);
  ck_assert(!has(u, "127.0.0.1"));
  const address_list no_unix = parsed("127.0.0.1");
  ck_assert(!no_unix.unix_peers);
}
END_TEST

START_TEST(invalid_forms) {
  const char *bad[] = {
      "",               " ",              ",",
      "10.0.0.0/8,",    ",10.0.0.0/8",    "10.0.0.0/8,,127.0.0.1",
      "10.0.0.0/33",    "::/129",         "10.0.0.0/",
      "10.0.0.0/-1",    "10.0.0.0/+8",    "10.0.0.0/08",
      "10.0.0.0/8/8",   "10.0.0.1/8",     "2001:db8::1/32",
      "10.0.0",         "10.0.0.256",     "010.0.0.1",
      "1.2.3.4 5.6.7.8", "10.0.0.0 /8",   "fe80::1%eth0",
      "[::1]",          "localhost",      "UNIX",
      "unix:",          "*",              "any",
      "10.0.0.0/8 # proxies",             "127.0.0.1\n",
      "1.2.3.4/1000",
  };
  for (const char *b : bad) ck_assert_msg(rejected(b), "\"%s\" was accepted", b);
  // A NUL inside the given length is not an end.
  address_list l;
  ck_assert(!parse_address_list("127.0.0.1\0", 10, &l));
}
END_TEST

START_TEST(too_many_entries) {
  std::string text;
  for (size_t i = 0; i < address_list_max_entries; ++i) {
    if (i) text += ",";
    text += "10.0." + std::to_string(i) + ".0/24";
  }
  address_list l;
  ck_assert(parse_address_list(text.data(), text.size(), &l));
  ck_assert_uint_eq(l.count, address_list_max_entries);
  ck_assert(has(l, "10.0.63.9"));
  // `unix` takes no entry.
  const std::string with_unix = text + ",unix";
  ck_assert(parse_address_list(with_unix.data(), with_unix.size(), &l));
  text += ",192.0.2.1";
  ck_assert(rejected(text.c_str()));
}
END_TEST

START_TEST(empty_list_trusts_nobody) {
  address_list l;
  std::memset(&l, 0, sizeof l);
  ck_assert(!has(l, "127.0.0.1"));
  ck_assert(!has(l, "::1"));
  ck_assert(!has(l, "::ffff:127.0.0.1"));
}
END_TEST

Suite *make_address_list_suite(void) {
  Suite *s = suite_create("address_list");
  TCase *tc = tcase_create("parse_and_match");
  tcase_add_test(tc, ipv4_host);
  tcase_add_test(tc, ipv4_prefixes);
  tcase_add_test(tc, ipv4_every_length);
  tcase_add_test(tc, zero_prefix_matches_its_family_only);
  tcase_add_test(tc, ipv6_prefixes);
  tcase_add_test(tc, mapped_peers_match_ipv4_prefixes);
  tcase_add_test(tc, lists_and_spaces);
  tcase_add_test(tc, invalid_forms);
  tcase_add_test(tc, too_many_entries);
  tcase_add_test(tc, empty_list_trusts_nobody);
  suite_add_tcase(s, tc);
  return s;
}
