// From header endpoints to the struct sockaddr that accept(2) and
// getpeername(2) report, and back.
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>

#include "core/proxy_header.h"
#include "core/sockaddr_convert.h"
#include "suites.h"

using proxyproto::address_family;
using proxyproto::copy_sockaddr_truncated;
using proxyproto::endpoint_to_sockaddr;
using proxyproto::ip_endpoint;
using proxyproto::map_to_common_family;
using proxyproto::sockaddr_to_endpoint;
using pp_test::ep4;
using pp_test::ep6;

namespace {

// A sockaddr_storage full of garbage, as a caller's stack would be.
sockaddr_storage dirty_storage() {
  sockaddr_storage ss;
  std::memset(&ss, 0xAB, sizeof ss);
  return ss;
}

void expect_in(const sockaddr_storage &ss, const char *text, uint16_t port) {
  sockaddr_in sin;
  std::memcpy(&sin, &ss, sizeof sin);
  ck_assert_int_eq(sin.sin_family, AF_INET);
  ck_assert_uint_eq(sin.sin_port, htons(port));
  in_addr want;
  ck_assert_int_eq(inet_pton(AF_INET, text, &want), 1);
  ck_assert_uint_eq(sin.sin_addr.s_addr, want.s_addr);
  const unsigned char zero[sizeof sin.sin_zero] = {};
  ck_assert_mem_eq(sin.sin_zero, zero, sizeof zero);
}

void expect_in6(const sockaddr_storage &ss, const char *text, uint16_t port) {
  sockaddr_in6 sin6;
  std::memcpy(&sin6, &ss, sizeof sin6);
  ck_assert_int_eq(sin6.sin6_family, AF_INET6);
  ck_assert_uint_eq(sin6.sin6_port, htons(port));
  in6_addr want;
  ck_assert_int_eq(inet_pton(AF_INET6, text, &want), 1);
  char got[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, &sin6.sin6_addr, got, sizeof got);
  ck_assert_msg(std::memcmp(&sin6.sin6_addr, &want, 16) == 0,
                "address %s, expected %s", got, text);
  ck_assert_uint_eq(sin6.sin6_flowinfo, 0);
  ck_assert_uint_eq(sin6.sin6_scope_id, 0);
}

}  // namespace

// ---- endpoint_to_sockaddr -------------------------------------------------------

START_TEST(inet_on_inet_listener) {
  sockaddr_storage ss = dirty_storage();
  const socklen_t len = endpoint_to_sockaddr(address_family::inet,
                                             ep4("192.0.2.1", 8080, 0xCC), AF_INET, &ss);
  ck_assert_uint_eq(len, sizeof(sockaddr_in));
  ck_assert_uint_eq(len, 16);
  expect_in(ss, "192.0.2.1", 8080);
}
END_TEST

START_TEST(inet_on_inet6_listener_is_mapped) {
  sockaddr_storage ss = dirty_storage();
  const socklen_t len = endpoint_to_sockaddr(address_family::inet,
                                             ep4("192.0.2.1", 65535, 0xCC), AF_INET6, &ss);
  ck_assert_uint_eq(len, sizeof(sockaddr_in6));
  ck_assert_uint_eq(len, 28);
  expect_in6(ss, "::ffff:192.0.2.1", 65535);
}
END_TEST

START_TEST(inet6_on_inet_listener) {
  sockaddr_storage ss = dirty_storage();
  const socklen_t len = endpoint_to_sockaddr(address_family::inet6,
                                             ep6("2001:db8::1", 1), AF_INET, &ss);
  ck_assert_uint_eq(len, 28);
  expect_in6(ss, "2001:db8::1", 1);
}
END_TEST

START_TEST(inet6_on_inet6_listener) {
  sockaddr_storage ss = dirty_storage();
  const socklen_t len = endpoint_to_sockaddr(address_family::inet6,
                                             ep6("fe80::1", 443), AF_INET6, &ss);
  ck_assert_uint_eq(len, 28);
  expect_in6(ss, "fe80::1", 443);
}
END_TEST

START_TEST(on_unix_listener) {
  sockaddr_storage ss = dirty_storage();
  ck_assert_uint_eq(endpoint_to_sockaddr(address_family::inet6,
                                         ep6("2001:db8::2", 2), AF_UNIX, &ss),
                    28);
  expect_in6(ss, "2001:db8::2", 2);
  ss = dirty_storage();
  ck_assert_uint_eq(endpoint_to_sockaddr(address_family::inet, ep4("10.1.2.3", 3, 0xCC),
                                         AF_UNIX, &ss),
                    16);
  expect_in(ss, "10.1.2.3", 3);
}
END_TEST

START_TEST(port_is_network_order) {
  sockaddr_storage ss = dirty_storage();
  endpoint_to_sockaddr(address_family::inet, ep4("1.2.3.4", 0x1234, 0xCC), AF_INET, &ss);
  const uint8_t *raw = reinterpret_cast<const uint8_t *>(&ss);
  // sin_port sits at offset 2, big endian on every host.
  ck_assert_uint_eq(raw[2], 0x12);
  ck_assert_uint_eq(raw[3], 0x34);
  ss = dirty_storage();
  endpoint_to_sockaddr(address_family::inet6, ep6("::1", 0xABCD), AF_INET6, &ss);
  ck_assert_uint_eq(raw[2], 0xAB);
  ck_assert_uint_eq(raw[3], 0xCD);
}
END_TEST

START_TEST(no_address_family) {
  sockaddr_storage ss = dirty_storage();
  ck_assert_uint_eq(endpoint_to_sockaddr(address_family::unspec, ep4("1.2.3.4", 1, 0xCC),
                                         AF_INET, &ss),
                    0);
  ck_assert_uint_eq(endpoint_to_sockaddr(address_family::unspec, ep4("1.2.3.4", 1, 0xCC),
                                         AF_INET6, &ss),
                    0);
  ck_assert_uint_eq(endpoint_to_sockaddr(address_family::unix_domain,
                                         ep4("1.2.3.4", 1, 0xCC), AF_UNIX, &ss),
                    0);
}
END_TEST

// ---- copy_sockaddr_truncated ----------------------------------------------------

START_TEST(copy_fits) {
  sockaddr_storage src = dirty_storage();
  const socklen_t len =
      endpoint_to_sockaddr(address_family::inet, ep4("192.0.2.7", 99, 0xCC), AF_INET, &src);
  sockaddr_storage dst;
  std::memset(&dst, 0x11, sizeof dst);
  socklen_t addrlen = sizeof dst;
  copy_sockaddr_truncated(src, len, reinterpret_cast<sockaddr *>(&dst), &addrlen);
  ck_assert_uint_eq(addrlen, 16);
  ck_assert_mem_eq(&dst, &src, 16);
  const uint8_t *raw = reinterpret_cast<const uint8_t *>(&dst);
  for (size_t i = 16; i < sizeof dst; ++i)
    ck_assert_msg(raw[i] == 0x11, "byte %zu past the sockaddr written", i);
}
END_TEST

START_TEST(copy_truncates) {
  sockaddr_storage src = dirty_storage();
  const socklen_t len = endpoint_to_sockaddr(address_family::inet6,
                                             ep6("2001:db8::9", 9), AF_INET6, &src);
  ck_assert_uint_eq(len, 28);
  for (socklen_t room : {socklen_t{0}, socklen_t{1}, socklen_t{8}, socklen_t{16},
                         socklen_t{27}, socklen_t{28}}) {
    alignas(sockaddr_storage) uint8_t dst[64];
    std::memset(dst, 0x11, sizeof dst);
    socklen_t addrlen = room;
    copy_sockaddr_truncated(src, len, static_cast<sockaddr *>(static_cast<void *>(dst)),
                            &addrlen);
    ck_assert_msg(addrlen == 28, "room %u: *addrlen %u, expected 28", room, addrlen);
    ck_assert_mem_eq(dst, &src, room);
    for (size_t i = room; i < sizeof dst; ++i)
      ck_assert_msg(dst[i] == 0x11, "room %u: byte %zu written", room, i);
  }
}
END_TEST

START_TEST(copy_with_null_pointers) {
  sockaddr_storage src = dirty_storage();
  const socklen_t len =
      endpoint_to_sockaddr(address_family::inet, ep4("192.0.2.7", 99, 0xCC), AF_INET, &src);
  socklen_t addrlen = 77;
  copy_sockaddr_truncated(src, len, nullptr, &addrlen);
  ck_assert_uint_eq(addrlen, 77);
  alignas(sockaddr_storage) uint8_t dst[32];
  std::memset(dst, 0x11, sizeof dst);
  copy_sockaddr_truncated(src, len, static_cast<sockaddr *>(static_cast<void *>(dst)),
                          nullptr);
  for (uint8_t b : dst) ck_assert_uint_eq(b, 0x11);
  copy_sockaddr_truncated(src, len, nullptr, nullptr);
}
END_TEST

// ---- sockaddr_to_endpoint --------------------------------------------------------

START_TEST(from_sockaddr_in) {
  sockaddr_in sin;
  std::memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons(8080);
  ck_assert_int_eq(inet_pton(AF_INET, "203.0.113.5", &sin.sin_addr), 1);
  ip_endpoint e;
  std::memset(&e, 0xEE, sizeof e);
  ck_assert(sockaddr_to_endpoint(reinterpret_cast<sockaddr *>(&sin), sizeof sin, &e) ==
            address_family::inet);
  const uint8_t want[4] = {203, 0, 113, 5};
  ck_assert_mem_eq(e.address, want, 4);
  ck_assert_uint_eq(e.port, 8080);
}
END_TEST

START_TEST(from_sockaddr_in6) {
  sockaddr_in6 sin6;
  std::memset(&sin6, 0, sizeof sin6);
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(0xFEDC);
  ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::abcd", &sin6.sin6_addr), 1);
  ip_endpoint e;
  std::memset(&e, 0xEE, sizeof e);
  ck_assert(sockaddr_to_endpoint(reinterpret_cast<sockaddr *>(&sin6), sizeof sin6,
                                 &e) == address_family::inet6);
  ck_assert_mem_eq(e.address, &sin6.sin6_addr, 16);
  ck_assert_uint_eq(e.port, 0xFEDC);
}
END_TEST

START_TEST(from_short_or_other_sockaddr) {
  sockaddr_in sin;
  std::memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  ip_endpoint e;
  ck_assert(sockaddr_to_endpoint(reinterpret_cast<sockaddr *>(&sin), sizeof sin - 1,
                                 &e) == address_family::unspec);
  ck_assert(sockaddr_to_endpoint(reinterpret_cast<sockaddr *>(&sin), 0, &e) ==
            address_family::unspec);
  sockaddr_in6 sin6;
  std::memset(&sin6, 0, sizeof sin6);
  sin6.sin6_family = AF_INET6;
  ck_assert(sockaddr_to_endpoint(reinterpret_cast<sockaddr *>(&sin6),
                                 sizeof(sockaddr_in), &e) == address_family::unspec);
  ck_assert(sockaddr_to_endpoint(reinterpret_cast<sockaddr *>(&sin6), 24, &e) ==
            address_family::unspec);
  sockaddr_un sun;
  std::memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  ck_assert(sockaddr_to_endpoint(reinterpret_cast<sockaddr *>(&sun), sizeof sun, &e) ==
            address_family::unspec);
}
END_TEST

// Only `len` bytes are read: a sockaddr_in ending at an inaccessible page.
START_TEST(from_sockaddr_reads_only_len) {
  sockaddr_in sin;
  std::memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons(1);
  pp_test::guarded g(&sin, sizeof sin);
  ip_endpoint e;
  // Through void: the bytes end at a page boundary, wherever that puts
  // them (-Wcast-align on strict-alignment targets).
  ck_assert(sockaddr_to_endpoint(static_cast<const sockaddr *>(static_cast<const void *>(g.data())),
                                 sizeof sin, &e) == address_family::inet);
  ck_assert_uint_eq(e.port, 1);
}
END_TEST

// Shorter than even sa_family: "too short", and nothing past len is read
// (the bytes end at an inaccessible page).
START_TEST(from_sockaddr_shorter_than_family) {
  sockaddr_in sin;
  std::memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  for (socklen_t len : {socklen_t{0}, socklen_t{1}}) {
    pp_test::guarded g(&sin, len);
    ip_endpoint e;
    ck_assert(sockaddr_to_endpoint(
                  static_cast<const sockaddr *>(static_cast<const void *>(g.data())), len,
                  &e) == address_family::unspec);
  }
}
END_TEST

// ---- map_to_common_family ---------------------------------------------------------

START_TEST(map_inet_and_inet6) {
  ip_endpoint src = ep4("192.0.2.1", 1234, 0xCC), dst = ep6("2001:db8::1", 80);
  const ip_endpoint dst_before = dst;
  ck_assert(map_to_common_family(address_family::inet, &src, address_family::inet6,
                                 &dst) == address_family::inet6);
  const ip_endpoint want = ep6("::ffff:192.0.2.1", 1234);
  ck_assert_mem_eq(src.address, want.address, 16);
  ck_assert_uint_eq(src.port, 1234);
  ck_assert_mem_eq(dst.address, dst_before.address, 16);
  ck_assert_uint_eq(dst.port, 80);
}
END_TEST

START_TEST(map_inet6_and_inet) {
  ip_endpoint src = ep6("2001:db8::1", 80), dst = ep4("198.51.100.200", 65535, 0xCC);
  ck_assert(map_to_common_family(address_family::inet6, &src, address_family::inet,
                                 &dst) == address_family::inet6);
  const ip_endpoint want = ep6("::ffff:198.51.100.200", 65535);
  ck_assert_mem_eq(dst.address, want.address, 16);
  ck_assert_uint_eq(dst.port, 65535);
  const ip_endpoint src_want = ep6("2001:db8::1", 80);
  ck_assert_mem_eq(src.address, src_want.address, 16);
}
END_TEST

START_TEST(map_same_family) {
  ip_endpoint src = ep4("10.0.0.1", 1, 0xCC), dst = ep4("10.0.0.2", 2, 0xCC);
  ck_assert(map_to_common_family(address_family::inet, &src, address_family::inet,
                                 &dst) == address_family::inet);
  const uint8_t a[4] = {10, 0, 0, 1}, b[4] = {10, 0, 0, 2};
  ck_assert_mem_eq(src.address, a, 4);
  ck_assert_mem_eq(dst.address, b, 4);
  ip_endpoint s6 = ep6("::1", 1), d6 = ep6("::2", 2);
  ck_assert(map_to_common_family(address_family::inet6, &s6, address_family::inet6,
                                 &d6) == address_family::inet6);
  const ip_endpoint w1 = ep6("::1", 1), w2 = ep6("::2", 2);
  ck_assert_mem_eq(s6.address, w1.address, 16);
  ck_assert_mem_eq(d6.address, w2.address, 16);
}
END_TEST

Suite *make_sockaddr_convert_suite(void) {
  Suite *s = suite_create("sockaddr_convert");

  TCase *tc = tcase_create("endpoint_to_sockaddr");
  tcase_add_test(tc, inet_on_inet_listener);
  tcase_add_test(tc, inet_on_inet6_listener_is_mapped);
  tcase_add_test(tc, inet6_on_inet_listener);
  tcase_add_test(tc, inet6_on_inet6_listener);
  tcase_add_test(tc, on_unix_listener);
  tcase_add_test(tc, port_is_network_order);
  tcase_add_test(tc, no_address_family);
  suite_add_tcase(s, tc);

  tc = tcase_create("copy_sockaddr_truncated");
  tcase_add_test(tc, copy_fits);
  tcase_add_test(tc, copy_truncates);
  tcase_add_test(tc, copy_with_null_pointers);
  suite_add_tcase(s, tc);

  tc = tcase_create("sockaddr_to_endpoint");
  tcase_add_test(tc, from_sockaddr_in);
  tcase_add_test(tc, from_sockaddr_in6);
  tcase_add_test(tc, from_short_or_other_sockaddr);
  tcase_add_test(tc, from_sockaddr_reads_only_len);
  tcase_add_test(tc, from_sockaddr_shorter_than_family);
  suite_add_tcase(s, tc);

  tc = tcase_create("map_to_common_family");
  tcase_add_test(tc, map_inet_and_inet6);
  tcase_add_test(tc, map_inet6_and_inet);
  tcase_add_test(tc, map_same_family);
  suite_add_tcase(s, tc);
  return s;
}
