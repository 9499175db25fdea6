// The binary header, version 2 (haproxy:doc/proxy-protocol.txt §2.2).
#include <check.h>

#include <cstring>
#include <initializer_list>
#include <string>
#include <utility>

#include "core/proxy_header.h"
#include "core/sockaddr_convert.h"
#include "core/usual_header.h"
#include "suites.h"

using namespace pp_test;
using proxyproto::accept_v1_v2;
using proxyproto::accept_v2;
using proxyproto::address_family;
using proxyproto::command;
using proxyproto::defect;
using proxyproto::parse_status;
using proxyproto::transport;

namespace {

constexpr uint8_t cmd_local = 0x20;
constexpr uint8_t cmd_proxy = 0x21;

bytes concat(std::initializer_list<bytes> parts) {
  bytes out;
  for (const bytes &p : parts) append(out, p);
  return out;
}

bytes text(const char *s) { return bytes(s, s + std::strlen(s)); }

// Parses `in` through parse_header (v2 alone and v1+v2) and parse_v2, checks
// that all three agree, and returns the parse_header one.
parsed parse_all(const bytes &in) {
  const parsed a = parse_guarded(in, accept_v2);
  const parsed b = parse_guarded(in, accept_v1_v2);
  const parsed c = parse_guarded(in, accept_v1_v2, entry::v2);
  for (const parsed *other : {&b, &c}) {
    ck_assert_msg(other->result.status == a.result.status &&
                      other->result.why == a.result.why &&
                      other->result.length == a.result.length,
                  "%s: entry points disagree: %s/%s/%zu vs %s/%s/%zu",
                  printable(in).c_str(), status_name(a.result.status),
                  defect_id(a.result.why), a.result.length,
                  status_name(other->result.status),
                  defect_id(other->result.why), other->result.length);
  }
  return a;
}

void expect_v2_complete(const bytes &in, size_t length) {
  expect_complete(parse_all(in), length, printable(in));
}

void expect_v2_invalid(const bytes &in, defect why) {
  expect_invalid(parse_all(in), why, printable(in));
}

void expect_common(const parsed &p, command cmd, address_family family,
                   transport proto) {
  ck_assert_uint_eq(p.h.version, 2);
  ck_assert_msg(p.h.cmd == cmd, "command %u, expected %u",
                static_cast<unsigned>(p.h.cmd), static_cast<unsigned>(cmd));
  ck_assert_msg(p.h.family == family, "family %u, expected %u",
                static_cast<unsigned>(p.h.family),
                static_cast<unsigned>(family));
  ck_assert_msg(p.h.proto == proto, "transport %u, expected %u",
                static_cast<unsigned>(p.h.proto), static_cast<unsigned>(proto));
}

// Every strict prefix of a complete header is need_more.
void expect_prefixes_need_more(const bytes &in) {
  for (size_t n = 0; n < in.size(); ++n) {
    const parsed p = parse_guarded(in.data(), n, accept_v2);
    ck_assert_msg(p.result.status == parse_status::need_more,
                  "%zu of %zu bytes: status %s (%s), expected need_more", n,
                  in.size(), status_name(p.result.status),
                  defect_id(p.result.why));
    const parsed q = parse_guarded(in.data(), n, accept_v1_v2);
    ck_assert_msg(q.result.status == parse_status::need_more,
                  "%zu of %zu bytes (v1+v2): status %s (%s)", n, in.size(),
                  status_name(q.result.status), defect_id(q.result.why));
  }
}

// An INET header with these TLVs after the address block.
bytes inet_with(const bytes &tlvs) {
  return v2(cmd_proxy, 0x11, concat({inet_block(), tlvs}));
}

bytes crc_tlv() { return tlv(0x03, bytes(4, 0)); }

// An INET header with `before`, a checksum TLV, `after`, checksum filled in.
bytes inet_with_crc(const bytes &before, const bytes &after) {
  bytes h = inet_with(concat({before, crc_tlv(), after}));
  fill_crc32c(h, 16 + 12 + before.size());
  return h;
}

const bytes some_tlvs = concat({
    tlv(0x01, text("h2")),
    tlv(0x02, text("example.com")),
    tlv(0x04, {}),
    tlv(0x04, bytes(5, 0)),
    tlv(0xE0, text("x")),
    tlv(0xEA, {1, 2, 3, 4}),
    tlv(0xEE, {}),
    tlv(0xF0, bytes(10, 0xAB)),
    tlv(0x30, text("ns1")),
});

}  // namespace

// ---- §2.2: addresses of each family ------------------------------------------

START_TEST(inet_stream) {
  const bytes in = v2(cmd_proxy, 0x11, inet_block(0x1234, 80));
  const parsed p = parse_all(in);
  expect_complete(p, 28, printable(in));
  expect_common(p, command::proxy, address_family::inet, transport::stream);
  const uint8_t src[4] = {192, 0, 2, 1}, dst[4] = {198, 51, 100, 2};
  ck_assert_mem_eq(p.h.source.address, src, 4);
  ck_assert_mem_eq(p.h.destination.address, dst, 4);
  ck_assert_uint_eq(p.h.source.port, 0x1234);
  ck_assert_uint_eq(p.h.destination.port, 80);
  ck_assert_int_eq(p.tlvs_offset, 28);
  ck_assert_uint_eq(p.h.tlvs_length, 0);
}
END_TEST

START_TEST(inet_dgram) {
  const bytes in = v2(cmd_proxy, 0x12, inet_block(53, 0xFFFF));
  const parsed p = parse_all(in);
  expect_complete(p, 28, printable(in));
  expect_common(p, command::proxy, address_family::inet, transport::dgram);
  ck_assert_uint_eq(p.h.source.port, 53);
  ck_assert_uint_eq(p.h.destination.port, 0xFFFF);
}
END_TEST

// Ports are big endian on the wire: AB CD is 0xABCD, not 0xCDAB.
START_TEST(ports_are_big_endian) {
  const bytes in = v2(cmd_proxy, 0x11, inet_block(0xABCD, 0x0102));
  const parsed p = parse_all(in);
  expect_complete(p, 28, printable(in));
  ck_assert_uint_eq(p.h.source.port, 0xABCD);
  ck_assert_uint_eq(p.h.destination.port, 0x0102);
}
END_TEST

START_TEST(inet6_stream) {
  const bytes block = inet6_block(0xABCD, 443);
  const bytes in = v2(cmd_proxy, 0x21, block);
  const parsed p = parse_all(in);
  expect_complete(p, 52, printable(in));
  expect_common(p, command::proxy, address_family::inet6, transport::stream);
  ck_assert_mem_eq(p.h.source.address, block.data(), 16);
  ck_assert_mem_eq(p.h.destination.address, block.data() + 16, 16);
  ck_assert_uint_eq(p.h.source.port, 0xABCD);
  ck_assert_uint_eq(p.h.destination.port, 443);
  ck_assert_int_eq(p.tlvs_offset, 52);
  ck_assert_uint_eq(p.h.tlvs_length, 0);
}
END_TEST

START_TEST(inet6_dgram) {
  const bytes block = inet6_block(1, 2);
  const bytes in = v2(cmd_proxy, 0x22, block);
  const parsed p = parse_all(in);
  expect_complete(p, 52, printable(in));
  expect_common(p, command::proxy, address_family::inet6, transport::dgram);
  ck_assert_mem_eq(p.h.source.address, block.data(), 16);
  ck_assert_mem_eq(p.h.destination.address, block.data() + 16, 16);
  ck_assert_uint_eq(p.h.source.port, 1);
  ck_assert_uint_eq(p.h.destination.port, 2);
}
END_TEST

START_TEST(unix_stream) {
  const bytes in = v2(cmd_proxy, 0x31, unix_block());
  const parsed p = parse_all(in);
  expect_complete(p, 232, printable(in));
  expect_common(p, command::proxy, address_family::unix_domain,
                transport::stream);
  ck_assert_int_eq(p.unix_source_offset, 16);
  ck_assert_int_eq(p.unix_destination_offset, 16 + 108);
  ck_assert_int_eq(p.tlvs_offset, 232);
  ck_assert_uint_eq(p.h.tlvs_length, 0);
}
END_TEST

START_TEST(unix_dgram) {
  const bytes in = v2(cmd_proxy, 0x32, unix_block("/a", "/b"));
  guarded g(in);
  proxyproto::header h;
  const auto r = proxyproto::parse_header(g.data(), g.size(), accept_v2, &h);
  ck_assert(r.status == parse_status::complete);
  ck_assert_uint_eq(r.length, 232);
  ck_assert(h.family == address_family::unix_domain);
  ck_assert(h.proto == transport::dgram);
  ck_assert_ptr_eq(h.unix_source, g.data() + 16);
  ck_assert_ptr_eq(h.unix_destination, g.data() + 124);
  ck_assert_str_eq(reinterpret_cast<const char *>(h.unix_source), "/a");
  ck_assert_str_eq(reinterpret_cast<const char *>(h.unix_destination), "/b");
}
END_TEST

START_TEST(unspec_proxy_empty) {
  const bytes in = v2(cmd_proxy, 0x00, {});
  const parsed p = parse_all(in);
  expect_complete(p, 16, printable(in));
  expect_common(p, command::proxy, address_family::unspec, transport::unspec);
}
END_TEST

// AF_UNSPEC: the bytes are opaque, even when they look like a broken TLV.
START_TEST(unspec_proxy_opaque_bytes) {
  const bytes payloads[] = {
      {0x04},
      {0x04, 0x00},
      {0x03, 0x00, 0x09, 1, 2, 3, 4},
      {0x03, 0x00, 0x04, 0xDE, 0xAD, 0xBE, 0xEF},  // a wrong checksum
      {0x05, 0xFF, 0xFF},
      bytes(216, 0xFF),
  };
  for (const bytes &payload : payloads) {
    const bytes in = v2(cmd_proxy, 0x00, payload);
    const parsed p = parse_all(in);
    expect_complete(p, 16 + payload.size(), printable(in));
    expect_common(p, command::proxy, address_family::unspec, transport::unspec);
  }
}
END_TEST

START_TEST(application_data_is_not_consumed) {
  const bytes headers[] = {
      v2(cmd_proxy, 0x11, inet_block()),
      v2(cmd_proxy, 0x21, inet6_block()),
      inet_with(some_tlvs),
      v2(cmd_local, 0x00, {}),
      v2(cmd_proxy, 0x00, {1, 2, 3}),
  };
  for (const bytes &h : headers) {
    const bytes in = concat({h, text("GET / HTTP/1.1\r\n\r\n"), {0x03, 0x00}});
    expect_v2_complete(in, h.size());
    // Another header right after: still only the first.
    expect_v2_complete(concat({h, h}), h.size());
  }
}
END_TEST

// ---- §2.2: LOCAL ---------------------------------------------------------------

START_TEST(local_empty) {
  const bytes in = v2(cmd_local, 0x00, {});
  const parsed p = parse_all(in);
  expect_complete(p, 16, printable(in));
  ck_assert_uint_eq(p.h.version, 2);
  ck_assert(p.h.cmd == command::local);
}
END_TEST

START_TEST(local_with_addresses) {
  const bytes in = v2(cmd_local, 0x11, inet_block());
  const parsed p = parse_all(in);
  expect_complete(p, 28, printable(in));
  ck_assert(p.h.cmd == command::local);
}
END_TEST

// LOCAL: "discard the protocol block including the family": any family
// byte, any length, any content.
START_TEST(local_ignores_family_and_block) {
  const uint8_t fam = static_cast<uint8_t>(_i);
  const bytes payloads[] = {
      {},
      {0xFF},
      {0x03, 0x00},
      {0x03, 0x00, 0x04, 0xDE, 0xAD, 0xBE, 0xEF},
      {0x20, 0x00, 0x02, 0x01, 0x00},
      {0x05, 0x00, 0xFF, 1, 2},
      bytes(215, 0x01),
  };
  for (const bytes &payload : payloads) {
    const bytes in = v2(cmd_local, fam, payload);
    const parsed p = parse_all(in);
    expect_complete(p, 16 + payload.size(), printable(in));
    ck_assert(p.h.cmd == command::local);
  }
}
END_TEST

START_TEST(local_with_wrong_checksum) {
  bytes in = v2(cmd_local, 0x11, concat({inet_block(), crc_tlv()}));
  fill_crc32c(in, 28);
  expect_v2_complete(in, in.size());
  in[16] ^= 0x01;  // checksum no longer matches: still ignored
  expect_v2_complete(in, in.size());
}
END_TEST

START_TEST(local_of_maximum_length) {
  const bytes in = v2(cmd_local, 0x00, bytes(65535, 0x03));
  ck_assert_uint_eq(in.size(), 65551);
  expect_v2_complete(in, 65551);
}
END_TEST

// ---- §2.2: the command -----------------------------------------------------------

START_TEST(bad_command) {
  const uint8_t ver_cmd = static_cast<uint8_t>(0x20u | static_cast<unsigned>(_i));
  expect_v2_invalid(v2(ver_cmd, 0x11, inet_block()), defect::v2_bad_command);
  expect_v2_invalid(v2(ver_cmd, 0x00, {}), defect::v2_bad_command);
}
END_TEST

// §2.2: the version nibble must be 2. The signature starts no other
// protocol, so a signature followed by any other version is an invalid
// header (dropped), decided from the 13th byte, through either entry point.
START_TEST(version_other_than_2) {
  const unsigned version = static_cast<unsigned>(_i);
  if (version == 2) return;
  const uint8_t ver_cmd = static_cast<uint8_t>(version << 4 | 0x1u);
  const bytes in = v2(ver_cmd, 0x11, inet_block());
  for (size_t n = 13; n <= in.size(); ++n) {
    const parsed direct = parse_guarded(in.data(), n, accept_v1_v2, entry::v2);
    expect_invalid(direct, defect::v2_bad_version, printable(in));
    const parsed detected = parse_guarded(in.data(), n, accept_v1_v2);
    expect_invalid(detected, defect::v2_bad_version, printable(in));
  }
  // Only the signature so far: the version is still to come.
  const parsed twelve = parse_guarded(in.data(), 12, accept_v1_v2);
  expect_status(twelve, parse_status::need_more, printable(in));
}
END_TEST

// ---- §2.2: the family/transport byte --------------------------------------------

namespace {

bool valid_family(uint8_t fam) {
  switch (fam) {
    case 0x00: case 0x11: case 0x12: case 0x21: case 0x22: case 0x31: case 0x32:
      return true;
    default:
      return false;
  }
}

size_t block_length(uint8_t fam) {
  switch (fam >> 4) {
    case 1: return 12;
    case 2: return 36;
    case 3: return 216;
    default: return 0;
  }
}

}  // namespace

START_TEST(every_family_byte) {
  const uint8_t fam = static_cast<uint8_t>(_i);
  if (valid_family(fam)) {
    // Its own address block, and 216 zero bytes (zero-length TLVs after the
    // block, for INET/INET6).
    expect_v2_complete(v2(cmd_proxy, fam, bytes(block_length(fam), 0)),
                       16 + block_length(fam));
    expect_v2_complete(v2(cmd_proxy, fam, bytes(216, 0)), 232);
  } else {
    expect_v2_invalid(v2(cmd_proxy, fam, bytes(216, 0)), defect::v2_bad_family);
    expect_v2_invalid(v2(cmd_proxy, fam, {}), defect::v2_bad_family);
    expect_v2_invalid(v2(cmd_proxy, fam, inet_block()), defect::v2_bad_family);
  }
}
END_TEST

// ---- §2.2: the length --------------------------------------------------------------

START_TEST(every_prefix_needs_more) {
  expect_prefixes_need_more(v2(cmd_proxy, 0x11, inet_block()));
  expect_prefixes_need_more(inet_with(some_tlvs));
  expect_prefixes_need_more(v2(cmd_proxy, 0x21, inet6_block()));
  expect_prefixes_need_more(v2(cmd_proxy, 0x31, unix_block()));
  expect_prefixes_need_more(v2(cmd_proxy, 0x00, {1, 2, 3}));
  expect_prefixes_need_more(v2(cmd_local, 0x00, {}));
  expect_prefixes_need_more(v2(cmd_local, 0x77, {0x03, 0x00}));
  expect_prefixes_need_more(inet_with_crc({}, {}));
}
END_TEST

struct short_case {
  uint8_t fam;
  size_t len;
};

const short_case short_cases[] = {
    {0x11, 0},  {0x11, 1},   {0x11, 4},   {0x11, 8},   {0x11, 11},  {0x12, 11},
    {0x21, 0},  {0x21, 12},  {0x21, 35},  {0x22, 35},  {0x31, 0},   {0x31, 36},
    {0x31, 215}, {0x32, 215},
};

START_TEST(length_too_short) {
  const short_case &c = short_cases[_i];
  const bytes in = v2(cmd_proxy, c.fam, bytes(c.len, 0));
  expect_v2_invalid(in, defect::v2_length_too_short);
}
END_TEST

// Decided from the 16 fixed bytes, before the (short) block arrives.
START_TEST(length_too_short_from_fixed_bytes) {
  const short_case &c = short_cases[_i];
  const bytes in = v2(cmd_proxy, c.fam, bytes(c.len, 0));
  const parsed p = parse_guarded(in.data(), 16, accept_v2);
  expect_invalid(p, defect::v2_length_too_short, printable(in.data(), 16));
}
END_TEST

START_TEST(need_more_until_declared_length) {
  bytes in = v2(cmd_proxy, 0x11, concat({inet_block(), tlv(0xEE, bytes(500, 7))}));
  ck_assert_uint_eq(in.size(), 16 + 12 + 503);
  for (size_t n : {size_t{16}, size_t{27}, size_t{28}, size_t{31}, size_t{530}}) {
    const parsed p = parse_guarded(in.data(), n, accept_v2);
    ck_assert_msg(p.result.status == parse_status::need_more,
                  "%zu bytes: status %s", n, status_name(p.result.status));
  }
  expect_v2_complete(in, 531);
}
END_TEST

START_TEST(maximum_length) {
  const bytes in = inet_with(tlv(0xEE, bytes(65535 - 12 - 3, 0x5A)));
  ck_assert_uint_eq(in.size(), 65551);
  const parsed p = parse_all(in);
  expect_complete(p, 65551, "65551-byte header");
  ck_assert_int_eq(p.tlvs_offset, 28);
  ck_assert_uint_eq(p.h.tlvs_length, 65523);
  // With application data after it.
  const bytes more = concat({in, text("data")});
  expect_complete(parse_all(more), 65551, "65551-byte header and data");
}
END_TEST

START_TEST(maximum_length_with_checksum) {
  const bytes in = inet_with_crc({}, tlv(0x04, bytes(65535 - 12 - 7 - 3, 0)));
  ck_assert_uint_eq(in.size(), 65551);
  expect_complete(parse_all(in), 65551, "65551-byte header with CRC");
}
END_TEST

START_TEST(maximum_length_inet6_and_unix) {
  const bytes in6 = v2(cmd_proxy, 0x21,
                       concat({inet6_block(), tlv(0xEE, bytes(65535 - 36 - 3, 1))}));
  ck_assert_uint_eq(in6.size(), 65551);
  expect_complete(parse_all(in6), 65551, "65551-byte INET6 header");
  const bytes inu = v2(cmd_proxy, 0x31,
                       concat({unix_block(), tlv(0xEE, bytes(65535 - 216 - 3, 1))}));
  ck_assert_uint_eq(inu.size(), 65551);
  expect_complete(parse_all(inu), 65551, "65551-byte UNIX header");
}
END_TEST

// ---- §2.2: TLVs --------------------------------------------------------------------

START_TEST(known_and_unknown_tlvs_are_skipped) {
  const bytes in = inet_with(some_tlvs);
  guarded g(in);
  proxyproto::header h;
  const auto r = proxyproto::parse_header(g.data(), g.size(), accept_v2, &h);
  ck_assert_msg(r.status == parse_status::complete, "status %s (%s)",
                status_name(r.status), defect_id(r.why));
  ck_assert_uint_eq(r.length, in.size());
  ck_assert_ptr_eq(h.tlvs, g.data() + 28);
  ck_assert_uint_eq(h.tlvs_length, some_tlvs.size());
  ck_assert_mem_eq(h.tlvs, some_tlvs.data(), some_tlvs.size());
  ck_assert_uint_eq(h.source.port, 0x1234);
}
END_TEST

START_TEST(tlvs_after_inet6_and_unix) {
  const bytes in6 = v2(cmd_proxy, 0x21, concat({inet6_block(), some_tlvs}));
  const parsed p6 = parse_all(in6);
  expect_complete(p6, in6.size(), printable(in6));
  ck_assert_int_eq(p6.tlvs_offset, 52);
  ck_assert_uint_eq(p6.h.tlvs_length, some_tlvs.size());
  const bytes inu = v2(cmd_proxy, 0x32, concat({unix_block(), some_tlvs}));
  const parsed pu = parse_all(inu);
  expect_complete(pu, inu.size(), printable(inu));
  ck_assert_int_eq(pu.tlvs_offset, 232);
  ck_assert_uint_eq(pu.h.tlvs_length, some_tlvs.size());
}
END_TEST

const bytes truncated_tails[] = {
    {0x04},                          // 1 leftover byte
    {0x04, 0x00},                    // 2 leftover bytes
    {0x04, 0x00, 0x01},              // header, value missing
    {0xEE, 0x00, 0x0A, 1, 2, 3, 4, 5, 6, 7, 8, 9},  // one value byte short
    {0x01, 0xFF, 0xFF, 'h', '2'},    // length far beyond the end
};

START_TEST(tlv_truncated) {
  const bytes &tail = truncated_tails[_i];
  expect_v2_invalid(inet_with(tail), defect::v2_tlv_truncated);
  expect_v2_invalid(inet_with(concat({some_tlvs, tail})), defect::v2_tlv_truncated);
  expect_v2_invalid(v2(cmd_proxy, 0x12, concat({inet_block(), tail})),
                    defect::v2_tlv_truncated);
  expect_v2_invalid(v2(cmd_proxy, 0x21, concat({inet6_block(), tail})),
                    defect::v2_tlv_truncated);
  expect_v2_invalid(v2(cmd_proxy, 0x22, concat({inet6_block(), tail})),
                    defect::v2_tlv_truncated);
  expect_v2_invalid(v2(cmd_proxy, 0x31, concat({unix_block(), tail})),
                    defect::v2_tlv_truncated);
  expect_v2_invalid(v2(cmd_proxy, 0x32, concat({unix_block(), tail})),
                    defect::v2_tlv_truncated);
}
END_TEST

// ---- §2.2.3: CRC32C -----------------------------------------------------------------

START_TEST(checksum_ok) {
  expect_v2_complete(inet_with_crc({}, {}), 35);
  expect_v2_complete(inet_with_crc(some_tlvs, {}), 35 + some_tlvs.size());
  expect_v2_complete(inet_with_crc({}, some_tlvs), 35 + some_tlvs.size());
  expect_v2_complete(inet_with_crc(tlv(0x01, text("h2")), tlv(0x05, text("id"))),
                     35 + 5 + 5);
  bytes in6 = v2(cmd_proxy, 0x21, concat({inet6_block(), some_tlvs, crc_tlv()}));
  fill_crc32c(in6, 52 + some_tlvs.size());
  expect_v2_complete(in6, in6.size());
  bytes inu = v2(cmd_proxy, 0x31, concat({unix_block(), crc_tlv()}));
  fill_crc32c(inu, 232);
  expect_v2_complete(inu, inu.size());
}
END_TEST

// A header that verifies, then one byte changed anywhere the checksum
// covers without changing the structure: addresses, ports, TLV values, the
// checksum value itself.
START_TEST(checksum_mismatch_on_any_change) {
  const bytes good = inet_with_crc(tlv(0x01, text("h2")), tlv(0xEE, text("xyz")));
  // 16..27 addresses, 31..32 ALPN value, 36..39 checksum, 43..45 0xEE value.
  const size_t positions[] = {16, 19, 20, 23, 24, 25, 26, 27, 31, 32,
                              36, 37, 38, 39, 43, 44, 45};
  expect_v2_complete(good, good.size());
  for (size_t pos : positions) {
    for (unsigned bit = 0; bit < 8; ++bit) {
      bytes bad = good;
      bad[pos] = static_cast<uint8_t>(bad[pos] ^ (1u << bit));
      const parsed p = parse_all(bad);
      ck_assert_msg(p.result.status == parse_status::invalid &&
                        p.result.why == defect::v2_crc32c_mismatch,
                    "byte %zu bit %u flipped: %s (%s), expected crc mismatch",
                    pos, bit, status_name(p.result.status),
                    defect_id(p.result.why));
    }
  }
}
END_TEST

START_TEST(checksum_is_big_endian) {
  bytes in = inet_with_crc({}, {});
  const size_t v = 16 + 12 + 3;
  ck_assert_msg(in[v] != in[v + 3] || in[v + 1] != in[v + 2],
                "palindromic checksum: choose other test data");
  std::swap(in[v], in[v + 3]);
  std::swap(in[v + 1], in[v + 2]);
  expect_v2_invalid(in, defect::v2_crc32c_mismatch);
}
END_TEST

START_TEST(checksum_zero_is_not_skipped) {
  bytes in = inet_with_crc({}, {});
  const size_t v = 16 + 12 + 3;
  ck_assert_msg(in[v] | in[v + 1] | in[v + 2] | in[v + 3], "zero checksum");
  for (size_t i = 0; i < 4; ++i) in[v + i] = 0;
  expect_v2_invalid(in, defect::v2_crc32c_mismatch);
}
END_TEST

START_TEST(checksum_bad_length) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{3}, size_t{5}, size_t{8}}) {
    expect_v2_invalid(inet_with(tlv(0x03, bytes(n, 0))),
                      defect::v2_crc32c_bad_length);
    expect_v2_invalid(inet_with(concat({some_tlvs, tlv(0x03, bytes(n, 0))})),
                      defect::v2_crc32c_bad_length);
  }
}
END_TEST

START_TEST(checksum_repeated) {
  // Two checksum TLVs, both holding the checksum computed with both zeroed.
  bytes in = inet_with(concat({crc_tlv(), tlv(0x01, text("h2")), crc_tlv()}));
  fill_crc32c(in, 28);
  for (size_t i = 0; i < 4; ++i) in[28 + 7 + 5 + 3 + i] = in[28 + 3 + i];
  expect_v2_invalid(in, defect::v2_crc32c_repeated);
  // Each one filled for itself.
  bytes other = inet_with(concat({crc_tlv(), crc_tlv()}));
  fill_crc32c(other, 35);
  fill_crc32c(other, 28);
  expect_v2_invalid(other, defect::v2_crc32c_repeated);
}
END_TEST

// AF_UNSPEC's bytes are opaque: a checksum TLV in them is not one.
START_TEST(checksum_in_unspec_is_ignored) {
  bytes in = v2(cmd_proxy, 0x00, concat({crc_tlv()}));
  in[19] = 0x12;
  expect_v2_complete(in, 23);
}
END_TEST

// ---- §2.2.5: UNIQUE_ID ---------------------------------------------------------------

START_TEST(unique_id_lengths) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{127}, size_t{128}})
    expect_v2_complete(inet_with(tlv(0x05, bytes(n, 'u'))), 28 + 3 + n);
  for (size_t n : {size_t{129}, size_t{200}, size_t{65000}})
    expect_v2_invalid(inet_with(tlv(0x05, bytes(n, 'u'))),
                      defect::v2_unique_id_too_long);
  expect_v2_invalid(inet_with(concat({some_tlvs, tlv(0x05, bytes(129, 'u'))})),
                    defect::v2_unique_id_too_long);
}
END_TEST

// ---- §2.2.6: SSL ---------------------------------------------------------------------

START_TEST(ssl_shorter_than_fixed_part) {
  const size_t n = static_cast<size_t>(_i);
  expect_v2_invalid(inet_with(tlv(0x20, bytes(n, 0))), defect::v2_ssl_truncated);
  expect_v2_invalid(inet_with(concat({tlv(0x20, bytes(n, 0)), some_tlvs})),
                    defect::v2_ssl_truncated);
}
END_TEST

START_TEST(ssl_valid) {
  const bytes fixed = {0x07, 0x00, 0x00, 0x00, 0x00};
  expect_v2_complete(inet_with(tlv(0x20, fixed)), 28 + 8);
  const bytes subs = concat({
      tlv(0x21, text("TLSv1.3")),
      tlv(0x22, text("client.example.com")),
      tlv(0x23, text("TLS_AES_128_GCM_SHA256")),
      tlv(0x24, text("SHA256")),
      tlv(0x25, text("RSA2048")),
      tlv(0x2F, {}),  // unknown sub-type
  });
  const bytes ssl = tlv(0x20, concat({fixed, subs}));
  expect_v2_complete(inet_with(ssl), 28 + ssl.size());
  expect_v2_complete(inet_with(concat({some_tlvs, ssl, some_tlvs})),
                     28 + ssl.size() + 2 * some_tlvs.size());
  // A verified SSL header with a checksum.
  expect_v2_complete(inet_with_crc(ssl, {}), 35 + ssl.size());
}
END_TEST

START_TEST(ssl_sub_tlv_overrun) {
  const bytes fixed = {0x01, 0x00, 0x00, 0x00, 0x00};
  const bytes bad_subs[] = {
      {0x21},
      {0x21, 0x00},
      {0x21, 0x00, 0x01},
      {0x21, 0x00, 0x08, 'T', 'L', 'S', 'v', '1', '.', '3'},
      concat({tlv(0x21, text("TLSv1.3")), {0x22, 0x01, 0x00, 'x'}}),
  };
  for (const bytes &subs : bad_subs) {
    // The SSL TLV fits in the header; its sub-TLVs do not fit in it.
    const bytes ssl = tlv(0x20, concat({fixed, subs}));
    expect_v2_invalid(inet_with(ssl), defect::v2_ssl_truncated);
    expect_v2_invalid(inet_with(concat({ssl, tlv(0x01, text("h2"))})),
                      defect::v2_ssl_truncated);
  }
}
END_TEST

// The SSL TLV itself running past the header is a truncated TLV.
START_TEST(ssl_tlv_past_end) {
  const bytes in = inet_with({0x20, 0x00, 0x10, 0x01, 0, 0, 0, 0});
  expect_v2_invalid(in, defect::v2_tlv_truncated);
}
END_TEST

namespace {

// parse_v2 reads the usual header (PROXY, TCP over IPv4 or IPv6, no TLV)
// without the careful reading; both must give the same answer. Checked on
// the two usual headers with every value of each of their four bytes after
// the signature, on every prefix of them, and with bytes after the block
// (a TLV, a checksum), from a buffer that ends at an unmapped page.
// The accept path reads the usual header's source straight into a
// sockaddr (usual_v2_stream_source): it must be what endpoint_to_sockaddr
// makes of the careful reading's source, on either kind of listener, and
// exactly when the careful reading finds a usual header (PROXY, TCP over
// IPv4 or IPv6, no TLV).
void expect_source_as_careful(const bytes &in, size_t n, const char *what, int value) {
  guarded g(in.data(), n);
  proxyproto::header careful;
  const proxyproto::parse_result b = proxyproto::parse_v2_careful(g.data(), n, &careful);
  const bool usual = b.status == parse_status::complete &&
                     careful.cmd == proxyproto::command::proxy &&
                     careful.proto == proxyproto::transport::stream &&
                     (careful.family == address_family::inet ||
                      careful.family == address_family::inet6) &&
                     careful.tlvs_length == 0;
  for (int listener_family : {AF_INET, AF_INET6}) {
    sockaddr_storage got, want;
    std::memset(&got, 0x5A, sizeof got);
    socklen_t got_len = 0;
    const size_t length = proxyproto::usual_v2_stream_source(g.data(), n, listener_family,
                                                             &got, &got_len);
    ck_assert_msg(length == (usual ? b.length : 0), "%s %d, %zu bytes, family %d: length %zu",
                  what, value, n, listener_family, length);
    if (!usual) continue;
    const socklen_t want_len = proxyproto::endpoint_to_sockaddr(
        careful.family, careful.source, listener_family, &want);
    ck_assert_uint_eq(got_len, want_len);
    ck_assert_msg(std::memcmp(&got, &want, want_len) == 0,
                  "%s %d, %zu bytes, family %d: source differs", what, value, n,
                  listener_family);
  }
}

void expect_same_as_careful(const bytes &in, const char *what, int value) {
  for (size_t n = 0; n <= in.size(); ++n) {
    guarded g(in.data(), n);
    proxyproto::header quick, careful;
    std::memset(&quick, 0x5A, sizeof quick);
    std::memset(&careful, 0xA5, sizeof careful);
    const proxyproto::parse_result a = proxyproto::parse_v2(g.data(), n, &quick);
    const proxyproto::parse_result b = proxyproto::parse_v2_careful(g.data(), n, &careful);
    ck_assert_msg(a.status == b.status && a.why == b.why && a.length == b.length,
                  "%s %d, %zu bytes: %s/%s/%zu, careful %s/%s/%zu", what, value, n,
                  status_name(a.status), defect_id(a.why), a.length,
                  status_name(b.status), defect_id(b.why), b.length);
    if (a.status != parse_status::complete) continue;
    ck_assert_msg(quick.version == careful.version && quick.cmd == careful.cmd &&
                      quick.family == careful.family && quick.proto == careful.proto &&
                      quick.length == careful.length &&
                      quick.tlvs_length == careful.tlvs_length,
                  "%s %d, %zu bytes: fields differ", what, value, n);
    ck_assert_msg(std::memcmp(&quick.source, &careful.source, sizeof quick.source) == 0 &&
                      std::memcmp(&quick.destination, &careful.destination,
                                  sizeof quick.destination) == 0,
                  "%s %d, %zu bytes: endpoints differ", what, value, n);
    if (quick.family != address_family::unspec)
      ck_assert_msg(quick.tlvs == careful.tlvs, "%s %d: TLVs differ", what, value);
  }
  for (size_t n = 0; n <= in.size(); ++n) expect_source_as_careful(in, n, what, value);
}

bytes usual_header(bool six) {
  bytes block;
  for (size_t i = 0; i < (six ? 36u : 12u); ++i)
    block.push_back(static_cast<uint8_t>(0xC0 + i));
  return v2(cmd_proxy, six ? 0x21 : 0x11, block);
}

}  // namespace

START_TEST(usual_header_read_as_carefully) {
  for (bool six : {false, true}) {
    const bytes usual = usual_header(six);
    expect_same_as_careful(concat({usual, text("GET / HTTP/1.0\r\n")}), "usual", six);
    for (size_t at = 12; at < 16; ++at) {
      for (int value = 0; value < 256; ++value) {
        bytes in = concat({usual, text("payload")});
        in[at] = static_cast<uint8_t>(value);
        expect_same_as_careful(in, at == 12 ? "ver_cmd" : at == 13 ? "family" : "length",
                               value);
      }
    }
  }
}
END_TEST

START_TEST(usual_header_with_tlvs_read_as_carefully) {
  for (bool six : {false, true}) {
    bytes block = usual_header(six);
    block.erase(block.begin(), block.begin() + 16);
    // A NOOP TLV, then a checksum that is right, then one that is wrong.
    const bytes noop = concat({block, tlv(0x04, bytes{1, 2, 3})});
    expect_same_as_careful(v2(cmd_proxy, six ? 0x21 : 0x11, noop), "noop", six);
    bytes with_crc = v2(cmd_proxy, six ? 0x21 : 0x11, concat({block, tlv(0x03, bytes(4, 0))}));
    fill_crc32c(with_crc, 16 + block.size());
    expect_same_as_careful(with_crc, "crc32c", six);
    with_crc.back() ^= 1;
    expect_same_as_careful(with_crc, "bad crc32c", six);
  }
}
END_TEST

namespace {

}  // namespace

Suite *make_parse_v2_suite(void) {
  Suite *s = suite_create("parse_v2");

  TCase *tc = tcase_create("addresses");
  tcase_add_test(tc, inet_stream);
  tcase_add_test(tc, inet_dgram);
  tcase_add_test(tc, ports_are_big_endian);
  tcase_add_test(tc, inet6_stream);
  tcase_add_test(tc, inet6_dgram);
  tcase_add_test(tc, unix_stream);
  tcase_add_test(tc, unix_dgram);
  tcase_add_test(tc, unspec_proxy_empty);
  tcase_add_test(tc, unspec_proxy_opaque_bytes);
  tcase_add_test(tc, application_data_is_not_consumed);
  suite_add_tcase(s, tc);

  tc = tcase_create("local");
  tcase_add_test(tc, local_empty);
  tcase_add_test(tc, local_with_addresses);
  tcase_add_loop_test(tc, local_ignores_family_and_block, 0, 256);
  tcase_add_test(tc, local_with_wrong_checksum);
  tcase_add_test(tc, local_of_maximum_length);
  suite_add_tcase(s, tc);

  tc = tcase_create("command");
  tcase_add_loop_test(tc, bad_command, 2, 16);
  tcase_add_loop_test(tc, version_other_than_2, 0, 16);
  suite_add_tcase(s, tc);

  tc = tcase_create("family");
  tcase_add_loop_test(tc, every_family_byte, 0, 256);
  suite_add_tcase(s, tc);

  const int n_short = static_cast<int>(sizeof short_cases / sizeof short_cases[0]);
  tc = tcase_create("length");
  tcase_add_test(tc, every_prefix_needs_more);
  tcase_add_loop_test(tc, length_too_short, 0, n_short);
  tcase_add_loop_test(tc, length_too_short_from_fixed_bytes, 0, n_short);
  tcase_add_test(tc, need_more_until_declared_length);
  tcase_add_test(tc, maximum_length);
  tcase_add_test(tc, maximum_length_with_checksum);
  tcase_add_test(tc, maximum_length_inet6_and_unix);
  suite_add_tcase(s, tc);

  tc = tcase_create("tlv");
  tcase_add_test(tc, known_and_unknown_tlvs_are_skipped);
  tcase_add_test(tc, tlvs_after_inet6_and_unix);
  tcase_add_loop_test(
      tc, tlv_truncated, 0,
      static_cast<int>(sizeof truncated_tails / sizeof truncated_tails[0]));
  suite_add_tcase(s, tc);

  tc = tcase_create("usual_header");
  tcase_add_test(tc, usual_header_read_as_carefully);
  tcase_add_test(tc, usual_header_with_tlvs_read_as_carefully);
  suite_add_tcase(s, tc);

  tc = tcase_create("crc32c");
  tcase_add_test(tc, checksum_ok);
  tcase_add_test(tc, checksum_mismatch_on_any_change);
  tcase_add_test(tc, checksum_is_big_endian);
  tcase_add_test(tc, checksum_zero_is_not_skipped);
  tcase_add_test(tc, checksum_bad_length);
  tcase_add_test(tc, checksum_repeated);
  tcase_add_test(tc, checksum_in_unspec_is_ignored);
  suite_add_tcase(s, tc);

  tc = tcase_create("unique_id");
  tcase_add_test(tc, unique_id_lengths);
  suite_add_tcase(s, tc);

  tc = tcase_create("ssl");
  tcase_add_loop_test(tc, ssl_shorter_than_fixed_part, 0, 5);
  tcase_add_test(tc, ssl_valid);
  tcase_add_test(tc, ssl_sub_tlv_overrun);
  tcase_add_test(tc, ssl_tlv_past_end);
  suite_add_tcase(s, tc);
  return s;
}
