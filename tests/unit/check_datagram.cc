// One UDP datagram: what the receiver does with it (core/datagram.h).
#include <check.h>

#include <cstring>
#include <string>

#include "core/datagram.h"
#include "core/header_writer.h"
#include "suites.h"

using namespace pp_test;
using proxyproto::accept_none;
using proxyproto::accept_v1;
using proxyproto::accept_v1_v2;
using proxyproto::address_family;
using proxyproto::datagram_inspection;
using proxyproto::datagram_reason;
using proxyproto::datagram_rules;
using proxyproto::datagram_verdict;
using proxyproto::defect;

namespace {

constexpr uint8_t cmd_local = 0x20;
constexpr uint8_t cmd_proxy = 0x21;

constexpr datagram_rules optional_header{accept_v1_v2, false, true};
constexpr datagram_rules required_header{accept_v1_v2, true, true};

bytes payload() { return to_bytes("\x12\x34\x01\x00 a DNS query, say"); }

bytes with_payload(bytes header) {
  append(header, payload());
  return header;
}

// Inspects all of `in` from a copy that ends at an inaccessible page.
datagram_inspection inspect(const bytes &in,
                            const datagram_rules &rules = optional_header) {
  guarded g(in);
  return proxyproto::inspect_datagram(g.data(), g.size(), g.size(), rules);
}

void expect_discard(const datagram_inspection &d, datagram_reason why,
                    const bytes &in) {
  ck_assert_msg(d.verdict == datagram_verdict::discard,
                "\"%s\": verdict %d, expected discard (%s)",
                printable(in).c_str(), static_cast<int>(d.verdict),
                proxyproto::datagram_reason_name(why));
  ck_assert_msg(d.reason == why, "\"%s\": reason %s, expected %s",
                printable(in).c_str(),
                proxyproto::datagram_reason_name(d.reason),
                proxyproto::datagram_reason_name(why));
}

}  // namespace

START_TEST(udp4_header_is_stripped_and_names_the_source) {
  const bytes in = with_payload(v2(cmd_proxy, 0x12, inet_block(5353, 53)));
  const datagram_inspection d = inspect(in);
  ck_assert(d.verdict == datagram_verdict::strip);
  ck_assert_uint_eq(d.header_length, 28);
  ck_assert(d.use_source);
  ck_assert(d.family == address_family::inet);
  const proxyproto::ip_endpoint want = ep4("192.0.2.1", 5353);
  ck_assert_mem_eq(d.source.address, want.address, 4);
  ck_assert_uint_eq(d.source.port, 5353);
  ck_assert_uint_eq(d.destination.port, 53);
}
END_TEST

START_TEST(udp6_header_is_stripped_and_names_the_source) {
  const bytes in = with_payload(v2(cmd_proxy, 0x22, inet6_block(40000, 53)));
  const datagram_inspection d = inspect(in);
  ck_assert(d.verdict == datagram_verdict::strip);
  ck_assert_uint_eq(d.header_length, 52);
  ck_assert(d.use_source);
  ck_assert(d.family == address_family::inet6);
  ck_assert_uint_eq(d.source.port, 40000);
}
END_TEST

// TCP and UNIX families, AF_UNSPEC and LOCAL are headers too: removed, but
// the real sender stays (only a UDP family describes a datagram's sender).
START_TEST(other_families_are_stripped_but_keep_the_real_sender) {
  const bytes cases[] = {
      v2(cmd_proxy, 0x11, inet_block()),  v2(cmd_proxy, 0x21, inet6_block()),
      v2(cmd_proxy, 0x31, unix_block()),  v2(cmd_proxy, 0x32, unix_block()),
      v2(cmd_proxy, 0x00, {}),            v2(cmd_local, 0x12, inet_block()),
      v2(cmd_local, 0x00, {}),            v2(cmd_local, 0x77, {1, 2, 3}),
  };
  for (const bytes &header : cases) {
    const bytes in = with_payload(header);
    const datagram_inspection d = inspect(in);
    ck_assert_msg(d.verdict == datagram_verdict::strip, "\"%s\"",
                  printable(in).c_str());
    ck_assert_uint_eq(d.header_length, header.size());
    ck_assert(!d.use_source);
  }
}
END_TEST

START_TEST(header_with_no_payload_is_stripped) {
  const bytes in = v2(cmd_proxy, 0x12, inet_block());
  const datagram_inspection d = inspect(in);
  ck_assert(d.verdict == datagram_verdict::strip);
  ck_assert_uint_eq(d.header_length, in.size());
}
END_TEST

START_TEST(header_with_tlvs_and_good_checksum_is_stripped) {
  bytes header = v2(cmd_proxy, 0x12, {});
  bytes body = inet_block();
  append(body, tlv(0x05, to_bytes("unique")));
  const size_t crc_at = 16 + body.size();
  append(body, tlv(0x03, {0, 0, 0, 0}));
  header = v2(cmd_proxy, 0x12, body);
  fill_crc32c(header, crc_at);
  const bytes in = with_payload(header);
  const datagram_inspection d = inspect(in);
  ck_assert(d.verdict == datagram_verdict::strip);
  ck_assert_uint_eq(d.header_length, header.size());
}
END_TEST

START_TEST(bad_checksum_is_discarded) {
  bytes body = inet_block();
  append(body, tlv(0x03, {0, 0, 0, 0}));
  bytes header = v2(cmd_proxy, 0x12, body);
  fill_crc32c(header, 28);
  header[20] ^= 1;  // a bit of the addresses, after the checksum was taken
  const bytes in = with_payload(header);
  const datagram_inspection d = inspect(in);
  expect_discard(d, datagram_reason::invalid, in);
  ck_assert(d.why == defect::v2_crc32c_mismatch);
}
END_TEST

START_TEST(malformed_headers_are_discarded) {
  struct {
    bytes in;
    defect why;
  } const cases[] = {
      {v2(0x22, 0x12, inet_block()), defect::v2_bad_command},
      {v2(0x2F, 0x12, inet_block()), defect::v2_bad_command},
      {v2(cmd_proxy, 0x13, inet_block()), defect::v2_bad_family},
      {v2(cmd_proxy, 0x42, inet_block()), defect::v2_bad_family},
      {v2(cmd_proxy, 0x12, bytes(11, 0)), defect::v2_length_too_short},
      {v2(cmd_proxy, 0x22, inet_block()), defect::v2_length_too_short},
      {v2(cmd_proxy, 0x12, [] {
         bytes b = inet_block();
         append(b, {0x20, 0x00, 0x09, 1});  // a TLV claiming 9 bytes, 1 left
         return b;
       }()), defect::v2_tlv_truncated},
  };
  for (const auto &c : cases) {
    const bytes in = with_payload(c.in);
    // The payload must not save a header whose own bytes are wrong: check
    // the header alone too.
    for (const bytes *input : {&c.in, &in}) {
      const datagram_inspection d = inspect(*input);
      expect_discard(d, datagram_reason::invalid, *input);
      ck_assert_msg(d.why == c.why, "\"%s\": defect %s, expected %s",
                    printable(*input).c_str(), defect_id(d.why),
                    defect_id(c.why));
    }
  }
}
END_TEST

// A length field running past the end of the datagram: the header would
// swallow the next datagram on a stream, but a datagram has no next part.
START_TEST(header_longer_than_datagram_is_discarded) {
  bytes in = v2(cmd_proxy, 0x12, inet_block());
  in[15] = 13;  // one byte more than the datagram holds
  expect_discard(inspect(in), datagram_reason::longer_than_datagram, in);
  in[14] = 0xFF;
  in[15] = 0xFF;
  expect_discard(inspect(in), datagram_reason::longer_than_datagram, in);
}
END_TEST

START_TEST(every_cut_of_a_header_is_discarded) {
  const bytes header = v2(cmd_proxy, 0x12, inet_block());
  for (size_t n = 1; n < header.size(); ++n) {
    const bytes in(header.begin(), header.begin() + static_cast<long>(n));
    const datagram_inspection d = inspect(in);
    ck_assert_msg(d.verdict == datagram_verdict::discard,
                  "%zu bytes of a header: verdict %d", n,
                  static_cast<int>(d.verdict));
    ck_assert(d.reason == (n < 16 ? datagram_reason::truncated
                                  : datagram_reason::longer_than_datagram));
  }
}
END_TEST

START_TEST(signature_with_another_version_is_discarded) {
  for (unsigned version = 0; version < 16; ++version) {
    if (version == 2) continue;
    const bytes in = with_payload(
        v2(static_cast<uint8_t>(version << 4 | 1), 0x12, inet_block()));
    expect_discard(inspect(in), datagram_reason::bad_version, in);
    const bytes short_one(in.begin(), in.begin() + 13);
    expect_discard(inspect(short_one), datagram_reason::bad_version, short_one);
  }
}
END_TEST

START_TEST(datagram_without_header_is_delivered) {
  const bytes cases[] = {
      payload(),
      {},
      {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0B,
       0x21, 0x12, 0x00, 0x0C},  // the last signature byte differs
      {0x0D, 0x0B},
  };
  for (const bytes &in : cases) {
    const datagram_inspection d = inspect(in);
    ck_assert_msg(d.verdict == datagram_verdict::deliver, "\"%s\"",
                  printable(in).c_str());
    ck_assert(!d.use_source);
  }
}
END_TEST

// §2 "MUST not try to guess", and only v2 is defined for UDP: a v1 line is
// payload, as any datagram without the v2 signature.
START_TEST(v1_line_is_payload) {
  const bytes in = to_bytes("PROXY UDP4 192.0.2.1 192.0.2.2 1 2\r\nxyz");
  ck_assert(inspect(in).verdict == datagram_verdict::deliver);
  const bytes tcp4 = to_bytes("PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n");
  ck_assert(inspect(tcp4).verdict == datagram_verdict::deliver);
  expect_discard(inspect(tcp4, required_header),
                 datagram_reason::no_header_under_must_use, tcp4);
}
END_TEST

START_TEST(must_use_discards_datagrams_without_header) {
  for (const bytes &in : {payload(), bytes{}}) {
    expect_discard(inspect(in, required_header),
                   datagram_reason::no_header_under_must_use, in);
  }
  const bytes good = with_payload(v2(cmd_proxy, 0x12, inet_block()));
  ck_assert(inspect(good, required_header).verdict == datagram_verdict::strip);
}
END_TEST

// An untrusted sender's bytes are never parsed: delivered as they came with
// the real sender, header-like bytes included, or discarded under must-use.
START_TEST(untrusted_sender_is_never_parsed) {
  const bytes in = with_payload(v2(cmd_proxy, 0x12, inet_block()));
  const datagram_rules untrusted{accept_v1_v2, false, false};
  const datagram_inspection d = inspect(in, untrusted);
  ck_assert(d.verdict == datagram_verdict::deliver);
  ck_assert(!d.use_source);
  const datagram_rules untrusted_must{accept_v1_v2, true, false};
  expect_discard(inspect(in, untrusted_must),
                 datagram_reason::untrusted_under_must_use, in);
  expect_discard(inspect(payload(), untrusted_must),
                 datagram_reason::untrusted_under_must_use, payload());
}
END_TEST

START_TEST(version_mask_without_v2_sees_no_header) {
  const bytes in = with_payload(v2(cmd_proxy, 0x12, inet_block()));
  for (unsigned mask : {unsigned{accept_none}, unsigned{accept_v1}}) {
    const datagram_rules rules{mask, false, true};
    ck_assert(inspect(in, rules).verdict == datagram_verdict::deliver);
    const datagram_rules must{mask, true, true};
    expect_discard(inspect(in, must), datagram_reason::no_header_under_must_use,
                   in);
  }
}
END_TEST

// A receiver whose buffer holds less than the header (the kernel cut the
// datagram) is told how many bytes it needs, never more than the datagram.
START_TEST(short_buffer_asks_for_the_header) {
  bytes body = inet_block();
  append(body, tlv(0x05, bytes(100, 'u')));
  const bytes in = with_payload(v2(cmd_proxy, 0x12, body));
  const size_t total = 16 + body.size();
  for (size_t have = 0; have < total; ++have) {
    guarded g(in.data(), have);
    const datagram_inspection d = proxyproto::inspect_datagram(
        g.data(), have, in.size(), optional_header);
    ck_assert_msg(d.verdict == datagram_verdict::need_more, "have %zu", have);
    ck_assert_uint_eq(d.needed, have < 16 ? 16 : total);
  }
  guarded g(in.data(), total);
  const datagram_inspection d =
      proxyproto::inspect_datagram(g.data(), total, in.size(), optional_header);
  ck_assert(d.verdict == datagram_verdict::strip);
  ck_assert_uint_eq(d.header_length, total);
  // A short buffer of payload decides at once.
  guarded p(payload().data(), 3);
  ck_assert(proxyproto::inspect_datagram(p.data(), 3, 500, optional_header)
                .verdict == datagram_verdict::deliver);
  // need_more never asks for more than the datagram holds.
  const bytes cut(in.begin(), in.begin() + 10);
  guarded c(cut.data(), 4);
  const datagram_inspection dc =
      proxyproto::inspect_datagram(c.data(), 4, cut.size(), optional_header);
  ck_assert(dc.verdict == datagram_verdict::need_more);
  ck_assert_uint_eq(dc.needed, cut.size());
}
END_TEST

// What the writer makes for a datagram, the inspector strips.
START_TEST(writer_datagram_families_round_trip) {
  for (bool six : {false, true}) {
    proxyproto::header_fields f{};
    f.cmd = proxyproto::command::proxy;
    f.family = six ? address_family::inet6 : address_family::inet;
    f.source = six ? ep6("2001:db8::7", 4242) : ep4("203.0.113.7", 4242);
    f.destination = six ? ep6("::1", 53) : ep4("127.0.0.1", 53);
    f.datagram = true;
    f.add_crc32c = true;
    uint8_t out[128];
    const size_t n = proxyproto::write_v2(f, out, sizeof out);
    ck_assert_uint_gt(n, 16);
    ck_assert_uint_eq(out[13], six ? 0x22 : 0x12);
    bytes in(out, out + n);
    append(in, payload());
    const datagram_inspection d = inspect(in);
    ck_assert(d.verdict == datagram_verdict::strip);
    ck_assert_uint_eq(d.header_length, n);
    ck_assert(d.use_source);
    ck_assert_uint_eq(d.source.port, 4242);
    ck_assert_mem_eq(d.source.address, f.source.address, six ? 16 : 4);
    f.datagram = false;
    ck_assert_uint_eq(proxyproto::write_v2(f, out, sizeof out), n);
    ck_assert_uint_eq(out[13], six ? 0x21 : 0x11);
  }
}
END_TEST

Suite *make_datagram_suite(void) {
  Suite *s = suite_create("datagram");
  TCase *tc = tcase_create("strip");
  tcase_add_test(tc, udp4_header_is_stripped_and_names_the_source);
  tcase_add_test(tc, udp6_header_is_stripped_and_names_the_source);
  tcase_add_test(tc, other_families_are_stripped_but_keep_the_real_sender);
  tcase_add_test(tc, header_with_no_payload_is_stripped);
  tcase_add_test(tc, header_with_tlvs_and_good_checksum_is_stripped);
  tcase_add_test(tc, writer_datagram_families_round_trip);
  suite_add_tcase(s, tc);

  tc = tcase_create("discard");
  tcase_add_test(tc, bad_checksum_is_discarded);
  tcase_add_test(tc, malformed_headers_are_discarded);
  tcase_add_test(tc, header_longer_than_datagram_is_discarded);
  tcase_add_test(tc, every_cut_of_a_header_is_discarded);
  tcase_add_test(tc, signature_with_another_version_is_discarded);
  suite_add_tcase(s, tc);

  tc = tcase_create("no header");
  tcase_add_test(tc, datagram_without_header_is_delivered);
  tcase_add_test(tc, v1_line_is_payload);
  tcase_add_test(tc, must_use_discards_datagrams_without_header);
  tcase_add_test(tc, untrusted_sender_is_never_parsed);
  tcase_add_test(tc, version_mask_without_v2_sees_no_header);
  suite_add_tcase(s, tc);

  tc = tcase_create("short buffer");
  tcase_add_test(tc, short_buffer_asks_for_the_header);
  suite_add_tcase(s, tc);
  return s;
}
