// datagram/reply_map: where replies to a claimed client go. Remember and
// look up (IPv4, IPv6, v4-mapped), what is never remembered, replacement
// of a client's proxy, the bound in time (to the millisecond, refreshed by
// datagrams only, not by replies), the bound in entries (rounded up to a
// power of two, least recent replaced, expired slots first), the map off.
// Time is given to the *_at entry points, so that expiry is tested without
// sleeping; one test runs on the real clock.
#include <check.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "datagram/reply_map.h"
#include "settings/captured_environment.h"
#include "suites.h"

namespace reply_map = proxyproto::reply_map;
using pp_engine::sin4;
using pp_engine::sin6;

namespace {

// Settings are read once per process, and each test has a process of its
// own (check_main.cc): this sets them before the map's first use.
void settings(const char *entries, const char *seconds) {
  std::vector<std::string> vars = {"LIBPROXYPROTO_CONFIG=/dev/null",
                                   "LIBPROXYPROTO_UDP=1"};
  if (entries != nullptr) vars.push_back(std::string("LIBPROXYPROTO_UDP_REPLY_ENTRIES=") + entries);
  if (seconds != nullptr) vars.push_back(std::string("LIBPROXYPROTO_UDP_REPLY_SECONDS=") + seconds);
  static std::vector<std::string> kept;
  kept = vars;
  static std::vector<char *> env;
  env.clear();
  for (std::string &v : kept) env.push_back(v.data());
  env.push_back(nullptr);
  proxyproto::capture_environment(env.data(), "check_engine", false);
}

const sockaddr *sa(const sockaddr_storage &ss) {
  return reinterpret_cast<const sockaddr *>(&ss);
}

// A client 10.0.x.y:port, numbered.
sockaddr_storage client(unsigned n, socklen_t *len) {
  const std::string text = "10.0." + std::to_string(n >> 8) + "." + std::to_string(n & 0xFF);
  return sin4(text.c_str(), static_cast<uint16_t>(1000 + n), len);
}

const uint64_t t0 = 1000000;  // any start: the map only compares differences

void remember(uint64_t t, const sockaddr_storage &c, socklen_t c_len,
              const sockaddr_storage &proxy, socklen_t proxy_len) {
  reply_map::remember_at(t, sa(c), c_len, proxy, proxy_len);
}

// The proxy found for c at t, as "family:port", or "none".
std::string found(uint64_t t, const sockaddr_storage &c, socklen_t c_len) {
  sockaddr_storage proxy;
  std::memset(&proxy, 0xAA, sizeof proxy);
  socklen_t len = 12345;
  if (!reply_map::lookup_at(t, sa(c), c_len, &proxy, &len)) {
    ck_assert_int_eq(len, 12345);  // untouched when nothing is found
    return "none";
  }
  if (proxy.ss_family == AF_INET) {
    ck_assert_int_eq(len, sizeof(sockaddr_in));
    return "4:" + std::to_string(ntohs(reinterpret_cast<sockaddr_in *>(&proxy)->sin_port));
  }
  ck_assert_int_eq(proxy.ss_family, AF_INET6);
  ck_assert_int_eq(len, sizeof(sockaddr_in6));
  return "6:" + std::to_string(ntohs(reinterpret_cast<sockaddr_in6 *>(&proxy)->sin6_port));
}

bool known(uint64_t t, unsigned n) {
  socklen_t len;
  const sockaddr_storage c = client(n, &len);
  return found(t, c, len) != "none";
}

}  // namespace

START_TEST(remembers_ipv4_and_ipv6) {
  settings(nullptr, nullptr);
  socklen_t c4_len, c6_len, p4_len, p6_len;
  const sockaddr_storage c4 = sin4("192.0.2.7", 5353, &c4_len);
  const sockaddr_storage c6 = sin6("2001:db8::7", 5353, &c6_len);
  const sockaddr_storage p4 = sin4("127.0.0.1", 4001, &p4_len);
  const sockaddr_storage p6 = sin6("::1", 6001, &p6_len);
  PP_ASSERT_STR(found(t0, c4, c4_len), "none");
  remember(t0, c4, c4_len, p4, p4_len);
  remember(t0, c6, c6_len, p6, p6_len);
  PP_ASSERT_STR(found(t0, c4, c4_len), "4:4001");
  PP_ASSERT_STR(found(t0, c6, c6_len), "6:6001");
  // The whole proxy address comes back.
  sockaddr_storage got;
  socklen_t got_len = 0;
  ck_assert(reply_map::lookup_at(t0, sa(c6), c6_len, &got, &got_len));
  ck_assert_int_eq(std::memcmp(&got, &p6, sizeof(sockaddr_in6)), 0);
  ck_assert(reply_map::lookup_at(t0, sa(c4), c4_len, &got, &got_len));
  ck_assert_int_eq(std::memcmp(&got, &p4, sizeof(sockaddr_in)), 0);
  ck_assert_uint_eq(reply_map::capacity(), 4096);  // the default
}
END_TEST

START_TEST(keys_are_exact) {
  settings(nullptr, nullptr);
  socklen_t len, p_len;
  const sockaddr_storage proxy = sin4("127.0.0.1", 4001, &p_len);
  const sockaddr_storage c = sin4("192.0.2.7", 5353, &len);
  remember(t0, c, len, proxy, p_len);
  socklen_t other_len;
  // Another port, another address, the v4-mapped form (a different
  // sockaddr than the one the application was given), another v6 address
  // differing only in its last byte.
  PP_ASSERT_STR(found(t0, sin4("192.0.2.7", 5354, &other_len), other_len), "none");
  PP_ASSERT_STR(found(t0, sin4("192.0.2.8", 5353, &other_len), other_len), "none");
  PP_ASSERT_STR(found(t0, sin6("::ffff:192.0.2.7", 5353, &other_len), other_len), "none");
  const sockaddr_storage c6 = sin6("2001:db8::1:7", 5353, &len);
  remember(t0, c6, len, proxy, p_len);
  PP_ASSERT_STR(found(t0, sin6("2001:db8::1:8", 5353, &other_len), other_len), "none");
  PP_ASSERT_STR(found(t0, sin6("2001:db8:0:0:1::7", 5353, &other_len), other_len), "none");
  PP_ASSERT_STR(found(t0, sin6("2001:db8::1:7", 5353, &other_len), other_len), "4:4001");
  // A mapped client is a client of its own.
  const sockaddr_storage mapped = sin6("::ffff:192.0.2.9", 53, &len);
  remember(t0, mapped, len, proxy, p_len);
  PP_ASSERT_STR(found(t0, sin6("::ffff:192.0.2.9", 53, &other_len), other_len), "4:4001");
  PP_ASSERT_STR(found(t0, sin4("192.0.2.9", 53, &other_len), other_len), "none");
}
END_TEST

START_TEST(what_is_never_remembered) {
  settings(nullptr, nullptr);
  socklen_t len, p_len;
  const sockaddr_storage proxy = sin4("127.0.0.1", 4001, &p_len);
  sockaddr_storage c = sin4("192.0.2.7", 5353, &len);
  // A client address shorter than its family's sockaddr.
  remember(t0, c, len - 1, proxy, p_len);
  PP_ASSERT_STR(found(t0, c, len), "none");
  sockaddr_storage c6 = sin6("2001:db8::7", 53, &len);
  remember(t0, c6, len - 1, proxy, p_len);
  PP_ASSERT_STR(found(t0, c6, len), "none");
  // Another family.
  sockaddr_storage unix_client{};
  unix_client.ss_family = AF_UNIX;
  remember(t0, unix_client, sizeof unix_client, proxy, p_len);
  PP_ASSERT_STR(found(t0, unix_client, sizeof unix_client), "none");
  // A proxy that is no UDP sender: short, or of another family.
  c = sin4("192.0.2.8", 5353, &len);
  remember(t0, c, len, proxy, p_len - 1);
  PP_ASSERT_STR(found(t0, c, len), "none");
  sockaddr_storage odd_proxy = proxy;
  odd_proxy.ss_family = AF_UNIX;
  remember(t0, c, len, odd_proxy, p_len);
  PP_ASSERT_STR(found(t0, c, len), "none");
  // A null client; a lookup of a null or short address.
  reply_map::remember_at(t0, nullptr, 16, proxy, p_len);
  sockaddr_storage out;
  socklen_t out_len;
  ck_assert(!reply_map::lookup_at(t0, nullptr, 16, &out, &out_len));
  remember(t0, c, len, proxy, p_len);
  PP_ASSERT_STR(found(t0, c, len), "4:4001");
  ck_assert(!reply_map::lookup_at(t0, sa(c), len - 1, &out, &out_len));
}
END_TEST

START_TEST(a_new_proxy_replaces_the_old) {
  settings(nullptr, nullptr);
  socklen_t len, p1_len, p2_len;
  const sockaddr_storage c = sin4("192.0.2.7", 5353, &len);
  const sockaddr_storage p1 = sin4("127.0.0.1", 4001, &p1_len);
  const sockaddr_storage p2 = sin6("::1", 6002, &p2_len);
  remember(t0, c, len, p1, p1_len);
  remember(t0 + 10, c, len, p2, p2_len);
  PP_ASSERT_STR(found(t0 + 10, c, len), "6:6002");
  remember(t0 + 20, c, len, p1, p1_len);
  PP_ASSERT_STR(found(t0 + 20, c, len), "4:4001");
}
END_TEST

START_TEST(forgotten_after_the_lifetime) {
  settings(nullptr, "2");
  socklen_t len, p_len;
  const sockaddr_storage c = sin4("192.0.2.7", 5353, &len);
  const sockaddr_storage p = sin4("127.0.0.1", 4001, &p_len);
  remember(t0, c, len, p, p_len);
  PP_ASSERT_STR(found(t0 + 1999, c, len), "4:4001");
  PP_ASSERT_STR(found(t0 + 2000, c, len), "none");
  PP_ASSERT_STR(found(t0 + 100000, c, len), "none");
  // Found again after a new datagram.
  remember(t0 + 100000, c, len, p, p_len);
  PP_ASSERT_STR(found(t0 + 100000, c, len), "4:4001");
}
END_TEST

START_TEST(datagrams_refresh_replies_do_not) {
  settings(nullptr, "2");
  socklen_t len, p_len;
  const sockaddr_storage c = sin4("192.0.2.7", 5353, &len);
  const sockaddr_storage p = sin4("127.0.0.1", 4001, &p_len);
  remember(t0, c, len, p, p_len);
  remember(t0 + 1500, c, len, p, p_len);
  PP_ASSERT_STR(found(t0 + 3499, c, len), "4:4001");  // 1999 ms after the last
  PP_ASSERT_STR(found(t0 + 3500, c, len), "none");
  // Lookups, however many, do not extend it.
  const sockaddr_storage d = sin4("192.0.2.8", 5353, &len);
  remember(t0 + 5000, d, len, p, p_len);
  for (uint64_t t = t0 + 5000; t < t0 + 7000; t += 100)
    PP_ASSERT_STR(found(t, d, len), "4:4001");
  PP_ASSERT_STR(found(t0 + 7000, d, len), "none");
}
END_TEST

START_TEST(the_real_clock) {
  settings(nullptr, "1");
  socklen_t len, p_len;
  const sockaddr_storage c = sin4("192.0.2.7", 5353, &len);
  const sockaddr_storage p = sin4("127.0.0.1", 4001, &p_len);
  const uint64_t before = reply_map::now_ms();
  reply_map::remember(sa(c), len, p, p_len);
  sockaddr_storage out;
  socklen_t out_len;
  // Found at once (a one-second lifetime is not "until the next second").
  ck_assert(reply_map::lookup(sa(c), len, &out, &out_len));
  ck_assert_int_eq(std::memcmp(&out, &p, sizeof(sockaddr_in)), 0);
  const timespec pause{1, 300 * 1000 * 1000};
  nanosleep(&pause, nullptr);
  ck_assert_uint_ge(reply_map::now_ms() - before, 1300);
  ck_assert(!reply_map::lookup(sa(c), len, &out, &out_len));
}
END_TEST

START_TEST(bounded_in_entries) {
  settings("8", nullptr);  // capacity 8: one probe window, the whole map
  socklen_t p_len;
  const sockaddr_storage p = sin4("127.0.0.1", 4001, &p_len);
  for (unsigned n = 0; n < 8; ++n) {
    socklen_t len;
    remember(t0 + n, client(n, &len), len, p, p_len);
  }
  ck_assert_uint_eq(reply_map::capacity(), 8);
  for (unsigned n = 0; n < 8; ++n) ck_assert_msg(known(t0 + 8, n), "client %u", n);
  // A ninth replaces the least recent: client 0...
  socklen_t len;
  remember(t0 + 8, client(8, &len), len, p, p_len);
  ck_assert(!known(t0 + 8, 0));
  for (unsigned n = 1; n < 9; ++n) ck_assert_msg(known(t0 + 8, n), "client %u", n);
  // ...unless it was heard from since: then client 2 (1 is refreshed).
  remember(t0 + 9, client(1, &len), len, p, p_len);
  remember(t0 + 10, client(9, &len), len, p, p_len);
  ck_assert(known(t0 + 10, 1));
  ck_assert(!known(t0 + 10, 2));
  // A lookup does not make a client recent.
  ck_assert(known(t0 + 10, 3));
  remember(t0 + 11, client(10, &len), len, p, p_len);
  ck_assert(!known(t0 + 11, 3));
  ck_assert(known(t0 + 11, 10));
}
END_TEST

START_TEST(expired_slots_are_taken_first) {
  settings("8", "10");
  socklen_t p_len, len;
  const sockaddr_storage p = sin4("127.0.0.1", 4001, &p_len);
  // Clients 0-3 long ago, 4-7 recently; then 8-11: only 0-3 make room.
  for (unsigned n = 0; n < 4; ++n) remember(t0, client(n, &len), len, p, p_len);
  for (unsigned n = 4; n < 8; ++n) remember(t0 + 9000, client(n, &len), len, p, p_len);
  for (unsigned n = 8; n < 12; ++n) remember(t0 + 10000, client(n, &len), len, p, p_len);
  for (unsigned n = 4; n < 12; ++n) ck_assert_msg(known(t0 + 10000, n), "client %u", n);
  for (unsigned n = 0; n < 4; ++n) ck_assert_msg(!known(t0 + 10000, n), "client %u", n);
}
END_TEST

START_TEST(never_more_than_its_capacity) {
  settings("100", nullptr);  // rounded up to 128
  socklen_t p_len, len;
  const sockaddr_storage p = sin4("127.0.0.1", 4001, &p_len);
  for (unsigned n = 0; n < 1000; ++n) {
    remember(t0 + n, client(n, &len), len, p, p_len);
    // The client just heard from is always found.
    ck_assert_msg(known(t0 + n, n), "client %u", n);
  }
  ck_assert_uint_eq(reply_map::capacity(), 128);
  unsigned alive = 0;
  for (unsigned n = 0; n < 1000; ++n) alive += known(t0 + 1000, n) ? 1u : 0u;
  ck_assert_uint_le(alive, 128);
  ck_assert_uint_ge(alive, 64);  // most of the slots are used
}
END_TEST

namespace {

// With no entries, or no lifetime, nothing is remembered (and no memory
// is mapped).
void check_off(const char *entries, const char *seconds) {
  settings(entries, seconds);
  socklen_t len, p_len;
  const sockaddr_storage c = sin4("192.0.2.7", 5353, &len);
  const sockaddr_storage p = sin4("127.0.0.1", 4001, &p_len);
  remember(t0, c, len, p, p_len);
  PP_ASSERT_STR(found(t0, c, len), "none");
  ck_assert_uint_eq(reply_map::capacity(), 0);
}

}  // namespace

START_TEST(off_without_entries) { check_off("0", nullptr); }
END_TEST

START_TEST(off_without_lifetime) { check_off(nullptr, "0"); }
END_TEST

Suite *make_reply_map_suite(void) {
  Suite *s = suite_create("reply_map");
  TCase *tc = tcase_create("addresses");
  tcase_add_test(tc, remembers_ipv4_and_ipv6);
  tcase_add_test(tc, keys_are_exact);
  tcase_add_test(tc, what_is_never_remembered);
  tcase_add_test(tc, a_new_proxy_replaces_the_old);
  suite_add_tcase(s, tc);
  tc = tcase_create("time");
  tcase_add_test(tc, forgotten_after_the_lifetime);
  tcase_add_test(tc, datagrams_refresh_replies_do_not);
  tcase_add_test(tc, the_real_clock);
  suite_add_tcase(s, tc);
  tc = tcase_create("entries");
  tcase_add_test(tc, bounded_in_entries);
  tcase_add_test(tc, expired_slots_are_taken_first);
  tcase_add_test(tc, never_more_than_its_capacity);
  tcase_add_test(tc, off_without_entries);
  tcase_add_test(tc, off_without_lifetime);
  suite_add_tcase(s, tc);
  return s;
}
