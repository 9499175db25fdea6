// Telling v1, v2 and "no header" apart (haproxy:doc/proxy-protocol.txt §2.2,
// "Identifying the protocol version"), with the `versions` mask.
#include <check.h>

#include <cstring>
#include <string>

#include "core/proxy_header.h"
#include "suites.h"

using namespace pp_test;
using proxyproto::accept_none;
using proxyproto::accept_v1;
using proxyproto::accept_v1_v2;
using proxyproto::accept_v2;
using proxyproto::defect;
using proxyproto::parse_status;

namespace {

const std::string v1_line = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n";

bytes v2_inet() { return v2(0x21, 0x11, inet_block()); }

bytes signature_prefix(size_t n) {
  return bytes(v2_signature, v2_signature + n);
}

const unsigned all_masks[] = {accept_none, accept_v1, accept_v2, accept_v1_v2};

}  // namespace

// ---- Empty input -----------------------------------------------------------

START_TEST(empty_input_needs_more) {
  expect_status(parse_guarded(bytes{}, accept_v1), parse_status::need_more, "");
  expect_status(parse_guarded(bytes{}, accept_v2), parse_status::need_more, "");
  expect_status(parse_guarded(bytes{}, accept_v1_v2), parse_status::need_more, "");
}
END_TEST

// No buffer at all (nullptr, 0), as a caller with nothing read yet may pass:
// the parsers must not hand the null pointer to memcmp (undefined even for
// length 0; found by the fuzzer under UBSan, which this test runs under in
// sanitizer builds).
START_TEST(null_empty_input_needs_more) {
  proxyproto::header h;
  for (unsigned mask : {1u, 2u, 3u}) {
    const auto r = proxyproto::parse_header(nullptr, 0, mask, &h);
    ck_assert_msg(r.status == parse_status::need_more, "mask %u: %s", mask,
                  status_name(r.status));
  }
  ck_assert(proxyproto::parse_v1(nullptr, 0, &h).status == parse_status::need_more);
  ck_assert(proxyproto::parse_v2(nullptr, 0, &h).status == parse_status::need_more);
}
END_TEST

START_TEST(empty_input_with_no_version_is_not_proxy) {
  expect_status(parse_guarded(bytes{}, accept_none), parse_status::not_proxy, "");
}
END_TEST

// ---- v1 signature "PROXY" --------------------------------------------------

// Every strict prefix of "PROXY" is need_more when v1 is enabled.
START_TEST(v1_signature_prefixes_need_more) {
  const std::string sig = "PROXY";
  for (size_t n = 1; n <= sig.size(); ++n) {
    const std::string in = sig.substr(0, n);
    expect_status(parse_guarded(in, accept_v1), parse_status::need_more, in);
    expect_status(parse_guarded(in, accept_v1_v2), parse_status::need_more, in);
  }
}
END_TEST

START_TEST(v1_signature_prefixes_with_v2_only_are_not_proxy) {
  const std::string sig = "PROXY";
  for (size_t n = 1; n <= sig.size(); ++n) {
    const std::string in = sig.substr(0, n);
    expect_status(parse_guarded(in, accept_v2), parse_status::not_proxy, in);
  }
}
END_TEST

START_TEST(v1_line_is_recognised) {
  for (unsigned mask : {unsigned{accept_v1}, unsigned{accept_v1_v2}}) {
    const parsed p = parse_guarded(v1_line, mask);
    expect_complete(p, v1_line.size(), v1_line);
    ck_assert_uint_eq(p.h.version, 1);
  }
}
END_TEST

START_TEST(v1_line_with_v2_only_is_not_proxy) {
  expect_status(parse_guarded(v1_line, accept_v2), parse_status::not_proxy,
                v1_line);
}
END_TEST

// A byte that differs from "PROXY" at any position of the signature.
START_TEST(v1_signature_mismatch_is_not_proxy) {
  const char *inputs[] = {"X",        "PROXZ",    "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
                          "PRXY ",    "GET / HTTP/1.1\r\n", "PROX\r\n",
                          "P\x00",    "SSH-2.0-OpenSSH\r\n", " PROXY"};
  const size_t lengths[] = {1, 5, 32, 5, 16, 6, 2, 17, 6};
  for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; ++i) {
    const std::string in(inputs[i], lengths[i]);
    expect_status(parse_guarded(in, accept_v1_v2), parse_status::not_proxy, in);
    expect_status(parse_guarded(in, accept_v1), parse_status::not_proxy, in);
  }
}
END_TEST

// ---- v2 signature ----------------------------------------------------------

START_TEST(v2_signature_prefixes_need_more) {
  for (size_t n = 1; n <= 12; ++n) {
    const bytes in = signature_prefix(n);
    expect_status(parse_guarded(in, accept_v2), parse_status::need_more,
                  printable(in));
    expect_status(parse_guarded(in, accept_v1_v2), parse_status::need_more,
                  printable(in));
  }
}
END_TEST

START_TEST(v2_signature_prefixes_with_v1_only_are_not_proxy) {
  for (size_t n = 1; n <= 12; ++n) {
    const bytes in = signature_prefix(n);
    expect_status(parse_guarded(in, accept_v1), parse_status::not_proxy,
                  printable(in));
  }
}
END_TEST

// Signature plus version 2: still a prefix until the 16 fixed bytes are in.
START_TEST(v2_signature_and_version_need_more) {
  const bytes full = v2_inet();
  for (size_t n = 13; n < 16; ++n) {
    const bytes in(full.begin(), full.begin() + static_cast<long>(n));
    expect_status(parse_guarded(in, accept_v2), parse_status::need_more,
                  printable(in));
    expect_status(parse_guarded(in, accept_v1_v2), parse_status::need_more,
                  printable(in));
  }
}
END_TEST

START_TEST(v2_header_is_recognised) {
  const bytes in = v2_inet();
  for (unsigned mask : {unsigned{accept_v2}, unsigned{accept_v1_v2}}) {
    const parsed p = parse_guarded(in, mask);
    expect_complete(p, 28, printable(in));
    ck_assert_uint_eq(p.h.version, 2);
  }
}
END_TEST

START_TEST(v2_header_with_v1_only_is_not_proxy) {
  const bytes in = v2_inet();
  expect_status(parse_guarded(in, accept_v1), parse_status::not_proxy,
                printable(in));
}
END_TEST

// Loop over every version nibble but 2: the signature is followed by a
// version this library does not speak. No other protocol starts with the
// signature, so it is an invalid header, not data; with v2 disabled it is
// no header at all.
START_TEST(v2_signature_with_other_version_is_invalid) {
  const uint8_t nibble = static_cast<uint8_t>(_i);
  if (nibble == 2) return;
  const uint8_t ver_cmd = static_cast<uint8_t>((static_cast<unsigned>(nibble) << 4) | 0x1u);
  bytes in = v2(ver_cmd, 0x11, inet_block());
  expect_invalid(parse_guarded(in, accept_v2), defect::v2_bad_version,
                 printable(in));
  expect_invalid(parse_guarded(in, accept_v1_v2), defect::v2_bad_version,
                 printable(in));
  expect_status(parse_guarded(in, accept_v1), parse_status::not_proxy,
                printable(in));
  // Decided from the 13th byte alone.
  in.resize(13);
  expect_invalid(parse_guarded(in, accept_v1_v2), defect::v2_bad_version,
                 printable(in));
}
END_TEST

// A byte that differs from the signature at each position of it.
START_TEST(v2_signature_mismatch_is_not_proxy) {
  const size_t pos = static_cast<size_t>(_i);
  bytes in = v2_inet();
  in[pos] = static_cast<uint8_t>(in[pos] ^ 0x40u);
  expect_status(parse_guarded(in, accept_v2), parse_status::not_proxy,
                printable(in));
  expect_status(parse_guarded(in, accept_v1_v2), parse_status::not_proxy,
                printable(in));
  // ... also when only the bytes up to the wrong one have arrived.
  in.resize(pos + 1);
  expect_status(parse_guarded(in, accept_v1_v2), parse_status::not_proxy,
                printable(in));
}
END_TEST

// ---- The mask --------------------------------------------------------------

START_TEST(no_version_enabled_is_not_proxy) {
  const bytes inputs[] = {to_bytes(v1_line), v2_inet(), to_bytes("PRO"),
                          signature_prefix(5), signature_prefix(12)};
  for (const bytes &in : inputs)
    expect_status(parse_guarded(in, accept_none), parse_status::not_proxy,
                  printable(in));
}
END_TEST

START_TEST(mask_values) {
  ck_assert_uint_eq(accept_none, 0);
  ck_assert_uint_eq(accept_v1, 1);
  ck_assert_uint_eq(accept_v2, 2);
  ck_assert_uint_eq(accept_v1_v2, 3);
  ck_assert_uint_eq(proxyproto::detect_length, 13);
  ck_assert_uint_eq(proxyproto::v1_max_length, 107);
  ck_assert_uint_eq(proxyproto::v2_fixed_length, 16);
  ck_assert_uint_eq(proxyproto::v2_max_length, 65551);
}
END_TEST

// Whatever the mask, the answer on a non-PROXY stream is not_proxy once
// detect_length bytes are there.
START_TEST(plain_traffic_is_not_proxy_for_every_mask) {
  const std::string in = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  for (unsigned mask : all_masks)
    expect_status(parse_guarded(in, mask), parse_status::not_proxy, in);
}
END_TEST

// ---- The direct entry points agree with parse_header ----------------------

START_TEST(parse_v1_direct) {
  const parsed p = parse_guarded(v1_line, accept_none, entry::v1);
  expect_complete(p, v1_line.size(), v1_line);
  ck_assert_uint_eq(p.h.version, 1);
  ck_assert(p.h.family == proxyproto::address_family::inet);
  ck_assert_uint_eq(p.h.source.port, 56324);
  ck_assert_uint_eq(p.h.destination.port, 443);
}
END_TEST

START_TEST(parse_v2_direct) {
  const bytes in = v2_inet();
  const parsed p = parse_guarded(in, accept_none, entry::v2);
  expect_complete(p, 28, printable(in));
  ck_assert_uint_eq(p.h.version, 2);
  ck_assert(p.h.family == proxyproto::address_family::inet);
  ck_assert_uint_eq(p.h.source.port, 0x1234);
  ck_assert_uint_eq(p.h.destination.port, 80);
}
END_TEST

START_TEST(parse_v2_direct_needs_more) {
  bytes in = v2_inet();
  in.resize(20);
  expect_status(parse_guarded(in, accept_none, entry::v2), parse_status::need_more,
                printable(in));
}
END_TEST

START_TEST(parse_v1_direct_needs_more) {
  const std::string in = v1_line.substr(0, 20);
  expect_status(parse_guarded(in, accept_none, entry::v1), parse_status::need_more,
                in);
}
END_TEST

// Like parse_v2, which answers not_proxy when the signature is not there,
// parse_v1 must not accept a line that does not start with "PROXY".
START_TEST(parse_v1_direct_checks_signature) {
  const char *inputs[] = {"XXXXX TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
                          "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
                          "GET / UNKNOWN\r\n"};
  for (const char *c : inputs) {
    const std::string in = c;
    expect_status(parse_guarded(in, accept_none, entry::v1), parse_status::not_proxy,
                  in);
  }
}
END_TEST

START_TEST(parse_v2_direct_checks_signature) {
  bytes in = v2_inet();
  in[0] = 'X';
  expect_status(parse_guarded(in, accept_none, entry::v2), parse_status::not_proxy,
                printable(in));
}
END_TEST

// ---- v2_total_length -------------------------------------------------------

START_TEST(v2_total_length_unknown_before_16_bytes) {
  const bytes in = v2_inet();
  for (size_t n = 0; n < 16; ++n) {
    guarded g(in.data(), n);
    ck_assert_msg(proxyproto::v2_total_length(g.data(), g.size()) == 0,
                  "with %zu bytes", n);
  }
}
END_TEST

START_TEST(v2_total_length_from_fixed_bytes) {
  bytes in = v2_inet();
  {
    guarded g(in.data(), 16);
    ck_assert_uint_eq(proxyproto::v2_total_length(g.data(), g.size()), 28);
  }
  in[14] = 0xFF;
  in[15] = 0xFF;
  {
    guarded g(in.data(), 16);
    ck_assert_uint_eq(proxyproto::v2_total_length(g.data(), g.size()), 65551);
  }
  in[14] = 0x01;
  in[15] = 0x02;
  {
    guarded g(in.data(), in.size());
    ck_assert_uint_eq(proxyproto::v2_total_length(g.data(), g.size()), 16 + 0x102);
  }
}
END_TEST

// ---- defect_name ---------------------------------------------------------------

START_TEST(defect_names_are_the_identifiers) {
  const int last = static_cast<int>(defect::v2_ssl_truncated);
  for (int i = 0; i <= last; ++i) {
    const defect d = static_cast<defect>(i);
    const char *got = proxyproto::defect_name(d);
    ck_assert_ptr_nonnull(got);
    ck_assert_msg(std::strcmp(got, defect_id(d)) == 0, "defect %d named \"%s\", expected %s",
                  i, got, defect_id(d));
  }
}
END_TEST

Suite *make_parse_header_suite(void) {
  Suite *s = suite_create("parse_header");

  TCase *tc = tcase_create("empty");
  tcase_add_test(tc, empty_input_needs_more);
  tcase_add_test(tc, null_empty_input_needs_more);
  tcase_add_test(tc, empty_input_with_no_version_is_not_proxy);
  suite_add_tcase(s, tc);

  tc = tcase_create("v1_signature");
  tcase_add_test(tc, v1_signature_prefixes_need_more);
  tcase_add_test(tc, v1_signature_prefixes_with_v2_only_are_not_proxy);
  tcase_add_test(tc, v1_line_is_recognised);
  tcase_add_test(tc, v1_line_with_v2_only_is_not_proxy);
  tcase_add_test(tc, v1_signature_mismatch_is_not_proxy);
  suite_add_tcase(s, tc);

  tc = tcase_create("v2_signature");
  tcase_add_test(tc, v2_signature_prefixes_need_more);
  tcase_add_test(tc, v2_signature_prefixes_with_v1_only_are_not_proxy);
  tcase_add_test(tc, v2_signature_and_version_need_more);
  tcase_add_test(tc, v2_header_is_recognised);
  tcase_add_test(tc, v2_header_with_v1_only_is_not_proxy);
  tcase_add_loop_test(tc, v2_signature_with_other_version_is_invalid, 0, 16);
  tcase_add_loop_test(tc, v2_signature_mismatch_is_not_proxy, 0, 12);
  suite_add_tcase(s, tc);

  tc = tcase_create("mask");
  tcase_add_test(tc, no_version_enabled_is_not_proxy);
  tcase_add_test(tc, mask_values);
  tcase_add_test(tc, plain_traffic_is_not_proxy_for_every_mask);
  suite_add_tcase(s, tc);

  tc = tcase_create("entry_points");
  tcase_add_test(tc, parse_v1_direct);
  tcase_add_test(tc, parse_v2_direct);
  tcase_add_test(tc, parse_v2_direct_needs_more);
  tcase_add_test(tc, parse_v1_direct_needs_more);
  tcase_add_test(tc, parse_v1_direct_checks_signature);
  tcase_add_test(tc, parse_v2_direct_checks_signature);
  suite_add_tcase(s, tc);

  tc = tcase_create("defect_name");
  tcase_add_test(tc, defect_names_are_the_identifiers);
  suite_add_tcase(s, tc);

  tc = tcase_create("v2_total_length");
  tcase_add_test(tc, v2_total_length_unknown_before_16_bytes);
  tcase_add_test(tc, v2_total_length_from_fixed_bytes);
  suite_add_tcase(s, tc);
  return s;
}
