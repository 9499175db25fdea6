// The header reader (lib/accept/header_reader.cc) against a peer that acts
// between two of its looks, over real loopback TCP connections.
//
// A race that a black-box test meets only now and then is made certain
// here: this program defines __poll(), so the reader's own calls to it land
// in poll_hook below, which can let the peer act at exactly that moment.
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#include "accept/header_reader.h"
#include "core/header_writer.h"
#include "settings/server_settings.h"

namespace {

using bytes = std::vector<uint8_t>;

// Run once, at the reader's next __poll(), before the real poll.
std::function<void()> poll_hook;

// poll() through ppoll(): SYS_poll does not exist on every architecture
// (arm64, riscv64, loongarch64 have only ppoll), and the C library's ppoll
// is neither __poll nor interposed in this program.
int real_poll(pollfd *fds, nfds_t n, int timeout) {
  timespec ts{timeout / 1000, (timeout % 1000) * 1000000L};
  return ppoll(fds, n, timeout < 0 ? nullptr : &ts, nullptr);
}

}  // namespace

// The reader calls the C library's __poll (poll itself being the library's
// interposer): this program's definition takes its place.
extern "C" int __poll(pollfd *fds, nfds_t n, int timeout);
extern "C" int __poll(pollfd *fds, nfds_t n, int timeout) {
  if (poll_hook) {
    const std::function<void()> hook = poll_hook;
    poll_hook = nullptr;
    hook();
  }
  return real_poll(fds, n, timeout);
}

namespace {

struct connection {
  int client = -1;
  int server = -1;
};

connection connect_pair() {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(listener, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ck_assert_int_eq(bind(listener, reinterpret_cast<sockaddr *>(&a), sizeof a), 0);
  ck_assert_int_eq(listen(listener, 1), 0);
  ck_assert_int_eq(getsockname(listener, reinterpret_cast<sockaddr *>(&a), &len), 0);
  connection c;
  c.client = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_eq(connect(c.client, reinterpret_cast<sockaddr *>(&a), sizeof a), 0);
  c.server = accept(listener, nullptr, nullptr);
  ck_assert_int_ge(c.server, 0);
  close(listener);
  return c;
}

void send_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    const ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
    ck_assert_int_gt(k, 0);
    p += k;
    n -= static_cast<size_t>(k);
  }
}

// Waits (bounded) until `fd` has `want` bytes queued, and its peer's FIN
// too when `fin`.
void wait_queued(int fd, size_t want, bool fin) {
  for (int i = 0; i < 5000; ++i) {
    int queued = 0;
    ioctl(fd, FIONREAD, &queued);
    pollfd p{fd, POLLRDHUP, 0};
    const bool hung_up = real_poll(&p, 1, 0) > 0;
    if (static_cast<size_t>(queued) >= want && (!fin || hung_up)) return;
    usleep(1000);
  }
  ck_abort_msg("%zu bytes%s never arrived", want, fin ? " and a FIN" : "");
}

// The largest v2 header (16 + 65535 bytes) with one custom TLV.
bytes largest_header() {
  proxyproto::header_fields f{};
  f.cmd = proxyproto::command::proxy;
  f.family = proxyproto::address_family::inet;
  const uint8_t src[4] = {192, 0, 2, 7}, dst[4] = {127, 0, 0, 1};
  std::memcpy(f.source.address, src, 4);
  std::memcpy(f.destination.address, dst, 4);
  f.source.port = 4321;
  f.destination.port = 80;
  bytes tlv = {0xE0, 0xFF, 0xF0};
  tlv.resize(3 + 0xFFF0, 0x5A);
  f.tlvs = tlv.data();
  f.tlvs_length = tlv.size();
  bytes out(proxyproto::v2_max_length);
  out.resize(proxyproto::write_v2(f, out.data(), out.size()));
  ck_assert_uint_eq(out.size(), proxyproto::v2_max_length);
  return out;
}

proxyproto::server_config reader_config() {
  proxyproto::server_config config{};
  config.versions = 3;
  config.timeout_ms = 3000;
  config.active = true;
  return config;
}

const char payload[] = "GET / HTTP/1.0\r\n\r\n";

// The peer sends the first part of a big header; the rest, the request and
// its FIN arrive between the reader's peek and its look for a hang-up. The
// header is complete and must be taken, the request left for the
// application.
START_TEST(complete_header_with_fin_during_the_look_is_taken) {
  const bytes h = largest_header();
  connection c = connect_pair();
  constexpr size_t first = 1000;
  send_all(c.client, h.data(), first);
  wait_queued(c.server, first, false);
  poll_hook = [&] {
    send_all(c.client, h.data() + first, h.size() - first);
    send_all(c.client, reinterpret_cast<const uint8_t *>(payload), sizeof payload - 1);
    shutdown(c.client, SHUT_WR);
    wait_queued(c.server, h.size() + sizeof payload - 1, true);
  };
  proxyproto::header_verdict v;
  const proxyproto::header_state state =
      proxyproto::inspect_header(c.server, reader_config(), AF_INET, true, &v);
  poll_hook = nullptr;
  ck_assert_msg(state == proxyproto::header_state::complete,
                "state %d, expected complete (a FIN after a whole header)",
                static_cast<int>(state));
  ck_assert(v.has_source);
  char rest[64] = {};
  ck_assert_int_eq(recv(c.server, rest, sizeof rest, 0),
                   static_cast<ssize_t>(sizeof payload - 1));
  ck_assert_str_eq(rest, payload);
  close(c.client);
  close(c.server);
}
END_TEST

// A header really cut by the FIN is still a hang-up inside a header.
START_TEST(cut_header_with_fin_is_a_hangup) {
  const bytes h = largest_header();
  connection c = connect_pair();
  send_all(c.client, h.data(), 1000);
  shutdown(c.client, SHUT_WR);
  wait_queued(c.server, 1000, true);
  proxyproto::header_verdict v;
  const proxyproto::header_state state =
      proxyproto::inspect_header(c.server, reader_config(), AF_INET, true, &v);
  ck_assert_int_eq(static_cast<int>(state),
                   static_cast<int>(proxyproto::header_state::hangup));
  ck_assert_uint_eq(v.seen, 1000);
  close(c.client);
  close(c.server);
}
END_TEST

// Part of a header and no FIN: more is needed, nothing consumed.
START_TEST(partial_header_without_fin_needs_more) {
  const bytes h = largest_header();
  connection c = connect_pair();
  send_all(c.client, h.data(), 1000);
  wait_queued(c.server, 1000, false);
  proxyproto::header_verdict v;
  const proxyproto::header_state state =
      proxyproto::inspect_header(c.server, reader_config(), AF_INET, true, &v);
  ck_assert_int_eq(static_cast<int>(state),
                   static_cast<int>(proxyproto::header_state::need_more));
  int queued = 0;
  ioctl(c.server, FIONREAD, &queued);
  ck_assert_int_eq(queued, 1000);
  close(c.client);
  close(c.server);
}
END_TEST

}  // namespace

int main() {
  Suite *s = suite_create("header_reader_race");
  TCase *tc = tcase_create("fin");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, complete_header_with_fin_during_the_look_is_taken);
  tcase_add_test(tc, cut_header_with_fin_is_a_hangup);
  tcase_add_test(tc, partial_header_without_fin_needs_more);
  suite_add_tcase(s, tc);
  SRunner *runner = srunner_create(s);
  srunner_run_all(runner, CK_NORMAL);
  const int failed = srunner_ntests_failed(runner);
  srunner_free(runner);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
