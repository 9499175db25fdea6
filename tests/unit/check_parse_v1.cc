// The human-readable header, version 1 (haproxy:doc/proxy-protocol.txt §2.1).
#include <arpa/inet.h>
#include <check.h>

#include <cstring>
#include <initializer_list>
#include <string>

#include "core/proxy_header.h"
#include "core/sockaddr_convert.h"
#include "core/usual_header.h"
#include "suites.h"

using namespace pp_test;
using proxyproto::accept_v1;
using proxyproto::accept_v1_v2;
using proxyproto::address_family;
using proxyproto::command;
using proxyproto::defect;
using proxyproto::parse_status;
using proxyproto::transport;

namespace {

// A line with `src` and `dst` put in.
std::string line(const std::string &proto, const std::string &src,
                 const std::string &dst, const std::string &sport = "1",
                 const std::string &dport = "2") {
  return "PROXY " + proto + " " + src + " " + dst + " " + sport + " " + dport +
         "\r\n";
}

void expect_v1_fields(const parsed &p, address_family family,
                      const std::string &in) {
  ck_assert_msg(p.h.version == 1, "\"%s\": version %u", printable(in).c_str(),
                static_cast<unsigned>(p.h.version));
  ck_assert_msg(p.h.cmd == command::proxy, "\"%s\": command not proxy",
                printable(in).c_str());
  ck_assert_msg(p.h.family == family, "\"%s\": family %u, expected %u",
                printable(in).c_str(), static_cast<unsigned>(p.h.family),
                static_cast<unsigned>(family));
  ck_assert_msg(p.h.proto == transport::stream, "\"%s\": transport not stream",
                printable(in).c_str());
}

void expect_ipv4(const uint8_t *got, const char *text, const std::string &in) {
  uint8_t want[4];
  ck_assert_int_eq(inet_pton(AF_INET, text, want), 1);
  ck_assert_msg(std::memcmp(got, want, 4) == 0,
                "\"%s\": address is %u.%u.%u.%u, expected %s",
                printable(in).c_str(), got[0], got[1], got[2], got[3], text);
}

void expect_ipv6(const uint8_t *got, const char *text, const std::string &in) {
  uint8_t want[16];
  ck_assert_int_eq(inet_pton(AF_INET6, text, want), 1);
  char got_text[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, got, got_text, sizeof got_text);
  ck_assert_msg(std::memcmp(got, want, 16) == 0,
                "\"%s\": address is %s, expected %s", printable(in).c_str(),
                got_text, text);
}

// Every strict prefix of a complete line is need_more.
void expect_prefixes_need_more(const std::string &in) {
  for (size_t n = 0; n < in.size(); ++n) {
    const std::string prefix = in.substr(0, n);
    expect_status(parse_guarded(prefix, accept_v1), parse_status::need_more,
                  printable(prefix));
    expect_status(parse_guarded(prefix, accept_v1_v2), parse_status::need_more,
                  printable(prefix));
  }
}

struct invalid_case {
  const char *input;
  defect why;
  // Another defect that is an equally correct reading of the input (the
  // rule that fires first is an implementation choice); none for strict.
  defect alternative;
};

void check_invalid_case(const invalid_case &c) {
  const std::string in = c.input;
  const parsed p = parse_guarded(in, accept_v1_v2);
  ck_assert_msg(p.result.status == parse_status::invalid,
                "\"%s\": status %s, expected invalid (%s)",
                printable(in).c_str(), status_name(p.result.status),
                defect_id(c.why));
  if (c.alternative == defect::none) {
    ck_assert_msg(p.result.why == c.why, "\"%s\": defect %s, expected %s",
                  printable(in).c_str(), defect_id(p.result.why),
                  defect_id(c.why));
  } else {
    ck_assert_msg(p.result.why == c.why || p.result.why == c.alternative,
                  "\"%s\": defect %s, expected %s or %s", printable(in).c_str(),
                  defect_id(p.result.why), defect_id(c.why),
                  defect_id(c.alternative));
  }
  ck_assert_uint_eq(p.result.length, 0);
  // The same through the v1 entry point.
  const parsed direct = parse_guarded(in, accept_v1_v2, entry::v1);
  ck_assert_msg(direct.result.status == parse_status::invalid &&
                    direct.result.why == p.result.why,
                "\"%s\": parse_v1 gives %s/%s, parse_header %s/%s",
                printable(in).c_str(), status_name(direct.result.status),
                defect_id(direct.result.why), status_name(p.result.status),
                defect_id(p.result.why));
}

// "PROXY UNKNOWN " followed by filler and CRLF, `total` bytes in all.
std::string unknown_line_of(size_t total) {
  const std::string head = "PROXY UNKNOWN ";
  return head + std::string(total - head.size() - 2, 'x') + "\r\n";
}

constexpr defect none = defect::none;

}  // namespace

// ---- §2.1 format: TCP4 ----------------------------------------------------

START_TEST(tcp4_spec_example) {
  const std::string in = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n";
  const parsed p = parse_guarded(in);
  expect_complete(p, in.size(), in);
  expect_v1_fields(p, address_family::inet, in);
  expect_ipv4(p.h.source.address, "192.168.0.1", in);
  expect_ipv4(p.h.destination.address, "192.168.0.11", in);
  ck_assert_uint_eq(p.h.source.port, 56324);
  ck_assert_uint_eq(p.h.destination.port, 443);
}
END_TEST

START_TEST(tcp4_extreme_values) {
  const std::string in = line("TCP4", "0.0.0.0", "255.255.255.255", "0", "65535");
  const parsed p = parse_guarded(in);
  expect_complete(p, in.size(), in);
  expect_v1_fields(p, address_family::inet, in);
  expect_ipv4(p.h.source.address, "0.0.0.0", in);
  expect_ipv4(p.h.destination.address, "255.255.255.255", in);
  ck_assert_uint_eq(p.h.source.port, 0);
  ck_assert_uint_eq(p.h.destination.port, 65535);
}
END_TEST

START_TEST(port_zero_is_valid) {
  const std::string in = line("TCP4", "10.0.0.1", "10.0.0.2", "0", "0");
  const parsed p = parse_guarded(in);
  expect_complete(p, in.size(), in);
  ck_assert_uint_eq(p.h.source.port, 0);
  ck_assert_uint_eq(p.h.destination.port, 0);
}
END_TEST

START_TEST(ports_are_independent) {
  const std::string in = line("TCP4", "10.0.0.1", "10.0.0.2", "65535", "1");
  const parsed p = parse_guarded(in);
  expect_complete(p, in.size(), in);
  ck_assert_uint_eq(p.h.source.port, 65535);
  ck_assert_uint_eq(p.h.destination.port, 1);
}
END_TEST

// ---- §2.1 format: TCP6 ----------------------------------------------------

START_TEST(tcp6_basic) {
  const std::string in = line("TCP6", "2001:db8::1", "::1", "1", "65535");
  const parsed p = parse_guarded(in);
  expect_complete(p, in.size(), in);
  expect_v1_fields(p, address_family::inet6, in);
  expect_ipv6(p.h.source.address, "2001:db8::1", in);
  expect_ipv6(p.h.destination.address, "::1", in);
  ck_assert_uint_eq(p.h.source.port, 1);
  ck_assert_uint_eq(p.h.destination.port, 65535);
}
END_TEST


START_TEST(tcp6_address_forms_as_source) {
  const char *form = valid_ipv6_texts[_i];
  const std::string in = line("TCP6", form, "::1", "80", "81");
  const parsed p = parse_guarded(in);
  expect_complete(p, in.size(), in);
  expect_v1_fields(p, address_family::inet6, in);
  expect_ipv6(p.h.source.address, form, in);
  expect_ipv6(p.h.destination.address, "::1", in);
  ck_assert_uint_eq(p.h.source.port, 80);
  ck_assert_uint_eq(p.h.destination.port, 81);
}
END_TEST

START_TEST(tcp6_address_forms_as_destination) {
  const char *form = valid_ipv6_texts[_i];
  const std::string in = line("TCP6", "2001:db8::5", form, "80", "81");
  const parsed p = parse_guarded(in);
  expect_complete(p, in.size(), in);
  expect_ipv6(p.h.source.address, "2001:db8::5", in);
  expect_ipv6(p.h.destination.address, form, in);
}
END_TEST

START_TEST(tcp6_longest_addresses) {
  const std::string all = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  const std::string in = line("TCP6", all, all, "65535", "65535");
  ck_assert_uint_eq(in.size(), 104);
  const parsed p = parse_guarded(in);
  expect_complete(p, 104, in);
  expect_ipv6(p.h.source.address, all.c_str(), in);
  expect_ipv6(p.h.destination.address, all.c_str(), in);
}
END_TEST

// ---- §2.1 format: UNKNOWN -------------------------------------------------

START_TEST(unknown_bare) {
  const std::string in = "PROXY UNKNOWN\r\n";
  const parsed p = parse_guarded(in);
  expect_complete(p, 15, in);
  expect_v1_fields(p, address_family::unspec, in);
}
END_TEST

START_TEST(unknown_with_space_only) {
  const std::string in = "PROXY UNKNOWN \r\n";
  const parsed p = parse_guarded(in);
  expect_complete(p, 16, in);
  ck_assert(p.h.family == address_family::unspec);
}
END_TEST

START_TEST(unknown_with_addresses) {
  const std::string in = "PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n";
  const parsed p = parse_guarded(in);
  expect_complete(p, in.size(), in);
  expect_v1_fields(p, address_family::unspec, in);
}
END_TEST

// After "UNKNOWN " anything up to CRLF is ignored, even bytes that would be
// invalid in a TCP4 line.
START_TEST(unknown_with_any_bytes) {
  static const char raw[] =
      "PROXY UNKNOWN  \t\x01\x7f\xff\x00 99999 :::: 01.2.3.4\r\n";
  const std::string in(raw, sizeof raw - 1);
  const parsed p = parse_guarded(in);
  expect_complete(p, in.size(), in);
  ck_assert(p.h.family == address_family::unspec);
}
END_TEST

START_TEST(unknown_spec_worst_case) {
  // §2.1: the worst case, 107 bytes.
  const std::string all = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  const std::string in =
      "PROXY UNKNOWN " + all + " " + all + " 65535 65535\r\n";
  ck_assert_uint_eq(in.size(), 107);
  const parsed p = parse_guarded(in);
  expect_complete(p, 107, in);
  ck_assert(p.h.family == address_family::unspec);
}
END_TEST

// ---- §2.1: the 107-byte limit ---------------------------------------------

START_TEST(line_of_107_bytes_is_complete) {
  const std::string in = unknown_line_of(107);
  expect_complete(parse_guarded(in), 107, in);
}
END_TEST

START_TEST(line_of_107_bytes_followed_by_data) {
  const std::string in = unknown_line_of(107) + std::string(93, 'D');
  expect_complete(parse_guarded(in), 107, in);
}
END_TEST

START_TEST(tcp6_line_of_107_bytes_is_complete) {
  const std::string src = "0000:0000:0000:0000:0000:ffff:255.255.255.255";
  const std::string dst = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:f";
  const std::string in = line("TCP6", src, dst, "65535", "65535");
  ck_assert_uint_eq(in.size(), 107);
  const parsed p = parse_guarded(in);
  expect_complete(p, 107, in);
  expect_ipv6(p.h.source.address, src.c_str(), in);
  expect_ipv6(p.h.destination.address, dst.c_str(), in);
}
END_TEST

START_TEST(line_of_108_bytes_is_invalid) {
  const std::string in = unknown_line_of(108);
  expect_invalid(parse_guarded(in), defect::v1_no_crlf_in_107_bytes, in);
}
END_TEST

START_TEST(line_of_108_bytes_followed_by_data_is_invalid) {
  const std::string in = unknown_line_of(108) + std::string(92, 'D');
  expect_invalid(parse_guarded(in), defect::v1_no_crlf_in_107_bytes, in);
}
END_TEST

// Otherwise valid fields do not make a 108-byte line acceptable.
START_TEST(tcp6_line_of_108_bytes_is_invalid) {
  const std::string src = "0000:0000:0000:0000:0000:ffff:255.255.255.255";
  const std::string dst = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff";
  const std::string in = line("TCP6", src, dst, "65535", "65535");
  ck_assert_uint_eq(in.size(), 108);
  expect_invalid(parse_guarded(in), defect::v1_no_crlf_in_107_bytes, in);
}
END_TEST

// The 108-byte line's first 107 bytes end in its CR: there is no CRLF in
// the first 107 bytes, and none can come.
START_TEST(cr_as_byte_107_is_invalid) {
  const std::string in = unknown_line_of(108).substr(0, 107);
  ck_assert(in[106] == '\r');
  expect_invalid(parse_guarded(in), defect::v1_no_crlf_in_107_bytes, in);
}
END_TEST

// ... whereas a CR as byte 106 may still be the end of a 107-byte line.
START_TEST(cr_as_byte_106_needs_more) {
  const std::string in = unknown_line_of(107).substr(0, 106);
  ck_assert(in[105] == '\r');
  expect_status(parse_guarded(in), parse_status::need_more, in);
}
END_TEST

START_TEST(no_line_end_in_107_bytes_is_invalid) {
  const std::string in = "PROXY UNKNOWN " + std::string(93, 'x');
  ck_assert_uint_eq(in.size(), 107);
  expect_invalid(parse_guarded(in), defect::v1_no_crlf_in_107_bytes, in);
  const std::string longer = "PROXY UNKNOWN " + std::string(986, 'x');
  expect_invalid(parse_guarded(longer), defect::v1_no_crlf_in_107_bytes, longer);
  const std::string tcp4 = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2" + std::string(200, '1');
  expect_invalid(parse_guarded(tcp4), defect::v1_no_crlf_in_107_bytes, tcp4);
}
END_TEST

START_TEST(no_line_end_in_106_bytes_needs_more) {
  const std::string in = "PROXY UNKNOWN " + std::string(92, 'x');
  ck_assert_uint_eq(in.size(), 106);
  expect_status(parse_guarded(in), parse_status::need_more, in);
}
END_TEST

// ---- §2.1: CRLF, and lone CR or LF ----------------------------------------

START_TEST(every_prefix_needs_more) {
  expect_prefixes_need_more("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
  expect_prefixes_need_more("PROXY TCP6 2001:db8::1 ::ffff:1.2.3.4 0 65535\r\n");
  expect_prefixes_need_more("PROXY UNKNOWN\r\n");
  expect_prefixes_need_more("PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n");
  expect_prefixes_need_more(unknown_line_of(107));
}
END_TEST

START_TEST(cr_as_last_byte_needs_more) {
  const char *inputs[] = {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r", "PROXY UNKNOWN\r",
                          "PROXY UNKNOWN junk\r"};
  for (const char *in : inputs)
    expect_status(parse_guarded(std::string(in)), parse_status::need_more, in);
}
END_TEST

const invalid_case lone_cases[] = {
    {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", defect::v1_lone_cr_or_lf, none},
    {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", defect::v1_lone_cr_or_lf, none},
    {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n", defect::v1_lone_cr_or_lf, none},
    {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n\r\n", defect::v1_lone_cr_or_lf, none},
    {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r \r\n", defect::v1_lone_cr_or_lf, none},
    {"PROXY UNKNOWN\n", defect::v1_lone_cr_or_lf, none},
    {"PROXY UNKNOWN\rX\r\n", defect::v1_lone_cr_or_lf, none},
    {"PROXY UNKNOWN a\nb\r\n", defect::v1_lone_cr_or_lf, none},
    {"PROXY UNKNOWN a\rb\r\n", defect::v1_lone_cr_or_lf, none},
    {"PROXY UNKNOWN \n", defect::v1_lone_cr_or_lf, none},
    // A line end in the middle of a field: the field is broken too.
    {"PROXY TCP4 1.2.3.4\n5.6.7.8 1 2\r\n", defect::v1_lone_cr_or_lf,
     defect::v1_bad_source_address},
    {"PROXY TCP4 1.2.3.4\r5.6.7.8 1 2\r\n", defect::v1_lone_cr_or_lf,
     defect::v1_bad_source_address},
    {"PROXY TCP4 1.2.3.4 5.6.7.8 1\n2\r\n", defect::v1_lone_cr_or_lf,
     defect::v1_bad_source_port},
};

START_TEST(lone_cr_or_lf) { check_invalid_case(lone_cases[_i]); }
END_TEST

// ---- §2.1: single spaces ----------------------------------------------------

const invalid_case space_cases[] = {
    {"PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", defect::v1_bad_space, none},
    {"PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", defect::v1_bad_space, none},
    {"PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", defect::v1_bad_space, none},
    {"PROXY TCP4 1.2.3.4 5.6.7.8  1 2\r\n", defect::v1_bad_space,
     defect::v1_bad_source_port},
    {"PROXY TCP4 1.2.3.4 5.6.7.8 1  2\r\n", defect::v1_bad_space, none},
    {"PROXY  UNKNOWN\r\n", defect::v1_bad_space, none},
    {"PROXY TCP6  ::1 ::1 1 2\r\n", defect::v1_bad_space, none},
    {"PROXY\tTCP4 1.2.3.4 5.6.7.8 1 2\r\n", defect::v1_bad_space, none},
    {"PROXY\tUNKNOWN\r\n", defect::v1_bad_space, none},
    {"PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n", defect::v1_bad_space, none},
    {"PROXYUNKNOWN\r\n", defect::v1_bad_space, none},
    // A tab after a field: the field now has a foreign character too.
    {"PROXY TCP4\t1.2.3.4 5.6.7.8 1 2\r\n", defect::v1_bad_space,
     defect::v1_bad_protocol},
    {"PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n", defect::v1_bad_space,
     defect::v1_bad_source_address},
    {"PROXY TCP4 1.2.3.4 5.6.7.8\t1 2\r\n", defect::v1_bad_space,
     defect::v1_bad_destination_address},
    {"PROXY TCP4 1.2.3.4 5.6.7.8 1\t2\r\n", defect::v1_bad_space,
     defect::v1_bad_source_port},
    // Fields missing: a space is missing where the next one should start.
    {"PROXY\r\n", defect::v1_bad_space, defect::v1_bad_protocol},
    {"PROXY TCP4\r\n", defect::v1_bad_space, defect::v1_bad_source_address},
    {"PROXY TCP4 1.2.3.4\r\n", defect::v1_bad_space,
     defect::v1_bad_destination_address},
    {"PROXY TCP4 1.2.3.4 5.6.7.8\r\n", defect::v1_bad_space,
     defect::v1_bad_source_port},
    {"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", defect::v1_bad_space,
     defect::v1_bad_destination_port},
};

START_TEST(bad_space) { check_invalid_case(space_cases[_i]); }
END_TEST

// ---- §2.1: the protocol field ----------------------------------------------

const invalid_case protocol_cases[] = {
    {"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", defect::v1_bad_protocol, none},
    {"PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", defect::v1_bad_protocol, none},
    {"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", defect::v1_bad_protocol, none},
    {"PROXY TCP 1.2.3.4 5.6.7.8 1 2\r\n", defect::v1_bad_protocol, none},
    {"PROXY TCP44 1.2.3.4 5.6.7.8 1 2\r\n", defect::v1_bad_protocol, none},
    {"PROXY TCP6X ::1 ::1 1 2\r\n", defect::v1_bad_protocol, none},
    {"PROXY tcp6 ::1 ::1 1 2\r\n", defect::v1_bad_protocol, none},
    {"PROXY UNKNOWNX\r\n", defect::v1_bad_protocol, none},
    {"PROXY UNKNOWNX 1.2.3.4 5.6.7.8 1 2\r\n", defect::v1_bad_protocol, none},
    {"PROXY UNKNOW\r\n", defect::v1_bad_protocol, none},
    {"PROXY unknown\r\n", defect::v1_bad_protocol, none},
};

START_TEST(bad_protocol) { check_invalid_case(protocol_cases[_i]); }
END_TEST

// A NUL right after the protocol: not a space, and not part of TCP4.
START_TEST(nul_after_protocol) {
  static const char raw[] = "PROXY TCP4\x00 1.2.3.4 5.6.7.8 1 2\r\n";
  const std::string in(raw, sizeof raw - 1);
  const parsed p = parse_guarded(in);
  ck_assert_msg(p.result.status == parse_status::invalid, "status %s",
                status_name(p.result.status));
  ck_assert_msg(p.result.why == defect::v1_bad_protocol ||
                    p.result.why == defect::v1_bad_space,
                "defect %s", defect_id(p.result.why));
}
END_TEST

// ---- §2.1: addresses --------------------------------------------------------

// Bad as the source of a TCP4 line; the destination is the same with dst.
const char *const bad_tcp4_addresses[] = {
    "01.2.3.4", "1.2.3.04", "00.0.0.0", "256.1.1.1", "1.2.3.256", "1000.1.1.1",
    "1.2.3", "1.2.3.4.5", "1..2.3", ".1.2.3", "1.2.3.", "a.b.c.d", "1.2.3.-4",
    "+1.2.3.4", "0x1.2.3.4", "1.2.3.4a", "::1", "::ffff:1.2.3.4", "1",
    "4294967297.0.0.0", "1.2.3.4%eth0",
};

const char *const bad_tcp6_addresses[] = {
    "1.2.3.4",
    "fe80::1%eth0",
    "::1%1",
    "1::2::3",
    "::1::",
    "12345::1",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    ":::",
    "1:2:3:4:5:6:7:",
    ":1:2:3:4:5:6:7",
    "1::2:",
    ":1::2",
    "[::1]",
    "::g",
    "::ffff:1.2.3",
    "::ffff:01.2.3.4",
    "::ffff:256.2.3.4",
    "1:2:3:4:5:6:7:1.2.3.4",
    "::1:2:3:4:5:6:7:8",
    "1:2:3:4:5:6:7:8::",
    "::1.2.3.4:5",
    ":",
    "0x1::",
};

START_TEST(bad_source_address_tcp4) {
  const std::string in = line("TCP4", bad_tcp4_addresses[_i], "5.6.7.8");
  expect_invalid(parse_guarded(in), defect::v1_bad_source_address, in);
}
END_TEST

START_TEST(bad_destination_address_tcp4) {
  const std::string in = line("TCP4", "5.6.7.8", bad_tcp4_addresses[_i]);
  expect_invalid(parse_guarded(in), defect::v1_bad_destination_address, in);
}
END_TEST

START_TEST(bad_source_address_tcp6) {
  const std::string in = line("TCP6", bad_tcp6_addresses[_i], "::1");
  expect_invalid(parse_guarded(in), defect::v1_bad_source_address, in);
}
END_TEST

START_TEST(bad_destination_address_tcp6) {
  const std::string in = line("TCP6", "::1", bad_tcp6_addresses[_i]);
  expect_invalid(parse_guarded(in), defect::v1_bad_destination_address, in);
}
END_TEST

// ---- §2.1: ports ------------------------------------------------------------

const char *const bad_ports[] = {
    "080", "00", "01", "65536", "99999", "100000", "4294967296", "4294967297",
    "18446744073709551617", "+1", "-1", "0x10", "1a", "a",
};

START_TEST(bad_source_port) {
  const std::string in = line("TCP4", "1.2.3.4", "5.6.7.8", bad_ports[_i], "2");
  expect_invalid(parse_guarded(in), defect::v1_bad_source_port, in);
  const std::string in6 = line("TCP6", "::1", "::2", bad_ports[_i], "2");
  expect_invalid(parse_guarded(in6), defect::v1_bad_source_port, in6);
}
END_TEST

START_TEST(bad_destination_port) {
  const std::string in = line("TCP4", "1.2.3.4", "5.6.7.8", "1", bad_ports[_i]);
  expect_invalid(parse_guarded(in), defect::v1_bad_destination_port, in);
  const std::string in6 = line("TCP6", "::1", "::2", "1", bad_ports[_i]);
  expect_invalid(parse_guarded(in6), defect::v1_bad_destination_port, in6);
}
END_TEST

START_TEST(empty_destination_port) {
  const std::string in = "PROXY TCP4 1.2.3.4 5.6.7.8 1 \r\n";
  const parsed p = parse_guarded(in);
  ck_assert_msg(p.result.status == parse_status::invalid, "status %s",
                status_name(p.result.status));
  ck_assert_msg(p.result.why == defect::v1_bad_destination_port ||
                    p.result.why == defect::v1_bad_space,
                "defect %s", defect_id(p.result.why));
}
END_TEST

START_TEST(good_ports) {
  const char *ports[] = {"0", "1", "9", "10", "80", "443", "1024", "9999", "10000",
                         "65534", "65535"};
  const unsigned values[] = {0, 1, 9, 10, 80, 443, 1024, 9999, 10000, 65534, 65535};
  for (size_t i = 0; i < sizeof values / sizeof values[0]; ++i) {
    const std::string in = line("TCP4", "1.2.3.4", "5.6.7.8", ports[i], ports[i]);
    const parsed p = parse_guarded(in);
    expect_complete(p, in.size(), in);
    ck_assert_uint_eq(p.h.source.port, values[i]);
    ck_assert_uint_eq(p.h.destination.port, values[i]);
  }
}
END_TEST

// ---- §2.1: nothing after the destination port -----------------------------

START_TEST(trailing_field) {
  const char *inputs[] = {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
                          "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 x\r\n",
                          "PROXY TCP6 ::1 ::2 1 2 extra\r\n"};
  for (const char *c : inputs) {
    const std::string in = c;
    expect_invalid(parse_guarded(in), defect::v1_trailing_bytes, in);
  }
}
END_TEST

START_TEST(trailing_space) {
  const std::string in = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n";
  const parsed p = parse_guarded(in);
  ck_assert_msg(p.result.status == parse_status::invalid, "status %s",
                status_name(p.result.status));
  ck_assert_msg(p.result.why == defect::v1_trailing_bytes ||
                    p.result.why == defect::v1_bad_space,
                "defect %s", defect_id(p.result.why));
}
END_TEST

// ---- The header ends at its LF ---------------------------------------------

START_TEST(application_data_is_not_consumed) {
  const std::string header = "PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n";
  const char *tails[] = {"GET / HTTP/1.0\r\n\r\n", "\r\n", "\n",
                         "PROXY TCP4 9.9.9.9 9.9.9.9 9 9\r\n", "x"};
  for (const char *tail : tails) {
    const std::string in = header + tail;
    const parsed p = parse_guarded(in);
    expect_complete(p, header.size(), in);
    expect_ipv4(p.h.source.address, "1.2.3.4", in);
    ck_assert_uint_eq(p.h.source.port, 1111);
    ck_assert_uint_eq(p.h.destination.port, 2222);
  }
  // Data with a NUL and binary bytes after an UNKNOWN line.
  const std::string unknown = std::string("PROXY UNKNOWN\r\n") +
                              std::string("\x00\x16\x03\x01", 4);
  expect_complete(parse_guarded(unknown), 15, unknown);
}
END_TEST

namespace {

// The accept path's reading of a usual line's source straight into a
// sockaddr (usual_v1_stream_source): when it answers, it must be what
// endpoint_to_sockaddr makes of the careful reading's source, on either
// kind of listener; and it must answer for every complete TCP4 or TCP6
// line (the quick reading takes them all).
void expect_usual_source(const uint8_t *data, size_t n, const proxyproto::parse_result &careful_result,
                         const proxyproto::header &careful, const std::string &shown) {
  const bool tcp = careful_result.status == parse_status::complete &&
                   (careful.family == address_family::inet ||
                    careful.family == address_family::inet6);
  for (int listener_family : {AF_INET, AF_INET6}) {
    sockaddr_storage got, want;
    socklen_t got_len = 0;
    const size_t length =
        proxyproto::usual_v1_stream_source(data, n, listener_family, &got, &got_len);
    ck_assert_msg(length == (tcp ? careful_result.length : 0),
                  "\"%s\", family %d: length %zu", shown.c_str(), listener_family, length);
    if (!tcp) continue;
    const socklen_t want_len =
        proxyproto::endpoint_to_sockaddr(careful.family, careful.source, listener_family, &want);
    ck_assert_uint_eq(got_len, want_len);
    ck_assert_msg(std::memcmp(&got, &want, want_len) == 0, "\"%s\", family %d: source differs",
                  shown.c_str(), listener_family);
  }
}

}  // namespace

// parse_v1's quick reading has no bound check in its number loops: a
// buffer's last byte bounds them when it is not a digit, a dot or a space,
// and the line's first CR does otherwise. Both ways must answer as the
// careful reading does, fields included, for every prefix of a line with
// every kind of last byte after it, from a buffer that ends at an unmapped
// page.
START_TEST(quick_reading_answers_as_careful) {
  const std::string lines[] = {
      line("TCP4", "192.168.0.1", "10.0.0.255", "56324", "443"),
      line("TCP4", "255.255.255.255", "0.0.0.0", "65535", "0"),
      line("TCP4", "1.2.3.4", "5.6.7.8", "1", "22"),
      line("TCP6", "2001:db8::1", "::ffff:10.1.2.3", "4000", "80"),
      line("TCP4", "01.2.3.4", "5.6.7.8"),       // a leading zero
      line("TCP4", "1.2.3.04", "5.6.7.8"),       // one in the last number
      line("TCP4", "1.2.3.4", "5.6.7.1234"),     // a fourth digit
      line("TCP4", "1.2.256.4", "5.6.7.8"),      // a number too large
      line("TCP4", "0.0.0.0", "00.1.2.3"),       // "0", then "00"
      line("TCP4", "1.2.3.4", "5.6.7.8", "65536"),  // a port too large
      line("TCP4", "1.2.3.4", "5.6.7.8", "05"),     // a port's leading zero
      line("TCP4", "1.2.3.4", "5.6.7.8", "1", "012"),
      line("TCP4", "1.2.3.4", "5.6.7.8", "123456"),  // a sixth digit
      line("TCP4", "1.2.3.4", "5.6.7.8", "0", "0"),
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r",           // no LF
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",        // a trailing space
      "PROXY UNKNOWN\r\n",
      "PROXY UNKNOWN 1.2.3.4\r\n",
  };
  const std::string after[] = {"",  "PING\r\n", "7", "1.", " ", "\r",
                               "\n", "a:",       "9 9", "\x00"};
  for (const std::string &l : lines) {
    for (const std::string &a : after) {
      const std::string in = l + a;
      for (size_t n = 0; n <= in.size(); ++n) {
        pp_test::guarded g(in.data(), n);
        proxyproto::header quick, careful;
        std::memset(&quick, 0x5A, sizeof quick);
        std::memset(&careful, 0xA5, sizeof careful);
        const proxyproto::parse_result a1 = proxyproto::parse_v1(g.data(), n, &quick);
        const proxyproto::parse_result b1 =
            proxyproto::parse_v1_careful(g.data(), n, &careful);
        const std::string shown = printable(in.substr(0, n));
        ck_assert_msg(a1.status == b1.status && a1.why == b1.why && a1.length == b1.length,
                      "\"%s\": %s/%s/%zu, careful %s/%s/%zu", shown.c_str(),
                      status_name(a1.status), defect_id(a1.why), a1.length,
                      status_name(b1.status), defect_id(b1.why), b1.length);
        expect_usual_source(g.data(), n, b1, careful, shown);
        if (a1.status != parse_status::complete) continue;
        ck_assert_msg(quick.family == careful.family && quick.length == careful.length &&
                          quick.cmd == careful.cmd && quick.proto == careful.proto,
                      "\"%s\": fields differ", shown.c_str());
        if (quick.family == address_family::unspec) continue;
        ck_assert_msg(std::memcmp(&quick.source, &careful.source, sizeof quick.source) == 0 &&
                          std::memcmp(&quick.destination, &careful.destination,
                                      sizeof quick.destination) == 0,
                      "\"%s\": endpoints differ", shown.c_str());
      }
    }
  }
}
END_TEST

Suite *make_parse_v1_suite(void) {
  Suite *s = suite_create("parse_v1");

  TCase *tc = tcase_create("tcp4");
  tcase_add_test(tc, quick_reading_answers_as_careful);
  tcase_add_test(tc, tcp4_spec_example);
  tcase_add_test(tc, tcp4_extreme_values);
  tcase_add_test(tc, port_zero_is_valid);
  tcase_add_test(tc, ports_are_independent);
  suite_add_tcase(s, tc);

  const int n_forms = static_cast<int>(sizeof valid_ipv6_texts / sizeof valid_ipv6_texts[0]);
  tc = tcase_create("tcp6");
  tcase_add_test(tc, tcp6_basic);
  tcase_add_loop_test(tc, tcp6_address_forms_as_source, 0, n_forms);
  tcase_add_loop_test(tc, tcp6_address_forms_as_destination, 0, n_forms);
  tcase_add_test(tc, tcp6_longest_addresses);
  suite_add_tcase(s, tc);

  tc = tcase_create("unknown");
  tcase_add_test(tc, unknown_bare);
  tcase_add_test(tc, unknown_with_space_only);
  tcase_add_test(tc, unknown_with_addresses);
  tcase_add_test(tc, unknown_with_any_bytes);
  tcase_add_test(tc, unknown_spec_worst_case);
  suite_add_tcase(s, tc);

  tc = tcase_create("limit_107");
  tcase_add_test(tc, line_of_107_bytes_is_complete);
  tcase_add_test(tc, line_of_107_bytes_followed_by_data);
  tcase_add_test(tc, tcp6_line_of_107_bytes_is_complete);
  tcase_add_test(tc, line_of_108_bytes_is_invalid);
  tcase_add_test(tc, line_of_108_bytes_followed_by_data_is_invalid);
  tcase_add_test(tc, tcp6_line_of_108_bytes_is_invalid);
  tcase_add_test(tc, cr_as_byte_107_is_invalid);
  tcase_add_test(tc, cr_as_byte_106_needs_more);
  tcase_add_test(tc, no_line_end_in_107_bytes_is_invalid);
  tcase_add_test(tc, no_line_end_in_106_bytes_needs_more);
  suite_add_tcase(s, tc);

  tc = tcase_create("crlf");
  tcase_add_test(tc, every_prefix_needs_more);
  tcase_add_test(tc, cr_as_last_byte_needs_more);
  tcase_add_loop_test(tc, lone_cr_or_lf, 0,
                      static_cast<int>(sizeof lone_cases / sizeof lone_cases[0]));
  suite_add_tcase(s, tc);

  tc = tcase_create("spaces");
  tcase_add_loop_test(tc, bad_space, 0,
                      static_cast<int>(sizeof space_cases / sizeof space_cases[0]));
  suite_add_tcase(s, tc);

  tc = tcase_create("protocol");
  tcase_add_loop_test(
      tc, bad_protocol, 0,
      static_cast<int>(sizeof protocol_cases / sizeof protocol_cases[0]));
  tcase_add_test(tc, nul_after_protocol);
  suite_add_tcase(s, tc);

  const int n4 = static_cast<int>(sizeof bad_tcp4_addresses /
                                  sizeof bad_tcp4_addresses[0]);
  const int n6 = static_cast<int>(sizeof bad_tcp6_addresses /
                                  sizeof bad_tcp6_addresses[0]);
  tc = tcase_create("addresses");
  tcase_add_loop_test(tc, bad_source_address_tcp4, 0, n4);
  tcase_add_loop_test(tc, bad_destination_address_tcp4, 0, n4);
  tcase_add_loop_test(tc, bad_source_address_tcp6, 0, n6);
  tcase_add_loop_test(tc, bad_destination_address_tcp6, 0, n6);
  suite_add_tcase(s, tc);

  const int np = static_cast<int>(sizeof bad_ports / sizeof bad_ports[0]);
  tc = tcase_create("ports");
  tcase_add_loop_test(tc, bad_source_port, 0, np);
  tcase_add_loop_test(tc, bad_destination_port, 0, np);
  tcase_add_test(tc, empty_destination_port);
  tcase_add_test(tc, good_ports);
  suite_add_tcase(s, tc);

  tc = tcase_create("trailing");
  tcase_add_test(tc, trailing_field);
  tcase_add_test(tc, trailing_space);
  tcase_add_test(tc, application_data_is_not_consumed);
  suite_add_tcase(s, tc);
  return s;
}
