// Text forms of addresses and ports: parsing (§2.1 fields) and formatting
// (RFC 5952 for IPv6).
#include <arpa/inet.h>
#include <check.h>

#include <cstring>
#include <string>

#include "core/inet_text.h"
#include "suites.h"

using namespace pp_test;
using proxyproto::format_decimal;
using proxyproto::format_ipv4;
using proxyproto::format_ipv6;
using proxyproto::parse_ipv4_text;
using proxyproto::parse_ipv6_text;
using proxyproto::parse_port_text;

namespace {

// Parsers get exactly the text's bytes, right before an inaccessible page.
bool v4(const std::string &text, uint8_t out[4]) {
  guarded g(text);
  return parse_ipv4_text(reinterpret_cast<const char *>(g.data()), g.size(), out);
}

bool v6(const std::string &text, uint8_t out[16]) {
  guarded g(text);
  return parse_ipv6_text(reinterpret_cast<const char *>(g.data()), g.size(), out);
}

bool port(const std::string &text, uint16_t *out) {
  guarded g(text);
  return parse_port_text(reinterpret_cast<const char *>(g.data()), g.size(), out);
}

std::string fmt6(const uint8_t addr[16]) {
  char buf[64];
  std::memset(buf, '#', sizeof buf);
  const size_t n = format_ipv6(addr, buf, sizeof buf);
  ck_assert_msg(n > 0 && n <= proxyproto::ipv6_text_max, "format_ipv6 gave %zu", n);
  ck_assert_msg(buf[n] == '#', "format_ipv6 wrote past its length");
  return std::string(buf, n);
}

void from_text6(const char *text, uint8_t out[16]) {
  ck_assert_int_eq(inet_pton(AF_INET6, text, out), 1);
}

}  // namespace

// ---- parse_ipv4_text ----------------------------------------------------------

START_TEST(ipv4_valid) {
  const char *texts[] = {"0.0.0.0", "255.255.255.255", "1.2.3.4", "10.0.0.1",
                         "192.168.100.200", "9.99.199.249", "100.10.1.0"};
  for (const char *t : texts) {
    uint8_t got[4] = {0xEE, 0xEE, 0xEE, 0xEE}, want[4];
    ck_assert_int_eq(inet_pton(AF_INET, t, want), 1);
    ck_assert_msg(v4(t, got), "\"%s\" rejected", t);
    ck_assert_msg(std::memcmp(got, want, 4) == 0, "\"%s\" parsed as %u.%u.%u.%u",
                  t, got[0], got[1], got[2], got[3]);
  }
}
END_TEST

const char *const bad_ipv4[] = {
    "",        "01.2.3.4",  "1.2.3.04",   "00.0.0.0",  "0.0.0.00",   "256.0.0.0",
    "1.2.3.256", "999.0.0.0", "1000.0.0.0", "1.2.3",    "1.2.3.4.5",  "1..3.4",
    ".1.2.3.4", "1.2.3.4.",  "1.2.3.-4",   "+1.2.3.4",  " 1.2.3.4",   "1.2.3.4 ",
    "1.2.3.4x", "0x1.2.3.4", "1.2.3.1000", "a.b.c.d",   "1,2,3,4",    "1.2.3.4\n",
    "4294967297.0.0.1", "1.2.3.4294967297", "...", "1", "::1", "1.2.3.4/32",
};

START_TEST(ipv4_invalid) {
  uint8_t out[4];
  ck_assert_msg(!v4(bad_ipv4[_i], out), "\"%s\" accepted", bad_ipv4[_i]);
}
END_TEST

// len is honoured: the byte after the text is a digit that would change it.
START_TEST(ipv4_length_is_honoured) {
  const char buf[] = "1.2.3.45";
  uint8_t out[4] = {0, 0, 0, 0};
  ck_assert(parse_ipv4_text(buf, 7, out));
  const uint8_t want[4] = {1, 2, 3, 4};
  ck_assert_mem_eq(out, want, 4);
  ck_assert(!parse_ipv4_text(buf, 6, out));  // "1.2.3."
  // "255.255.255.2555": only the first 15 characters.
  const char big[] = "255.255.255.2555";
  ck_assert(parse_ipv4_text(big, 15, out));
  const uint8_t ones[4] = {255, 255, 255, 255};
  ck_assert_mem_eq(out, ones, 4);
  // "0.0.0.01" with len 7 is "0.0.0.0".
  const char lead[] = "0.0.0.01";
  ck_assert(parse_ipv4_text(lead, 7, out));
}
END_TEST

// ---- parse_ipv6_text ----------------------------------------------------------


START_TEST(ipv6_valid) {
  const char *t = valid_ipv6_texts[_i];
  uint8_t got[16], want[16];
  std::memset(got, 0xEE, sizeof got);
  from_text6(t, want);
  ck_assert_msg(v6(t, got), "\"%s\" rejected", t);
  ck_assert_msg(std::memcmp(got, want, 16) == 0, "\"%s\" parsed as %s", t,
                fmt6(got).c_str());
}
END_TEST

const char *const bad_ipv6[] = {
    "",
    ":",
    ":::",
    "::::",
    "1::2::3",
    "::1::",
    "1::2::",
    "12345::1",
    "1:2:3:4:5:6:7:12345",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:",
    ":1:2:3:4:5:6:7",
    "1::2:",
    ":1::2",
    "1:::2",
    "::1:2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7:8::",
    "1:2:3:4::5:6:7:8",
    "[::1]",
    "fe80::1%eth0",
    "::1%1",
    "::g",
    "g::",
    "0x1::",
    " ::1",
    "::1 ",
    "::1\n",
    "1.2.3.4",
    "::ffff:1.2.3",
    "::ffff:01.2.3.4",
    "::ffff:256.2.3.4",
    "::ffff:1.2.3.4.5",
    "1:2:3:4:5:6:7:1.2.3.4",
    "1:2:3:4:5:6:7:8:1.2.3.4",
    "::1.2.3.4:5",
    "::1.2.3.4::",
    "1.2.3.4::",
    "::ffff:1.2.3.4:1",
    "-1::",
    "+1::",
    "::/64",
};

START_TEST(ipv6_invalid) {
  uint8_t out[16];
  ck_assert_msg(!v6(bad_ipv6[_i], out), "\"%s\" accepted", bad_ipv6[_i]);
}
END_TEST

START_TEST(ipv6_length_is_honoured) {
  uint8_t out[16], want[16];
  const char a[] = "::12";  // len 3: "::1"
  ck_assert(parse_ipv6_text(a, 3, out));
  from_text6("::1", want);
  ck_assert_mem_eq(out, want, 16);
  const char b[] = "::1.2.3.45";  // len 9: "::1.2.3.4"
  ck_assert(parse_ipv6_text(b, 9, out));
  from_text6("::1.2.3.4", want);
  ck_assert_mem_eq(out, want, 16);
  const char c[] = "1:2:3:4:5:6:7:89";  // len 15: "...:7:8"
  ck_assert(parse_ipv6_text(c, 15, out));
  from_text6("1:2:3:4:5:6:7:8", want);
  ck_assert_mem_eq(out, want, 16);
  const char d[] = "1::2::3";  // len 4: "1::2"
  ck_assert(parse_ipv6_text(d, 4, out));
  from_text6("1::2", want);
  ck_assert_mem_eq(out, want, 16);
  const char e[] = "1:2:3:4:5:6:7:8";  // len 14: "1:2:3:4:5:6:7:"
  ck_assert(!parse_ipv6_text(e, 14, out));
}
END_TEST

// ---- parse_port_text ------------------------------------------------------------

START_TEST(port_valid) {
  const char *texts[] = {"0", "1", "9", "10", "80", "443", "1000", "9999",
                         "10000", "65534", "65535"};
  const unsigned values[] = {0, 1, 9, 10, 80, 443, 1000, 9999, 10000, 65534, 65535};
  for (size_t i = 0; i < sizeof values / sizeof values[0]; ++i) {
    uint16_t got = 0xEEEE;
    ck_assert_msg(port(texts[i], &got), "\"%s\" rejected", texts[i]);
    ck_assert_uint_eq(got, values[i]);
  }
}
END_TEST

const char *const bad_ports[] = {
    "",      "00",    "01",   "080",   "065535", "65536", "65540", "70000", "99999",
    "100000", "4294967296", "4294967297", "18446744073709551616",
    "18446744073709551617", "+1", "-1", "-0", " 1", "1 ", "1a", "a1", "0x10", "1.0",
    "\xd9\xa1",  // ARABIC-INDIC DIGIT ONE
};

START_TEST(port_invalid) {
  uint16_t out;
  ck_assert_msg(!port(bad_ports[_i], &out), "\"%s\" accepted",
                printable(std::string(bad_ports[_i])).c_str());
}
END_TEST

START_TEST(port_length_is_honoured) {
  uint16_t out = 0;
  const char a[] = "808";
  ck_assert(parse_port_text(a, 2, &out));
  ck_assert_uint_eq(out, 80);
  const char b[] = "655359";  // len 5: 65535, len 6 would overflow
  ck_assert(parse_port_text(b, 5, &out));
  ck_assert_uint_eq(out, 65535);
  const char c[] = "00";
  ck_assert(parse_port_text(c, 1, &out));
  ck_assert_uint_eq(out, 0);
  ck_assert(!parse_port_text(c, 0, &out));
}
END_TEST

// ---- format_ipv4 ----------------------------------------------------------------

START_TEST(format_ipv4_values) {
  const uint8_t addrs[][4] = {{0, 0, 0, 0}, {255, 255, 255, 255}, {192, 168, 0, 1},
                              {10, 0, 100, 9}, {1, 20, 3, 40}};
  const char *texts[] = {"0.0.0.0", "255.255.255.255", "192.168.0.1",
                         "10.0.100.9", "1.20.3.40"};
  for (size_t i = 0; i < 5; ++i) {
    char buf[32];
    std::memset(buf, '#', sizeof buf);
    const size_t n = format_ipv4(addrs[i], buf, sizeof buf);
    ck_assert_uint_eq(n, std::strlen(texts[i]));
    ck_assert_msg(std::string(buf, n) == texts[i], "got \"%.*s\", expected %s",
                  static_cast<int>(n), buf, texts[i]);
    ck_assert_msg(buf[n] == '#', "wrote past the returned length");
  }
}
END_TEST

START_TEST(format_ipv4_capacity) {
  const uint8_t addr[4] = {255, 255, 255, 255};
  char buf[32];
  ck_assert_uint_eq(proxyproto::ipv4_text_max, 15);
  for (size_t cap = 0; cap < 15; ++cap) {
    std::memset(buf, '#', sizeof buf);
    ck_assert_msg(format_ipv4(addr, buf, cap) == 0, "capacity %zu accepted", cap);
    for (size_t i = cap; i < sizeof buf; ++i)
      ck_assert_msg(buf[i] == '#', "capacity %zu: byte %zu written", cap, i);
  }
  ck_assert_uint_eq(format_ipv4(addr, buf, 15), 15);
  const uint8_t small[4] = {1, 2, 3, 4};
  ck_assert_uint_eq(format_ipv4(small, buf, 7), 7);
  ck_assert_uint_eq(format_ipv4(small, buf, 6), 0);
}
END_TEST

// ---- format_ipv6 (RFC 5952) -------------------------------------------------------

struct format6_case {
  const char *input;     // any text form, parsed with inet_pton
  const char *expected;  // the canonical one
};

const format6_case format6_cases[] = {
    {"0:0:0:0:0:0:0:0", "::"},
    {"0:0:0:0:0:0:0:1", "::1"},
    {"1:0:0:0:0:0:0:0", "1::"},
    {"2001:db8:0:0:0:0:0:1", "2001:db8::1"},
    {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},  // §4.1
    {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},   // §4.2.3 first on ties
    {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},          // §4.2.3 longest
    {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"}, // §4.2.2 single zero
    {"2001:db8:1:1:1:1:1:0", "2001:db8:1:1:1:1:1:0"},
    {"0:1:1:1:1:1:1:1", "0:1:1:1:1:1:1:1"},
    {"1:0:2:0:3:0:4:0", "1:0:2:0:3:0:4:0"},
    {"2001:DB8:AAAA:BBBB:CCCC:DDDD:EEEE:FFFF",
     "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff"},            // §4.3
    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
    {"0a0b:00c0:0d00:e000::", "a0b:c0:d00:e000::"},
    {"1:2:3:4:5:6:0:0", "1:2:3:4:5:6::"},
    {"0:0:3:4:5:6:7:8", "::3:4:5:6:7:8"},
    {"1:0:0:4:0:0:0:8", "1:0:0:4::8"},
    {"1:0:0:0:5:0:0:8", "1::5:0:0:8"},
    {"fe80:0:0:0:200:5efe:c000:201", "fe80::200:5efe:c000:201"},
};

START_TEST(format_ipv6_canonical) {
  const format6_case &c = format6_cases[_i];
  uint8_t addr[16];
  from_text6(c.input, addr);
  const std::string got = fmt6(addr);
  ck_assert_msg(got == c.expected, "%s formatted as \"%s\", expected \"%s\"",
                c.input, got.c_str(), c.expected);
}
END_TEST

// RFC 5952 §5 recommends the dotted form for IPv4-mapped addresses; the
// hexadecimal form is also accepted here, if it parses back.
START_TEST(format_ipv6_mapped) {
  uint8_t addr[16];
  from_text6("::ffff:192.0.2.128", addr);
  const std::string got = fmt6(addr);
  ck_assert_msg(got == "::ffff:192.0.2.128" || got == "::ffff:c000:280",
                "mapped address formatted as \"%s\"", got.c_str());
  uint8_t back[16];
  ck_assert(v6(got, back));
  ck_assert_mem_eq(back, addr, 16);
}
END_TEST

START_TEST(format_ipv6_capacity) {
  uint8_t addr[16];
  from_text6("2001:1db8:aaaa:bbbb:cccc:dddd:eeee:ffff", addr);  // 39 characters
  char buf[64];
  for (size_t cap = 0; cap < 39; ++cap) {
    std::memset(buf, '#', sizeof buf);
    ck_assert_msg(format_ipv6(addr, buf, cap) == 0, "capacity %zu accepted", cap);
    for (size_t i = cap; i < sizeof buf; ++i)
      ck_assert_msg(buf[i] == '#', "capacity %zu: byte %zu written", cap, i);
  }
  ck_assert_uint_eq(format_ipv6(addr, buf, 39), 39);
  from_text6("::", addr);
  ck_assert_uint_eq(format_ipv6(addr, buf, 2), 2);
  ck_assert_uint_eq(format_ipv6(addr, buf, 1), 0);
  // The longest form fits in ipv6_text_max.
  from_text6("::ffff:255.255.255.255", addr);
  ck_assert_uint_gt(format_ipv6(addr, buf, proxyproto::ipv6_text_max), 0);
}
END_TEST

// Random addresses with runs of zero groups: the formatted text parses back
// to the same bytes, and matches glibc's inet_ntop (which follows RFC 5952
// except for its "::a.b.c.d" form, left out here).
START_TEST(format_ipv6_round_trip) {
  lcg rng{12345};
  for (int n = 0; n < 20000; ++n) {
    uint8_t addr[16];
    for (int g = 0; g < 8; ++g) {
      const uint32_t r = rng.next();
      uint16_t group = 0;
      switch (r % 4) {
        case 0: case 1: group = 0; break;
        case 2: group = static_cast<uint16_t>((r >> 8) & 0xFu); break;
        default: group = static_cast<uint16_t>(r >> 16); break;
      }
      addr[2 * g] = static_cast<uint8_t>(group >> 8);
      addr[2 * g + 1] = static_cast<uint8_t>(group & 0xFFu);
    }
    const std::string got = fmt6(addr);
    uint8_t back[16];
    ck_assert_msg(v6(got, back), "\"%s\" does not parse back", got.c_str());
    ck_assert_msg(std::memcmp(back, addr, 16) == 0, "\"%s\" parses back differently",
                  got.c_str());
    bool first_80_zero = true;
    for (int i = 0; i < 10; ++i) first_80_zero = first_80_zero && addr[i] == 0;
    if (first_80_zero) continue;  // ::a.b.c.d and ::ffff:a.b.c.d forms
    char libc[INET6_ADDRSTRLEN];
    ck_assert_ptr_nonnull(inet_ntop(AF_INET6, addr, libc, sizeof libc));
    ck_assert_msg(got == libc, "formatted \"%s\", inet_ntop \"%s\"", got.c_str(),
                  libc);
  }
}
END_TEST

// Random texts in many spellings parse like inet_pton parses them.
START_TEST(parse_ipv6_agrees_with_inet_pton) {
  lcg rng{777};
  for (int n = 0; n < 20000; ++n) {
    uint8_t addr[16];
    for (int i = 0; i < 16; ++i) {
      const uint32_t r = rng.next();
      addr[i] = (r & 1u) != 0 ? 0 : static_cast<uint8_t>(r >> 8);
    }
    char text[INET6_ADDRSTRLEN];
    ck_assert_ptr_nonnull(inet_ntop(AF_INET6, addr, text, sizeof text));
    std::string spelled = text;
    if (rng.next() % 2 == 0) {
      for (char &c : spelled)
        if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
    }
    uint8_t got[16];
    ck_assert_msg(v6(spelled, got), "\"%s\" rejected", spelled.c_str());
    ck_assert_msg(std::memcmp(got, addr, 16) == 0, "\"%s\" parsed differently",
                  spelled.c_str());
  }
}
END_TEST

// ---- format_decimal -----------------------------------------------------------------

START_TEST(format_decimal_values) {
  const uint32_t values[] = {0, 1, 9, 10, 99, 100, 65535, 65536, 1000000,
                             4294967295u};
  const char *texts[] = {"0", "1", "9", "10", "99", "100", "65535", "65536",
                         "1000000", "4294967295"};
  for (size_t i = 0; i < sizeof values / sizeof values[0]; ++i) {
    char buf[16];
    std::memset(buf, '#', sizeof buf);
    const size_t n = format_decimal(values[i], buf, sizeof buf);
    ck_assert_msg(std::string(buf, n) == texts[i], "%u formatted as \"%.*s\"",
                  values[i], static_cast<int>(n), buf);
    ck_assert(buf[n] == '#');
  }
}
END_TEST

START_TEST(format_decimal_capacity) {
  char buf[16];
  ck_assert_uint_eq(format_decimal(4294967295u, buf, 10), 10);
  ck_assert_uint_eq(format_decimal(4294967295u, buf, 9), 0);
  ck_assert_uint_eq(format_decimal(65535, buf, 5), 5);
  std::memset(buf, '#', sizeof buf);
  ck_assert_uint_eq(format_decimal(65535, buf, 4), 0);
  for (size_t i = 4; i < sizeof buf; ++i) ck_assert(buf[i] == '#');
  ck_assert_uint_eq(format_decimal(0, buf, 1), 1);
  ck_assert_uint_eq(format_decimal(0, buf, 0), 0);
}
END_TEST

Suite *make_inet_text_suite(void) {
  Suite *s = suite_create("inet_text");

  TCase *tc = tcase_create("parse_ipv4");
  tcase_add_test(tc, ipv4_valid);
  tcase_add_loop_test(tc, ipv4_invalid, 0,
                      static_cast<int>(sizeof bad_ipv4 / sizeof bad_ipv4[0]));
  tcase_add_test(tc, ipv4_length_is_honoured);
  suite_add_tcase(s, tc);

  tc = tcase_create("parse_ipv6");
  tcase_add_loop_test(tc, ipv6_valid, 0,
                      static_cast<int>(sizeof valid_ipv6_texts / sizeof valid_ipv6_texts[0]));
  tcase_add_loop_test(tc, ipv6_invalid, 0,
                      static_cast<int>(sizeof bad_ipv6 / sizeof bad_ipv6[0]));
  tcase_add_test(tc, ipv6_length_is_honoured);
  tcase_add_test(tc, parse_ipv6_agrees_with_inet_pton);
  suite_add_tcase(s, tc);

  tc = tcase_create("parse_port");
  tcase_add_test(tc, port_valid);
  tcase_add_loop_test(tc, port_invalid, 0,
                      static_cast<int>(sizeof bad_ports / sizeof bad_ports[0]));
  tcase_add_test(tc, port_length_is_honoured);
  suite_add_tcase(s, tc);

  tc = tcase_create("format_ipv4");
  tcase_add_test(tc, format_ipv4_values);
  tcase_add_test(tc, format_ipv4_capacity);
  suite_add_tcase(s, tc);

  tc = tcase_create("format_ipv6");
  tcase_add_loop_test(
      tc, format_ipv6_canonical, 0,
      static_cast<int>(sizeof format6_cases / sizeof format6_cases[0]));
  tcase_add_test(tc, format_ipv6_mapped);
  tcase_add_test(tc, format_ipv6_capacity);
  tcase_add_test(tc, format_ipv6_round_trip);
  suite_add_tcase(s, tc);

  tc = tcase_create("format_decimal");
  tcase_add_test(tc, format_decimal_values);
  tcase_add_test(tc, format_decimal_capacity);
  suite_add_tcase(s, tc);
  return s;
}
