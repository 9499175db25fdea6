// accept/header_reader: reading a header off a real socket without ever
// blocking or taking a byte too many. inspect_header on AF_UNIX socket
// pairs and loopback TCP: complete (consumed or only looked at), split in
// pieces, not a header, invalid, hang-up inside and before a header, large
// v2 headers, a socket error; and the fate_of table.
#include <arpa/inet.h>
#include <check.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "accept/header_reader.h"
#include "core/proxy_header.h"
#include "records/kept_headers.h"
#include "settings/header_features.h"
#include "settings/server_settings.h"
#include "suites.h"

using proxyproto::connection_fate;
using proxyproto::fate_of;
using proxyproto::header_state;
using proxyproto::header_verdict;
using proxyproto::inspect_header;
using proxyproto::server_config;
using pp_engine::peek_all;
using pp_engine::read_some;
using pp_engine::send_all;

namespace {

server_config config(unsigned versions = proxyproto::accept_v1_v2) {
  server_config c{};
  c.versions = versions;
  c.timeout_ms = proxyproto::default_timeout_ms;
  c.active = true;
  return c;
}

const std::string v1 = "PROXY TCP4 192.0.2.1 198.51.100.2 4321 80\r\n";
const std::string payload = "GET / HTTP/1.0\r\n\r\n";

// A v2 PROXY TCP4 header from 192.0.2.1:4321 to 198.51.100.2:80, with a
// NOOP TLV of `tlv_bytes` value bytes when tlv_bytes is not 0.
std::string v2(size_t tlv_bytes = 0) {
  std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
  h += '\x21';
  h += '\x11';
  const size_t len = 12 + (tlv_bytes != 0 ? 3 + tlv_bytes : 0);
  h += static_cast<char>(len >> 8);
  h += static_cast<char>(len & 0xFF);
  h += std::string("\xC0\x00\x02\x01" "\xC6\x33\x64\x02" "\x10\xE1" "\x00\x50", 12);
  if (tlv_bytes != 0) {
    h += '\x04';  // PP2_TYPE_NOOP
    h += static_cast<char>(tlv_bytes >> 8);
    h += static_cast<char>(tlv_bytes & 0xFF);
    for (size_t i = 0; i < tlv_bytes; ++i) h += static_cast<char>('a' + i % 26);
  }
  return h;
}

// A v2 LOCAL header (a health check): no address to report.
const std::string v2_local("\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00", 16);

void expect_source_ipv4(const header_verdict &v) {
  ck_assert(v.has_source);
  ck_assert_uint_eq(v.source_len, sizeof(sockaddr_in));
  const auto *sin = reinterpret_cast<const sockaddr_in *>(&v.source);
  ck_assert_int_eq(sin->sin_family, AF_INET);
  ck_assert_uint_eq(ntohs(sin->sin_port), 4321);
  char text[INET_ADDRSTRLEN];
  ck_assert_str_eq(inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text),
                   "192.0.2.1");
}

struct pair {
  int accepted;
  int peer;
};

// _i selects the kind of socket: 0 an AF_UNIX pair, 1 loopback TCP.
pair make_pair(int kind) {
  pair p;
  if (kind == 0) {
    int fds[2];
    pp_engine::unix_pair(fds);
    p.accepted = fds[0];
    p.peer = fds[1];
  } else {
    pp_engine::tcp_pair(&p.accepted, &p.peer, nullptr);
  }
  return p;
}

// Looks until the state is no longer need_more (bytes written on loopback
// TCP may show up a moment later, and a FIN after them); at most 2 s.
header_state settle(int fd, const server_config &c, bool consume,
                    header_verdict *v, int listener_family = AF_INET) {
  header_state s = header_state::need_more;
  for (int i = 0; i < 200; ++i) {
    s = inspect_header(fd, c, listener_family, consume, v);
    if (s != header_state::need_more) return s;
    usleep(10000);
  }
  return s;
}

// Looks until at least `want_seen` bytes are seen, for a header that is
// still incomplete; at most 2 s.
header_state settle_seen(int fd, const server_config &c, header_verdict *v,
                         size_t want_seen) {
  header_state s = header_state::need_more;
  for (int i = 0; i < 200; ++i) {
    s = inspect_header(fd, c, AF_INET, true, v);
    if (s != header_state::need_more || v->seen >= want_seen) return s;
    usleep(10000);
  }
  return s;
}

}  // namespace

START_TEST(complete_v1_is_consumed_exactly) {
  const pair p = make_pair(_i);
  send_all(p.peer, (v1 + payload).data(), v1.size() + payload.size());
  header_verdict v;
  ck_assert(settle(p.accepted, config(), true, &v) == header_state::complete);
  expect_source_ipv4(v);
  // The application's first read starts at its own first byte.
  ck_assert(read_some(p.accepted) == payload);
}
END_TEST

START_TEST(complete_v2_is_consumed_exactly) {
  const pair p = make_pair(_i);
  const std::string h = v2();
  send_all(p.peer, (h + payload).data(), h.size() + payload.size());
  header_verdict v;
  ck_assert(settle(p.accepted, config(), true, &v) == header_state::complete);
  expect_source_ipv4(v);
  ck_assert(read_some(p.accepted) == payload);
}
END_TEST

START_TEST(looking_removes_nothing) {
  const pair p = make_pair(_i);
  send_all(p.peer, (v1 + payload).data(), v1.size() + payload.size());
  header_verdict v;
  ck_assert(settle(p.accepted, config(), false, &v) == header_state::complete);
  ck_assert(!v.has_source);
  ck_assert(peek_all(p.accepted) == v1 + payload);
  // Asked again, with consume: now it goes.
  ck_assert(inspect_header(p.accepted, config(), AF_INET, true, &v) ==
            header_state::complete);
  expect_source_ipv4(v);
  ck_assert(peek_all(p.accepted) == payload);
}
END_TEST

// An IPv6 listener reports an IPv4 source IPv4-mapped (accept() on an
// AF_INET6 socket never returns AF_INET).
START_TEST(ipv4_source_on_an_ipv6_listener) {
  const pair p = make_pair(_i);
  send_all(p.peer, v1.data(), v1.size());
  header_verdict v;
  ck_assert(settle(p.accepted, config(), true, &v, AF_INET6) ==
            header_state::complete);
  ck_assert(v.has_source);
  ck_assert_uint_eq(v.source_len, sizeof(sockaddr_in6));
  const auto *sin6 = reinterpret_cast<const sockaddr_in6 *>(&v.source);
  ck_assert_int_eq(sin6->sin6_family, AF_INET6);
  char text[INET6_ADDRSTRLEN];
  ck_assert_str_eq(inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text),
                   "::ffff:192.0.2.1");
  ck_assert_uint_eq(ntohs(sin6->sin6_port), 4321);
}
END_TEST

// A header in pieces: need_more with the bytes seen so far, nothing
// consumed, until the last piece makes it complete.
START_TEST(split_header) {
  const pair p = make_pair(_i);
  header_verdict v;
  ck_assert(inspect_header(p.accepted, config(), AF_INET, true, &v) ==
            header_state::need_more);
  ck_assert_uint_eq(v.seen, 0);
  const std::string h = _i == 0 ? v1 : v2(40);
  size_t sent = 0;
  for (const size_t piece : {size_t{1}, size_t{5}, size_t{13}}) {
    send_all(p.peer, h.data() + sent, piece);
    sent += piece;
    ck_assert(settle_seen(p.accepted, config(), &v, sent) == header_state::need_more);
    ck_assert_uint_eq(v.seen, sent);
    ck_assert(peek_all(p.accepted) == h.substr(0, sent));
  }
  const std::string rest = h.substr(sent) + payload;
  send_all(p.peer, rest.data(), rest.size());
  ck_assert(settle(p.accepted, config(), true, &v) == header_state::complete);
  expect_source_ipv4(v);
  ck_assert(read_some(p.accepted) == payload);
}
END_TEST

START_TEST(not_a_header) {
  const pair p = make_pair(_i);
  send_all(p.peer, payload.data(), payload.size());
  header_verdict v;
  ck_assert(settle(p.accepted, config(), true, &v) == header_state::not_proxy);
  ck_assert(peek_all(p.accepted) == payload);
  // A v1 header when only v2 is enabled is data, not a header.
  const pair q = make_pair(_i);
  send_all(q.peer, v1.data(), v1.size());
  ck_assert(settle(q.accepted, config(proxyproto::accept_v2), true, &v) ==
            header_state::not_proxy);
  ck_assert(peek_all(q.accepted) == v1);
}
END_TEST

START_TEST(invalid_header) {
  const pair p = make_pair(_i);
  const std::string bad = "PROXY TCP4 192.0.2.256 198.51.100.2 4321 80\r\nxyz";
  send_all(p.peer, bad.data(), bad.size());
  header_verdict v;
  ck_assert(settle(p.accepted, config(), true, &v) == header_state::invalid);
  ck_assert(!v.has_source);
  ck_assert(peek_all(p.accepted) == bad);  // nothing consumed
}
END_TEST

START_TEST(hangup_inside_a_header) {
  const pair p = make_pair(_i);
  send_all(p.peer, v1.data(), 10);
  ck_assert_int_eq(shutdown(p.peer, SHUT_WR), 0);
  header_verdict v;
  ck_assert(settle(p.accepted, config(), true, &v) == header_state::hangup);
  ck_assert_uint_eq(v.seen, 10);
  ck_assert(peek_all(p.accepted) == v1.substr(0, 10));
}
END_TEST

START_TEST(hangup_before_anything) {
  const pair p = make_pair(_i);
  close(p.peer);
  header_verdict v;
  ck_assert(settle(p.accepted, config(), true, &v) == header_state::hangup);
  ck_assert_uint_eq(v.seen, 0);
}
END_TEST

// Larger than the reader's stack buffer, up to the protocol's largest.
START_TEST(large_v2_headers) {
  for (const size_t tlv : {size_t{300}, size_t{4000}, size_t{65535 - 12 - 3}}) {
    const pair p = make_pair(_i);
    const std::string h = v2(tlv);
    const std::string all = h + payload;
    send_all(p.peer, all.data(), all.size());
    header_verdict v;
    ck_assert_msg(settle(p.accepted, config(), true, &v) ==
                      header_state::complete,
                  "header of %zu bytes", h.size());
    expect_source_ipv4(v);
    ck_assert(read_some(p.accepted) == payload);
    close(p.accepted);
    close(p.peer);
  }
}
END_TEST

START_TEST(local_command_has_no_source) {
  const pair p = make_pair(_i);
  send_all(p.peer, (v2_local + payload).data(), v2_local.size() + payload.size());
  header_verdict v;
  ck_assert(settle(p.accepted, config(), true, &v) == header_state::complete);
  ck_assert(!v.has_source);
  ck_assert(fate_of(header_state::complete, v, config(), false) ==
            connection_fate::real_peer);
  ck_assert(read_some(p.accepted) == payload);
}
END_TEST

// With keeping on, the consumed header is what proxyproto_get_header()
// will return for the descriptor.
START_TEST(consumed_header_is_kept) {
  proxyproto::set_keeping_headers(true);
  const pair p = make_pair(_i);
  const std::string h = v2(20);
  send_all(p.peer, (h + payload).data(), h.size() + payload.size());
  header_verdict v;
  ck_assert(settle(p.accepted, config(), true, &v) == header_state::complete);
  char kept[512];
  ck_assert_int_eq(proxyproto::kept_headers::copy(p.accepted, kept, sizeof kept),
                   static_cast<ssize_t>(h.size()));
  ck_assert(std::string(kept, h.size()) == h);
}
END_TEST

START_TEST(not_a_socket_is_an_error) {
  int fds[2];
  ck_assert_int_eq(pipe(fds), 0);
  ck_assert_int_eq(write(fds[1], v1.data(), v1.size()), static_cast<ssize_t>(v1.size()));
  header_verdict v;
  ck_assert(inspect_header(fds[0], config(), AF_INET, true, &v) ==
            header_state::error);
  ck_assert(inspect_header(-1, config(), AF_INET, true, &v) == header_state::error);
}
END_TEST

// ---- fate_of: every state, with and without a byte seen, deadline and
// must-use -------------------------------------------------------------------

struct fate_row {
  header_state state;
  bool has_source;
  size_t seen;
  bool deadline_passed;
  bool must_use;
  connection_fate want;
};

constexpr fate_row fate_rows[] = {
    // A header was consumed: its address, or the real peer without one.
    {header_state::complete, true, 60, false, false, connection_fate::proxied},
    {header_state::complete, true, 60, true, true, connection_fate::proxied},
    {header_state::complete, false, 16, false, false, connection_fate::real_peer},
    {header_state::complete, false, 16, false, true, connection_fate::real_peer},
    // No header: passed through, unless one is required.
    {header_state::not_proxy, false, 5, false, false, connection_fate::real_peer},
    {header_state::not_proxy, false, 5, true, false, connection_fate::real_peer},
    {header_state::not_proxy, false, 5, false, true, connection_fate::drop},
    // A broken header or a failed socket: always dropped.
    {header_state::invalid, false, 20, false, false, connection_fate::drop},
    {header_state::invalid, false, 20, true, true, connection_fate::drop},
    {header_state::error, false, 0, false, false, connection_fate::drop},
    {header_state::error, false, 0, false, true, connection_fate::drop},
    // Hang-up inside a header is dropped; before any byte it is no header.
    {header_state::hangup, false, 3, false, false, connection_fate::drop},
    {header_state::hangup, false, 3, false, true, connection_fate::drop},
    {header_state::hangup, false, 0, false, false, connection_fate::real_peer},
    {header_state::hangup, false, 0, false, true, connection_fate::drop},
    // Incomplete: wait while there is time; then a partial header is
    // dropped and silence counts as no header.
    {header_state::need_more, false, 0, false, false, connection_fate::wait},
    {header_state::need_more, false, 7, false, true, connection_fate::wait},
    {header_state::need_more, false, 7, true, false, connection_fate::drop},
    {header_state::need_more, false, 7, true, true, connection_fate::drop},
    {header_state::need_more, false, 0, true, false, connection_fate::real_peer},
    {header_state::need_more, false, 0, true, true, connection_fate::drop},
};

START_TEST(fate_table) {
  const fate_row &row = fate_rows[_i];
  server_config c = config();
  c.must_use_header = row.must_use;
  header_verdict v;
  v.has_source = row.has_source;
  v.seen = row.seen;
  ck_assert_msg(fate_of(row.state, v, c, row.deadline_passed) == row.want,
                "row %d: got fate %d, want %d", _i,
                static_cast<int>(fate_of(row.state, v, c, row.deadline_passed)),
                static_cast<int>(row.want));
}
END_TEST

Suite *make_header_reader_suite(void) {
  Suite *s = suite_create("header_reader");
  TCase *tc = tcase_create("inspect_header");
  // Each on an AF_UNIX pair (_i = 0) and on loopback TCP (_i = 1).
  tcase_add_loop_test(tc, complete_v1_is_consumed_exactly, 0, 2);
  tcase_add_loop_test(tc, complete_v2_is_consumed_exactly, 0, 2);
  tcase_add_loop_test(tc, looking_removes_nothing, 0, 2);
  tcase_add_loop_test(tc, ipv4_source_on_an_ipv6_listener, 0, 2);
  tcase_add_loop_test(tc, split_header, 0, 2);
  tcase_add_loop_test(tc, not_a_header, 0, 2);
  tcase_add_loop_test(tc, invalid_header, 0, 2);
  tcase_add_loop_test(tc, hangup_inside_a_header, 0, 2);
  tcase_add_loop_test(tc, hangup_before_anything, 0, 2);
  tcase_add_loop_test(tc, large_v2_headers, 0, 2);
  tcase_add_loop_test(tc, local_command_has_no_source, 0, 2);
  tcase_add_loop_test(tc, consumed_header_is_kept, 0, 2);
  tcase_add_test(tc, not_a_socket_is_an_error);
  suite_add_tcase(s, tc);
  tc = tcase_create("fate_of");
  tcase_add_loop_test(tc, fate_table, 0,
                      static_cast<int>(sizeof fate_rows / sizeof fate_rows[0]));
  suite_add_tcase(s, tc);
  return s;
}
