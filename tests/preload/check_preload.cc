// libproxyproto.so inside a real process, driven byte by byte.
//
// Each test starts tests/helpers/pp_server with LD_PRELOAD set for that
// child only, connects to it over the loopback with plain sockets (this
// program is not preloaded), sends exact bytes — headers written by the
// core's writer or hand-made malformed ones — and checks the line in which
// the server says what accept() and getpeername() gave it and which bytes
// the application read.
#include <arpa/inet.h>
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "core/header_writer.h"
#include "core/inet_text.h"
#include "core/tlv.h"

namespace {

using bytes = std::vector<uint8_t>;

const char *env_or_die(const char *name) {
  const char *v = std::getenv(name);
  if (v == nullptr) {
    std::fprintf(stderr, "check_preload: %s is not set (run via make check)\n", name);
    std::exit(99);
  }
  return v;
}

// ---- the server under test ------------------------------------------------

struct server {
  pid_t pid = -1;
  int out = -1;  // its stdout
  int port = 0;
  std::string pending;
};

// Reads one line from the server within `timeout_ms`; "" on timeout or EOF.
std::string read_line(server &s, int timeout_ms) {
  for (;;) {
    const size_t nl = s.pending.find('\n');
    if (nl != std::string::npos) {
      std::string line = s.pending.substr(0, nl);
      s.pending.erase(0, nl + 1);
      return line;
    }
    pollfd p{s.out, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return "";
    char buf[65536];
    const ssize_t n = read(s.out, buf, sizeof buf);
    if (n <= 0) return "";
    s.pending.append(buf, static_cast<size_t>(n));
  }
}

server start_server(std::initializer_list<const char *> env,
                    std::initializer_list<const char *> args) {
  int pipe_fds[2];
  ck_assert_int_eq(pipe(pipe_fds), 0);
  const std::string helper = std::string(env_or_die("PP_HELPERS")) + "/pp_server";
  std::string preload = env_or_die("LIBPROXYPROTO_SO");
  if (const char *old = std::getenv("LD_PRELOAD"); old && *old)
    preload += std::string(":") + old;  // keep ASan's runtime first if present

  const pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    // Die with the test, even if the test dies first.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(pipe_fds[1], STDOUT_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    setenv("LD_PRELOAD", preload.c_str(), 1);
    for (const char *e : env) putenv(const_cast<char *>(e));
    std::vector<char *> argv;
    argv.push_back(const_cast<char *>(helper.c_str()));
    for (const char *a : args) argv.push_back(const_cast<char *>(a));
    argv.push_back(nullptr);
    execv(helper.c_str(), argv.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  server s;
  s.pid = pid;
  s.out = pipe_fds[0];
  const std::string first = read_line(s, 10000);
  ck_assert_msg(first.rfind("port ", 0) == 0, "server did not start: '%s'",
                first.c_str());
  s.port = std::atoi(first.c_str() + 5);
  return s;
}

void stop_server(server &s) {
  if (s.pid > 0) {
    kill(s.pid, SIGTERM);
    waitpid(s.pid, nullptr, 0);
    s.pid = -1;
  }
  if (s.out >= 0) close(s.out);
  s.out = -1;
}

// ---- the client side ----------------------------------------------------

int connect_to(const server &s, int family = AF_INET) {
  const int fd = socket(family, SOCK_STREAM, 0);
  ck_assert_int_ge(fd, 0);
  sockaddr_storage ss{};
  socklen_t len;
  if (family == AF_INET6) {
    auto *sin6 = reinterpret_cast<sockaddr_in6 *>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_addr = in6addr_loopback;
    sin6->sin6_port = htons(static_cast<uint16_t>(s.port));
    len = sizeof *sin6;
  } else {
    auto *sin = reinterpret_cast<sockaddr_in *>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin->sin_port = htons(static_cast<uint16_t>(s.port));
    len = sizeof *sin;
  }
  ck_assert_int_eq(connect(fd, reinterpret_cast<sockaddr *>(&ss), len), 0);
  return fd;
}

int local_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len);
  if (ss.ss_family == AF_INET6)
    return ntohs(reinterpret_cast<sockaddr_in6 *>(&ss)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in *>(&ss)->sin_port);
}

void send_all(int fd, const bytes &b) {
  size_t done = 0;
  while (done < b.size()) {
    const ssize_t n = send(fd, b.data() + done, b.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the server may have dropped us: that is tested elsewhere
    done += static_cast<size_t>(n);
  }
}

void sleep_ms(int ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, nullptr);
}

// Ends the client's side and waits (bounded) for the server to close.
// Returns true when the server closed the connection in time.
bool finish(int fd, int timeout_ms = 5000) {
  shutdown(fd, SHUT_WR);
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) {
      close(fd);
      return false;
    }
    char buf[4096];
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      close(fd);
      return true;
    }
  }
}

bytes text(const char *s) { return bytes(s, s + std::strlen(s)); }

bytes concat(const bytes &a, const bytes &b) {
  bytes r = a;
  r.insert(r.end(), b.begin(), b.end());
  return r;
}

std::string hex(const bytes &b) {
  static const char d[] = "0123456789abcdef";
  std::string h;
  for (uint8_t c : b) {
    h += d[c >> 4];
    h += d[c & 15];
  }
  return h;
}

proxyproto::ip_endpoint endpoint(const char *addr, uint16_t port) {
  proxyproto::ip_endpoint ep{};
  if (!proxyproto::parse_ipv4_text(addr, std::strlen(addr), ep.address))
    ck_assert(proxyproto::parse_ipv6_text(addr, std::strlen(addr), ep.address));
  ep.port = port;
  return ep;
}

enum class hdr_version { v1, v2 };

bytes make_header(hdr_version v, const char *src, uint16_t sport, const char *dst,
                  uint16_t dport, const bytes &tlvs = {}, bool crc = false) {
  proxyproto::header_fields f{};
  f.cmd = proxyproto::command::proxy;
  f.family = std::strchr(src, ':') ? proxyproto::address_family::inet6
                                   : proxyproto::address_family::inet;
  f.source = endpoint(src, sport);
  f.destination = endpoint(dst, dport);
  f.tlvs = tlvs.empty() ? nullptr : tlvs.data();
  f.tlvs_length = tlvs.size();
  f.add_crc32c = crc;
  bytes out(proxyproto::v2_max_length);
  const size_t n = v == hdr_version::v1 ? proxyproto::write_v1(f, out.data(), out.size())
                                        : proxyproto::write_v2(f, out.data(), out.size());
  ck_assert_uint_gt(n, 0);
  out.resize(n);
  return out;
}

bytes make_local_v2() {
  proxyproto::header_fields f{};
  f.cmd = proxyproto::command::local;
  f.family = proxyproto::address_family::unspec;
  bytes out(64);
  out.resize(proxyproto::write_v2(f, out.data(), out.size()));
  return out;
}

// Sends one connection's bytes and returns the server's line about it.
std::string exchange(server &s, const bytes &b, int family = AF_INET) {
  const int fd = connect_to(s, family);
  send_all(fd, b);
  finish(fd);
  return read_line(s, 10000);
}

void expect_contains(const std::string &line, const std::string &part) {
  ck_assert_msg(line.find(part) != std::string::npos,
                "expected '%s' in server line '%.300s'", part.c_str(), line.c_str());
}

// The application must have read exactly `data`: the line ends with it.
void expect_data(const std::string &line, const bytes &data) {
  const std::string want = " data=" + hex(data);
  ck_assert_msg(line.size() >= want.size() &&
                    line.compare(line.size() - want.size(), want.size(), want) == 0,
                "expected the application to read '%s', server line '%.300s'",
                want.c_str(), line.c_str());
}

const bytes payload = text("GET / HTTP/1.0\r\n\r\n");

// ---- valid headers: consumed, address reported, payload intact -------------

START_TEST(v1_tcp4_header_is_consumed) {
  server s = start_server({}, {"--count", "1"});
  const std::string line = exchange(
      s, concat(make_header(hdr_version::v1, "8.8.8.8", 4321, "127.0.0.1", 80), payload));
  expect_contains(line, "accept=inet 8.8.8.8 4321 len=16");
  expect_contains(line, "peer=inet 8.8.8.8 4321");
  expect_data(line, payload);
  stop_server(s);
}
END_TEST

START_TEST(v2_tcp4_header_is_consumed) {
  server s = start_server({}, {"--count", "1"});
  const std::string line = exchange(
      s, concat(make_header(hdr_version::v2, "8.8.8.8", 4321, "127.0.0.1", 80), payload));
  expect_contains(line, "accept=inet 8.8.8.8 4321 len=16 peer=inet 8.8.8.8 4321");
  expect_data(line, payload);
  stop_server(s);
}
END_TEST

START_TEST(v1_tcp6_on_ipv6_listener) {
  server s = start_server({}, {"--count", "1", "--family", "6"});
  const std::string line = exchange(
      s, concat(make_header(hdr_version::v1, "2001:4860:4860::8888", 4321, "::1", 80),
                payload),
      AF_INET6);
  expect_contains(line, "accept=inet6 2001:4860:4860::8888 4321 len=28");
  expect_contains(line, "peer=inet6 2001:4860:4860::8888 4321");
  expect_data(line, payload);
  stop_server(s);
}
END_TEST

START_TEST(ipv4_source_on_ipv6_listener_is_mapped) {
  server s = start_server({}, {"--count", "1", "--family", "6"});
  const std::string line = exchange(
      s, concat(make_header(hdr_version::v2, "8.8.8.8", 4321, "127.0.0.1", 80), payload),
      AF_INET6);
  expect_contains(line, "accept=inet6 ::ffff:8.8.8.8 4321 len=28");
  expect_contains(line, "peer=inet6 ::ffff:8.8.8.8 4321");
  stop_server(s);
}
END_TEST

START_TEST(ipv6_source_on_ipv4_listener_is_inet6) {
  server s = start_server({}, {"--count", "1"});
  const std::string line = exchange(
      s, concat(make_header(hdr_version::v2, "2001:db8::7", 4321, "2001:db8::1", 80),
                payload));
  expect_contains(line, "accept=inet6 2001:db8::7 4321 len=28");
  expect_contains(line, "peer=inet6 2001:db8::7 4321");
  stop_server(s);
}
END_TEST

START_TEST(following_bytes_that_look_like_a_header_are_data) {
  server s = start_server({}, {"--count", "1"});
  const bytes second = make_header(hdr_version::v1, "1.1.1.1", 1, "2.2.2.2", 2);
  const std::string line = exchange(
      s, concat(make_header(hdr_version::v1, "8.8.8.8", 4321, "127.0.0.1", 80), second));
  expect_contains(line, "accept=inet 8.8.8.8 4321");
  expect_data(line, second);
  stop_server(s);
}
END_TEST

START_TEST(large_v2_tlv_header_is_read_whole) {
  server s = start_server({}, {"--count", "1"});
  bytes tlv = {0xE0, 0xEA, 0x60};  // custom type, 60000 bytes
  tlv.resize(3 + 60000, 0x5A);
  const std::string line = exchange(
      s, concat(make_header(hdr_version::v2, "8.8.4.4", 53, "127.0.0.1", 80, tlv),
                payload));
  expect_contains(line, "accept=inet 8.8.4.4 53");
  expect_data(line, payload);
  stop_server(s);
}
END_TEST

// The largest header (16 + 65535 bytes: two segments on loopback), then
// data and the client's FIN at once, as a short request-response client
// sends them. The FIN may be seen between the reader's look at the first
// segment and its next one; the complete header must still be taken.
START_TEST(largest_header_followed_by_fin_is_read_whole) {
  constexpr int rounds = 24;
  server s = start_server({}, {"--count", "24"});
  bytes tlv = {0xE0, 0xFF, 0xF0};  // custom type filling the 65535 bytes
  tlv.resize(3 + (65535 - 12 - 3), 0x5A);
  const bytes h = make_header(hdr_version::v2, "8.8.4.4", 53, "127.0.0.1", 80, tlv);
  ck_assert_uint_eq(h.size(), 16 + 65535);
  for (int i = 0; i < rounds; ++i) {
    const std::string line = exchange(s, concat(h, payload));
    ck_assert_msg(!line.empty(), "round %d: the connection was dropped", i);
    expect_contains(line, "accept=inet 8.8.4.4 53");
    expect_data(line, payload);
  }
  stop_server(s);
}
END_TEST

START_TEST(v2_with_valid_crc32c_is_accepted) {
  server s = start_server({}, {"--count", "1"});
  const std::string line = exchange(
      s, concat(make_header(hdr_version::v2, "8.8.8.8", 4321, "127.0.0.1", 80, {}, true),
                payload));
  expect_contains(line, "accept=inet 8.8.8.8 4321");
  expect_data(line, payload);
  stop_server(s);
}
END_TEST

// ---- the real address stands ---------------------------------------------

START_TEST(no_header_passes_through) {
  server s = start_server({}, {"--count", "1"});
  const int fd = connect_to(s);
  const int port = local_port(fd);
  send_all(fd, payload);
  finish(fd);
  const std::string line = read_line(s, 10000);
  expect_contains(line, "accept=inet 127.0.0.1 " + std::to_string(port));
  expect_contains(line, "peer=inet 127.0.0.1 " + std::to_string(port));
  expect_data(line, payload);
  stop_server(s);
}
END_TEST

START_TEST(v1_unknown_keeps_real_address) {
  server s = start_server({}, {"--count", "1"});
  const std::string line =
      exchange(s, concat(text("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"), payload));
  expect_contains(line, "accept=inet 127.0.0.1 ");
  expect_data(line, payload);
  stop_server(s);
}
END_TEST

START_TEST(v2_local_keeps_real_address) {
  server s = start_server({}, {"--count", "1"});
  const std::string line = exchange(s, concat(make_local_v2(), payload));
  expect_contains(line, "accept=inet 127.0.0.1 ");
  expect_data(line, payload);
  stop_server(s);
}
END_TEST

START_TEST(disabled_version_is_not_a_header) {
  server s = start_server({"LIBPROXYPROTO_VERSION=2"}, {"--count", "1"});
  const bytes v1 = make_header(hdr_version::v1, "8.8.8.8", 4321, "127.0.0.1", 80);
  const std::string line = exchange(s, concat(v1, payload));
  expect_contains(line, "accept=inet 127.0.0.1 ");
  expect_data(line, concat(v1, payload));
  stop_server(s);
}
END_TEST

START_TEST(version_zero_makes_the_library_inert) {
  server s = start_server({"LIBPROXYPROTO_VERSION=0",
                           "LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER=1"},
                          {"--count", "1"});
  const bytes v2 = make_header(hdr_version::v2, "8.8.8.8", 4321, "127.0.0.1", 80);
  const std::string line = exchange(s, concat(v2, payload));
  expect_contains(line, "accept=inet 127.0.0.1 ");
  expect_data(line, concat(v2, payload));
  stop_server(s);
}
END_TEST

// ---- dropped connections are never seen ---------------------------------

// Sends `bad` on one connection, which must be closed by the server without
// the application seeing it, then a valid one, which must be the only line.
void expect_dropped(std::initializer_list<const char *> env, const bytes &bad) {
  server s = start_server(env, {"--count", "1"});
  const int fd = connect_to(s);
  send_all(fd, bad);
  ck_assert_msg(finish(fd), "the server did not close a dropped connection");
  const std::string line = exchange(
      s, concat(make_header(hdr_version::v2, "9.9.9.9", 99, "127.0.0.1", 80), payload));
  expect_contains(line, "accept=inet 9.9.9.9 99");
  expect_data(line, payload);
  stop_server(s);
}

START_TEST(malformed_v1_is_dropped) {
  expect_dropped({}, text("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\nsecret"));
}
END_TEST

START_TEST(v1_without_crlf_in_107_bytes_is_dropped) {
  bytes line = text("PROXY UNKNOWN ");
  line.resize(120, 'a');
  expect_dropped({}, line);
}
END_TEST

START_TEST(v2_bad_family_is_dropped) {
  bytes h = make_header(hdr_version::v2, "8.8.8.8", 4321, "127.0.0.1", 80);
  h[13] = 0x13;
  expect_dropped({}, concat(h, payload));
}
END_TEST

// §2.2: only version 2 is accepted; the signature starts no other
// protocol, so a signature followed by another version is a broken header.
START_TEST(v2_other_version_is_dropped) {
  for (unsigned version : {0x0u, 0x1u, 0x3u, 0xFu}) {
    bytes h = make_header(hdr_version::v2, "8.8.8.8", 4321, "127.0.0.1", 80);
    h[12] = static_cast<uint8_t>(version << 4 | 0x1u);
    expect_dropped({}, concat(h, payload));
  }
}
END_TEST

START_TEST(v2_crc32c_mismatch_is_dropped) {
  bytes h = make_header(hdr_version::v2, "8.8.8.8", 4321, "127.0.0.1", 80, {}, true);
  h[16] ^= 1;  // change the source address after the checksum was computed
  expect_dropped({}, concat(h, payload));
}
END_TEST

START_TEST(missing_header_under_must_use_is_dropped) {
  expect_dropped({"LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER=1"}, payload);
}
END_TEST

START_TEST(partial_header_at_timeout_is_dropped) {
  const bytes h = make_header(hdr_version::v2, "8.8.8.8", 4321, "127.0.0.1", 80);
  server s = start_server({"LIBPROXYPROTO_TIMEOUT=300"}, {"--count", "1"});
  const int fd = connect_to(s);
  send_all(fd, bytes(h.begin(), h.begin() + 20));
  // Keep the connection open (no FIN) so only the deadline can end it.
  pollfd p{fd, POLLIN, 0};
  ck_assert_int_eq(poll(&p, 1, 5000), 1);
  char c;
  ck_assert_int_le(recv(fd, &c, 1, 0), 0);
  close(fd);
  const std::string line = exchange(
      s, concat(make_header(hdr_version::v2, "9.9.9.9", 99, "127.0.0.1", 80), payload));
  expect_contains(line, "accept=inet 9.9.9.9 99");
  stop_server(s);
}
END_TEST

// ---- headers in pieces, and silence -------------------------------------

START_TEST(split_v2_header_is_assembled) {
  server s = start_server({}, {"--count", "1"});
  const bytes h = make_header(hdr_version::v2, "8.8.8.8", 4321, "127.0.0.1", 80);
  const int fd = connect_to(s);
  send_all(fd, bytes(h.begin(), h.begin() + 5));
  sleep_ms(100);
  send_all(fd, bytes(h.begin() + 5, h.begin() + 20));
  sleep_ms(100);
  send_all(fd, concat(bytes(h.begin() + 20, h.end()), payload));
  finish(fd);
  const std::string line = read_line(s, 10000);
  expect_contains(line, "accept=inet 8.8.8.8 4321");
  expect_data(line, payload);
  stop_server(s);
}
END_TEST

START_TEST(split_v1_header_is_assembled) {
  server s = start_server({}, {"--count", "1"});
  const bytes h = make_header(hdr_version::v1, "2001:db8::1", 4321, "2001:db8::2", 80);
  const int fd = connect_to(s);
  for (size_t i = 0; i < h.size(); i += 7) {
    send_all(fd, bytes(h.begin() + static_cast<long>(i),
                       h.begin() + static_cast<long>(i + 7 < h.size() ? i + 7 : h.size())));
    sleep_ms(20);
  }
  send_all(fd, payload);
  finish(fd);
  const std::string line = read_line(s, 10000);
  expect_contains(line, "accept=inet6 2001:db8::1 4321");
  expect_data(line, payload);
  stop_server(s);
}
END_TEST

START_TEST(silent_client_passes_through_after_timeout) {
  server s = start_server({"LIBPROXYPROTO_TIMEOUT=300"}, {"--count", "1"});
  const int fd = connect_to(s);
  sleep_ms(700);
  send_all(fd, payload);
  finish(fd);
  const std::string line = read_line(s, 10000);
  expect_contains(line, "accept=inet 127.0.0.1 ");
  expect_data(line, payload);
  stop_server(s);
}
END_TEST

void expect_banner_after_timeout(std::initializer_list<const char *> args) {
  server s = start_server({"LIBPROXYPROTO_TIMEOUT=300"}, args);
  const int fd = connect_to(s);
  pollfd p{fd, POLLIN, 0};
  ck_assert_int_eq(poll(&p, 1, 5000), 1);  // the banner arrives after the timeout
  char banner[32] = {};
  ck_assert_int_gt(recv(fd, banner, sizeof banner - 1, 0), 0);
  ck_assert_str_eq(banner, "220 ready\r\n");
  finish(fd);
  read_line(s, 10000);
  stop_server(s);
}

START_TEST(server_speaks_first_to_a_silent_client) {
  expect_banner_after_timeout({"--count", "1", "--reply", "220 ready\r\n"});
}
END_TEST

// On an event loop the deadline itself must wake the loop (the listener's
// timer, reported by poll() as the listener's readiness).
START_TEST(event_loop_speaks_first_to_a_silent_client) {
  expect_banner_after_timeout({"--count", "1", "--reply", "220 ready\r\n",
                               "--nonblocking", "--accept4", "nonblock"});
}
END_TEST

// ---- accept(2) semantics ----------------------------------------------------

START_TEST(accept4_flags_hold) {
  server s = start_server({}, {"--count", "2", "--accept4", "nonblock,cloexec"});
  std::string line = exchange(
      s, concat(make_header(hdr_version::v2, "8.8.8.8", 4321, "127.0.0.1", 80), payload));
  expect_contains(line, "accept=inet 8.8.8.8 4321");
  expect_contains(line, "nonblock=1 cloexec=1");
  line = exchange(s, payload);
  expect_contains(line, "nonblock=1 cloexec=1");
  stop_server(s);
  s = start_server({}, {"--count", "1", "--accept4", "cloexec"});
  line = exchange(
      s, concat(make_header(hdr_version::v1, "8.8.8.8", 4321, "127.0.0.1", 80), payload));
  expect_contains(line, "nonblock=0 cloexec=1");
  stop_server(s);
}
END_TEST

START_TEST(null_addr_is_allowed) {
  server s = start_server({}, {"--count", "1", "--null-addr"});
  const std::string line = exchange(
      s, concat(make_header(hdr_version::v2, "8.8.8.8", 4321, "127.0.0.1", 80), payload));
  expect_contains(line, "accept=none len=0 peer=inet 8.8.8.8 4321");
  expect_data(line, payload);
  stop_server(s);
}
END_TEST

START_TEST(short_addrlen_truncates_and_reports_full_length) {
  server s = start_server({}, {"--count", "1", "--addrlen", "8"});
  const std::string line = exchange(
      s, concat(make_header(hdr_version::v2, "8.8.8.8", 4321, "127.0.0.1", 80), payload));
  expect_contains(line, "accept=inet-truncated 4321 len=16 peer=inet 8.8.8.8 4321");
  stop_server(s);
}
END_TEST

START_TEST(nonblocking_listener_skips_dropped_connections) {
  server s = start_server({}, {"--count", "1", "--nonblocking", "--accept4", "nonblock"});
  const int bad = connect_to(s);
  send_all(bad, text("PROXY TCP9 x\r\n"));
  ck_assert(finish(bad));
  const std::string line = exchange(
      s, concat(make_header(hdr_version::v2, "8.8.8.8", 4321, "127.0.0.1", 80), payload));
  expect_contains(line, "accept=inet 8.8.8.8 4321");
  stop_server(s);
}
END_TEST

// ---- getpeername() records ------------------------------------------------

START_TEST(descriptors_above_1024_keep_their_record) {
  // pp_server moves each connection to fd 2000+ with dup2 and closes the
  // original, so this also checks that dup2 carries the record.
  server s = start_server({}, {"--count", "1", "--min-fd", "2000"});
  const std::string line = exchange(
      s, concat(make_header(hdr_version::v2, "8.8.8.8", 4321, "127.0.0.1", 80), payload));
  expect_contains(line, "conn fd=2000 ");
  expect_contains(line, "peer=inet 8.8.8.8 4321");
  stop_server(s);
}
END_TEST

START_TEST(reused_descriptor_reports_its_own_peer) {
  server s = start_server({}, {"--count", "2"});
  const std::string first = exchange(
      s, concat(make_header(hdr_version::v2, "8.8.8.8", 4321, "127.0.0.1", 80), payload));
  expect_contains(first, "peer=inet 8.8.8.8 4321");
  const int fd = connect_to(s);
  const int port = local_port(fd);
  send_all(fd, payload);
  finish(fd);
  const std::string second = read_line(s, 10000);
  // Same descriptor number, closed in between: the record must be gone.
  // Named copies: ck_assert_str_eq keeps the pointers past the statement, so
  // temporaries would be gone (ASan: stack-use-after-scope).
  const std::string first_word = first.substr(0, first.find(' '));
  const std::string second_word = second.substr(0, second.find(' '));
  ck_assert_str_eq(first_word.c_str(), second_word.c_str());
  const std::string fd_field = first.substr(first.find(' ') + 1, first.find(' ', 5) - first.find(' ') - 1);
  expect_contains(second, fd_field);
  expect_contains(second, "peer=inet 127.0.0.1 " + std::to_string(port));
  stop_server(s);
}
END_TEST


// ---- head-of-line blocking: a silent client holds up no one ---------------

int64_t monotonic_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// A silent client connects first and stays silent; a proxied client then
// sends its whole header. The server (blocking, or an event loop) must
// return the proxied one within `bound_ms` of its header.
void expect_proxied_not_held_up(std::initializer_list<const char *> args,
                                const char *label) {
  server s = start_server({"LIBPROXYPROTO_TIMEOUT=3000"}, args);
  const int silent = connect_to(s);
  sleep_ms(50);  // accepted and waiting by now
  const int fd = connect_to(s);
  const int64_t sent = monotonic_ms();
  send_all(fd, concat(make_header(hdr_version::v2, "8.8.8.8", 4321, "127.0.0.1", 80),
                      payload));
  shutdown(fd, SHUT_WR);
  const std::string line = read_line(s, 2500);
  const int64_t delay = monotonic_ms() - sent;
  std::fprintf(stderr, "# %s: proxied client behind a silent one returned after %lld ms\n",
               label, static_cast<long long>(delay));
  expect_contains(line, "accept=inet 8.8.8.8 4321");
  expect_data(line, payload);
  ck_assert_msg(delay < 100, "%s: proxied client held up %lld ms", label,
                static_cast<long long>(delay));
  close(fd);
  close(silent);
  stop_server(s);
}

START_TEST(blocking_accept_is_not_held_up_by_a_silent_client) {
  expect_proxied_not_held_up({"--count", "1"}, "blocking accept");
}
END_TEST

START_TEST(event_loop_is_not_held_up_by_a_silent_client) {
  expect_proxied_not_held_up({"--count", "1", "--nonblocking", "--accept4", "nonblock"},
                             "epoll-style accept4");
}
END_TEST

// A header whose second half comes 200 ms after the first: once it is
// complete the server must return the connection promptly, which for an
// event loop means poll() reports the listener readable again.
void expect_late_header_returned_promptly(std::initializer_list<const char *> args,
                                          const char *label) {
  server s = start_server({}, args);
  const bytes h = make_header(hdr_version::v2, "8.8.8.8", 4321, "127.0.0.1", 80);
  const int fd = connect_to(s);
  send_all(fd, bytes(h.begin(), h.begin() + 10));
  sleep_ms(200);
  const int64_t sent = monotonic_ms();
  send_all(fd, concat(bytes(h.begin() + 10, h.end()), payload));
  shutdown(fd, SHUT_WR);
  const std::string line = read_line(s, 2500);
  const int64_t delay = monotonic_ms() - sent;
  std::fprintf(stderr, "# %s: late header returned %lld ms after its last byte\n",
               label, static_cast<long long>(delay));
  expect_contains(line, "accept=inet 8.8.8.8 4321");
  expect_data(line, payload);
  ck_assert_msg(delay < 100, "%s: late header returned after %lld ms", label,
                static_cast<long long>(delay));
  close(fd);
  stop_server(s);
}

START_TEST(blocking_accept_returns_a_late_header_promptly) {
  expect_late_header_returned_promptly({"--count", "1"}, "blocking accept");
}
END_TEST

START_TEST(event_loop_is_woken_for_a_late_header) {
  expect_late_header_returned_promptly(
      {"--count", "1", "--nonblocking", "--accept4", "nonblock"}, "epoll-style accept4");
}
END_TEST

START_TEST(split_header_on_an_event_loop_is_assembled) {
  server s = start_server({}, {"--count", "1", "--nonblocking", "--accept4", "nonblock"});
  const bytes h = make_header(hdr_version::v1, "2001:db8::1", 4321, "2001:db8::2", 80);
  const int fd = connect_to(s);
  for (size_t i = 0; i < h.size(); i += 9) {
    send_all(fd, bytes(h.begin() + static_cast<long>(i),
                       h.begin() + static_cast<long>(i + 9 < h.size() ? i + 9 : h.size())));
    sleep_ms(30);
  }
  send_all(fd, payload);
  finish(fd);
  const std::string line = read_line(s, 10000);
  expect_contains(line, "accept=inet6 2001:db8::1 4321");
  expect_data(line, payload);
  stop_server(s);
}
END_TEST

START_TEST(partial_header_at_timeout_is_dropped_by_an_event_loop) {
  const bytes h = make_header(hdr_version::v2, "8.8.8.8", 4321, "127.0.0.1", 80);
  server s = start_server({"LIBPROXYPROTO_TIMEOUT=300"},
                          {"--count", "1", "--nonblocking", "--accept4", "nonblock"});
  const int fd = connect_to(s);
  const int64_t start = monotonic_ms();
  send_all(fd, bytes(h.begin(), h.begin() + 20));
  pollfd p{fd, POLLIN, 0};
  ck_assert_int_eq(poll(&p, 1, 5000), 1);
  char c;
  ck_assert_int_le(recv(fd, &c, 1, 0), 0);
  ck_assert_int_ge(monotonic_ms() - start, 250);
  close(fd);
  const std::string line = exchange(
      s, concat(make_header(hdr_version::v2, "9.9.9.9", 99, "127.0.0.1", 80), payload));
  expect_contains(line, "accept=inet 9.9.9.9 99");
  stop_server(s);
}
END_TEST

START_TEST(silent_client_is_dropped_under_must_use) {
  server s = start_server({"LIBPROXYPROTO_TIMEOUT=300",
                           "LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER=1"},
                          {"--count", "1"});
  const int fd = connect_to(s);
  const int64_t start = monotonic_ms();
  pollfd p{fd, POLLIN, 0};
  ck_assert_int_eq(poll(&p, 1, 5000), 1);  // closed by the server
  char c;
  ck_assert_int_le(recv(fd, &c, 1, 0), 0);
  ck_assert_int_ge(monotonic_ms() - start, 250);
  close(fd);
  const std::string line = exchange(
      s, concat(make_header(hdr_version::v2, "9.9.9.9", 99, "127.0.0.1", 80), payload));
  expect_contains(line, "accept=inet 9.9.9.9 99");
  stop_server(s);
}
END_TEST

// ---- the library's functions called directly ------------------------------
// For what a ready-made server cannot show (EAGAIN, close_range, AF_UNIX),
// the test process opens the library with dlopen() and calls its accept4,
// getpeername and close_range itself. Each Check test runs in its own child.

struct library {
  int (*accept4)(int, sockaddr *, socklen_t *, int);
  int (*getpeername)(int, sockaddr *, socklen_t *);
  int (*close_range)(unsigned, unsigned, int);
  // The application's poll() under the library: it reports a listener
  // readable when one of this process's parked connections is ready.
  int (*poll)(pollfd *, nfds_t, int);
};

library open_library() {
  void *handle = dlopen(env_or_die("LIBPROXYPROTO_SO"), RTLD_NOW | RTLD_LOCAL);
  ck_assert_msg(handle != nullptr, "dlopen: %s", dlerror());
  library lib;
  lib.accept4 = reinterpret_cast<decltype(lib.accept4)>(dlsym(handle, "accept4"));
  lib.getpeername =
      reinterpret_cast<decltype(lib.getpeername)>(dlsym(handle, "getpeername"));
  lib.close_range =
      reinterpret_cast<decltype(lib.close_range)>(dlsym(handle, "close_range"));
  lib.poll = reinterpret_cast<decltype(lib.poll)>(dlsym(handle, "poll"));
  ck_assert(lib.accept4 && lib.getpeername && lib.close_range && lib.poll);
  return lib;
}

// A loopback TCP listener of this process; its port in *port.
int tcp_listener(bool nonblocking, int *port) {
  const int fd = socket(AF_INET, SOCK_STREAM | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(bind(fd, reinterpret_cast<sockaddr *>(&sin), sizeof sin), 0);
  ck_assert_int_eq(listen(fd, 256), 0);
  *port = local_port(fd);
  return fd;
}

int connect_port(int port) {
  server s;
  s.port = port;
  return connect_to(s);
}

std::string describe_inet(const sockaddr_storage &ss, socklen_t len) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (ss.ss_family == AF_INET && len >= sizeof(sockaddr_in)) {
    const auto &sin = reinterpret_cast<const sockaddr_in &>(ss);
    inet_ntop(AF_INET, &sin.sin_addr, text, sizeof text);
    return std::string("inet ") + text + " " + std::to_string(ntohs(sin.sin_port));
  }
  if (ss.ss_family == AF_UNIX) return "unix";
  return "family " + std::to_string(ss.ss_family) + " len " + std::to_string(len);
}

void expect_address(const sockaddr_storage &ss, socklen_t len, const char *want) {
  const std::string got = describe_inet(ss, len);
  ck_assert_msg(got == want, "address '%s', expected '%s'", got.c_str(), want);
}

START_TEST(nonblocking_accept4_never_says_eagain_with_a_complete_connection) {
  setenv("LIBPROXYPROTO_TIMEOUT", "3000", 1);
  const library lib = open_library();
  int port;
  const int listener = tcp_listener(true, &port);
  int silent[100];
  for (int &fd : silent) fd = connect_port(port);
  const int proxied = connect_port(port);
  send_all(proxied, concat(make_header(hdr_version::v2, "8.8.8.8", 4321, "127.0.0.1", 80),
                           payload));
  sleep_ms(50);  // everything has reached the listener's queue
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  const int64_t start = monotonic_ms();
  const int fd = lib.accept4(listener, reinterpret_cast<sockaddr *>(&ss), &len,
                             SOCK_NONBLOCK);
  const int64_t took = monotonic_ms() - start;
  std::fprintf(stderr, "# accept4(SOCK_NONBLOCK) past 100 silent clients took %lld ms\n",
               static_cast<long long>(took));
  ck_assert_msg(fd >= 0, "accept4 failed (errno %d) with a complete connection queued",
                errno);
  expect_address(ss, len, "inet 8.8.8.8 4321");
  // It never sleeps; the time is parking 100 connections, which on a
  // loaded CI machine takes tens of ms. Waiting for any one of them (3 s)
  // would blow this bound.
  ck_assert_msg(took < 250, "a non-blocking accept4 took %lld ms", static_cast<long long>(took));
  // Nothing else is ready: now, and only now, EAGAIN.
  len = sizeof ss;
  ck_assert_int_lt(lib.accept4(listener, reinterpret_cast<sockaddr *>(&ss), &len,
                               SOCK_NONBLOCK), 0);
  ck_assert_int_eq(errno, EAGAIN);
  // One silent client speaks up: the listener becomes readable (to poll()
  // under the library, through the listener's readiness descriptor) and
  // accept4 returns it.
  send_all(silent[42], concat(make_header(hdr_version::v1, "1.2.3.4", 5, "127.0.0.1", 80),
                              payload));
  pollfd p{listener, POLLIN, 0};
  const int64_t spoke = monotonic_ms();
  ck_assert_int_eq(lib.poll(&p, 1, 2000), 1);
  std::fprintf(stderr, "# poll() reported the listener readable after %lld ms\n",
               static_cast<long long>(monotonic_ms() - spoke));
  len = sizeof ss;
  const int late = lib.accept4(listener, reinterpret_cast<sockaddr *>(&ss), &len,
                               SOCK_NONBLOCK);
  ck_assert_int_ge(late, 0);
  expect_address(ss, len, "inet 1.2.3.4 5");
  char buf[64];
  ck_assert_int_eq(recv(late, buf, sizeof buf, 0), static_cast<ssize_t>(payload.size()));
  for (int s : silent) close(s);
  close(proxied);
}
END_TEST

// A number closed behind the library's back (a raw close system call)
// keeps its record until the number is used again. A connection the
// library drops on that number must take the record with it: else a
// socket() that gets the number next would report the old client.
START_TEST(a_dropped_connection_takes_a_stale_record_with_it) {
  const library lib = open_library();
  int port;
  const int listener = tcp_listener(true, &port);
  const int first = connect_port(port);
  send_all(first, concat(make_header(hdr_version::v1, "203.0.113.9", 999, "127.0.0.1", 80),
                         payload));
  const int bad = connect_port(port);  // its own number taken before the close
  sleep_ms(50);
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  const int fd = lib.accept4(listener, reinterpret_cast<sockaddr *>(&ss), &len, 0);
  ck_assert_int_ge(fd, 0);
  expect_address(ss, len, "inet 203.0.113.9 999");
  ck_assert_int_eq(syscall(SYS_close, fd), 0);  // behind the library's back
  send_all(bad, text("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n"));
  sleep_ms(50);
  len = sizeof ss;
  // The malformed one takes the free number, is dropped, and nothing is left.
  ck_assert_int_eq(lib.accept4(listener, reinterpret_cast<sockaddr *>(&ss), &len, 0), -1);
  ck_assert_int_eq(errno, EAGAIN);
  const int reused = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_eq(reused, fd);
  len = sizeof ss;
  ck_assert_int_eq(lib.getpeername(reused, reinterpret_cast<sockaddr *>(&ss), &len), -1);
  ck_assert_int_eq(errno, ENOTCONN);
  close(reused);
  close(bad);
  close(first);
  close(listener);
}
END_TEST

// Under must-use a silent client makes the library defer the listener's
// next connections (TCP_DEFER_ACCEPT), but never for less time than the
// application asked for itself; and it does set it when the application
// did not.
int defer_accept_after_a_silent_client(const library &lib, int app_seconds) {
  int port;
  const int listener = tcp_listener(true, &port);
  const int silent = connect_port(port);  // queued before the deferral is set
  if (app_seconds > 0)
    ck_assert_int_eq(setsockopt(listener, IPPROTO_TCP, TCP_DEFER_ACCEPT,
                                &app_seconds, sizeof app_seconds), 0);
  const int64_t end = monotonic_ms() + 3000;
  bool closed = false;
  while (!closed && monotonic_ms() < end) {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    ck_assert_int_eq(lib.accept4(listener, reinterpret_cast<sockaddr *>(&ss), &len, 0), -1);
    ck_assert_int_eq(errno, EAGAIN);
    pollfd p{silent, POLLIN, 0};
    closed = poll(&p, 1, 20) == 1;  // dropped by the library
  }
  ck_assert_msg(closed, "the silent client was not dropped");
  int value = -1;
  socklen_t len = sizeof value;
  ck_assert_int_eq(getsockopt(listener, IPPROTO_TCP, TCP_DEFER_ACCEPT, &value, &len), 0);
  close(silent);
  close(listener);
  return value;
}

START_TEST(application_defer_accept_is_never_lowered) {
  setenv("LIBPROXYPROTO_TIMEOUT", "100", 1);
  setenv("LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER", "1", 1);
  const library lib = open_library();
  int set_by_app = 0;
  {
    // What the kernel reports for 60 s (it rounds to its retransmit steps).
    int port;
    const int probe = tcp_listener(false, &port);
    const int sixty = 60;
    setsockopt(probe, IPPROTO_TCP, TCP_DEFER_ACCEPT, &sixty, sizeof sixty);
    socklen_t len = sizeof set_by_app;
    getsockopt(probe, IPPROTO_TCP, TCP_DEFER_ACCEPT, &set_by_app, &len);
    close(probe);
  }
  ck_assert_int_ge(set_by_app, 60);
  const int kept = defer_accept_after_a_silent_client(lib, 60);
  ck_assert_msg(kept >= set_by_app,
                "TCP_DEFER_ACCEPT lowered from %d to %d", set_by_app, kept);
  const int set = defer_accept_after_a_silent_client(lib, 0);
  ck_assert_msg(set >= 1, "TCP_DEFER_ACCEPT not set after a silent client: %d", set);
}
END_TEST

START_TEST(close_range_forgets_records) {
  const library lib = open_library();
  int port;
  const int listener = tcp_listener(false, &port);
  const int client = connect_port(port);
  send_all(client, make_header(hdr_version::v2, "8.8.8.8", 4321, "127.0.0.1", 80));
  const int fd = lib.accept4(listener, nullptr, nullptr, 0);
  ck_assert_int_ge(fd, 0);
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ck_assert_int_eq(lib.getpeername(fd, reinterpret_cast<sockaddr *>(&ss), &len), 0);
  expect_address(ss, len, "inet 8.8.8.8 4321");
  // CLOSE_RANGE_CLOEXEC closes nothing: the record stays.
  ck_assert_int_eq(lib.close_range(static_cast<unsigned>(fd), static_cast<unsigned>(fd),
                                   CLOSE_RANGE_CLOEXEC), 0);
  len = sizeof ss;
  ck_assert_int_eq(lib.getpeername(fd, reinterpret_cast<sockaddr *>(&ss), &len), 0);
  expect_address(ss, len, "inet 8.8.8.8 4321");
  // A real close_range: the number, reused by a socket the library never
  // saw, must report that socket's own peer.
  ck_assert_int_eq(lib.close_range(static_cast<unsigned>(fd), ~0U, 0), 0);
  int pair[2];
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  ck_assert_int_eq(pair[0], fd);
  len = sizeof ss;
  ck_assert_int_eq(lib.getpeername(fd, reinterpret_cast<sockaddr *>(&ss), &len), 0);
  expect_address(ss, len, "unix");
  close(client);
}
END_TEST

// An AF_UNIX listener behind HAProxy (server ... /path.sock send-proxy-v2).
int unix_listener(sockaddr_un *where, socklen_t *where_len) {
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  std::memset(where, 0, sizeof *where);
  where->sun_family = AF_UNIX;
  const int n = std::snprintf(where->sun_path + 1, sizeof where->sun_path - 1,
                              "check_preload-%d", static_cast<int>(getpid()));
  *where_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 +
                                      static_cast<size_t>(n));
  ck_assert_int_eq(bind(fd, reinterpret_cast<sockaddr *>(where), *where_len), 0);
  ck_assert_int_eq(listen(fd, 16), 0);
  return fd;
}

int unix_client(const sockaddr_un &where, socklen_t where_len) {
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  ck_assert_int_eq(connect(fd, reinterpret_cast<const sockaddr *>(&where), where_len), 0);
  return fd;
}

START_TEST(unix_listener_reports_the_header_source) {
  // Unix peers are trusted only when named (each test runs in its own
  // child; the settings are read at the first accept).
  setenv("LIBPROXYPROTO_ALLOW", "unix", 1);
  const library lib = open_library();
  sockaddr_un where;
  socklen_t where_len;
  const int listener = unix_listener(&where, &where_len);

  const int client = unix_client(where, where_len);
  send_all(client, concat(make_header(hdr_version::v2, "8.8.8.8", 4321, "127.0.0.1", 80),
                          payload));
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  const int fd = lib.accept4(listener, reinterpret_cast<sockaddr *>(&ss), &len, 0);
  ck_assert_int_ge(fd, 0);
  expect_address(ss, len, "inet 8.8.8.8 4321");
  len = sizeof ss;
  ck_assert_int_eq(lib.getpeername(fd, reinterpret_cast<sockaddr *>(&ss), &len), 0);
  expect_address(ss, len, "inet 8.8.8.8 4321");
  char buf[64];
  ck_assert_int_eq(recv(fd, buf, sizeof buf, 0), static_cast<ssize_t>(payload.size()));
  ck_assert(std::memcmp(buf, payload.data(), payload.size()) == 0);

  // A buffer too short for the address: truncated, full length reported.
  const int client2 = unix_client(where, where_len);
  send_all(client2, make_header(hdr_version::v1, "2001:db8::7", 7, "2001:db8::1", 80));
  sockaddr_storage small{};
  len = 8;
  const int fd2 = lib.accept4(listener, reinterpret_cast<sockaddr *>(&small), &len, 0);
  ck_assert_int_ge(fd2, 0);
  ck_assert_int_eq(small.ss_family, AF_INET6);
  ck_assert_uint_eq(len, sizeof(sockaddr_in6));

  // No header: the real (unnamed) AF_UNIX peer, data untouched.
  const int client3 = unix_client(where, where_len);
  send_all(client3, payload);
  len = sizeof ss;
  const int fd3 = lib.accept4(listener, reinterpret_cast<sockaddr *>(&ss), &len, 0);
  ck_assert_int_ge(fd3, 0);
  ck_assert_int_eq(ss.ss_family, AF_UNIX);
  ck_assert_int_eq(recv(fd3, buf, sizeof buf, 0), static_cast<ssize_t>(payload.size()));
  close(client);
  close(client2);
  close(client3);
}
END_TEST


// A header that trickles into a non-blocking AF_UNIX listener: poll() on a
// Unix socket ignores SO_RCVLOWAT, so this takes the stalled-socket path
// (looked at again on the listener's timer).
START_TEST(unix_event_loop_is_woken_for_a_late_header) {
  // Unix peers are trusted only when named (each test runs in its own
  // child; the settings are read at the first accept).
  setenv("LIBPROXYPROTO_ALLOW", "unix", 1);
  const library lib = open_library();
  sockaddr_un where;
  socklen_t where_len;
  const int listener = unix_listener(&where, &where_len);
  fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK);
  const bytes h = make_header(hdr_version::v2, "8.8.8.8", 4321, "127.0.0.1", 80);
  const int client = unix_client(where, where_len);
  send_all(client, bytes(h.begin(), h.begin() + 10));
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ck_assert_int_lt(lib.accept4(listener, reinterpret_cast<sockaddr *>(&ss), &len,
                               SOCK_NONBLOCK), 0);
  ck_assert_int_eq(errno, EAGAIN);
  sleep_ms(100);
  send_all(client, concat(bytes(h.begin() + 10, h.end()), payload));
  const int64_t sent = monotonic_ms();
  pollfd p{listener, POLLIN, 0};
  ck_assert_int_eq(lib.poll(&p, 1, 2000), 1);
  const int64_t delay = monotonic_ms() - sent;
  std::fprintf(stderr, "# AF_UNIX: poll() reported the listener readable after %lld ms\n",
               static_cast<long long>(delay));
  ck_assert_int_lt(delay, 100);
  len = sizeof ss;
  const int fd = lib.accept4(listener, reinterpret_cast<sockaddr *>(&ss), &len,
                             SOCK_NONBLOCK);
  ck_assert_int_ge(fd, 0);
  expect_address(ss, len, "inet 8.8.8.8 4321");
  char buf[64];
  ck_assert_int_eq(recv(fd, buf, sizeof buf, 0), static_cast<ssize_t>(payload.size()));
  // Nothing left: no connection but the client's ever reached the listener.
  len = sizeof ss;
  ck_assert_int_lt(lib.accept4(listener, reinterpret_cast<sockaddr *>(&ss), &len,
                               SOCK_NONBLOCK), 0);
  ck_assert_int_eq(errno, EAGAIN);
  close(client);
}
END_TEST

Suite *preload_suite() {
  Suite *s = suite_create("preload");
  struct named {
    const char *name;
    const TTest *test;
  };
  const named cases[] = {
      {"valid", v1_tcp4_header_is_consumed},
      {"valid", v2_tcp4_header_is_consumed},
      {"valid", v1_tcp6_on_ipv6_listener},
      {"families", ipv4_source_on_ipv6_listener_is_mapped},
      {"families", ipv6_source_on_ipv4_listener_is_inet6},
      {"valid", following_bytes_that_look_like_a_header_are_data},
      {"valid", large_v2_tlv_header_is_read_whole},
      {"valid", v2_with_valid_crc32c_is_accepted},
      {"valid", largest_header_followed_by_fin_is_read_whole},
      {"real_address", no_header_passes_through},
      {"real_address", v1_unknown_keeps_real_address},
      {"real_address", v2_local_keeps_real_address},
      {"versions", disabled_version_is_not_a_header},
      {"versions", version_zero_makes_the_library_inert},
      {"dropped", malformed_v1_is_dropped},
      {"dropped", v1_without_crlf_in_107_bytes_is_dropped},
      {"dropped", v2_bad_family_is_dropped},
      {"dropped", v2_crc32c_mismatch_is_dropped},
      {"dropped", v2_other_version_is_dropped},
      {"dropped", missing_header_under_must_use_is_dropped},
      {"dropped", partial_header_at_timeout_is_dropped},
      {"timing", split_v2_header_is_assembled},
      {"timing", split_v1_header_is_assembled},
      {"timing", silent_client_passes_through_after_timeout},
      {"timing", server_speaks_first_to_a_silent_client},
      {"timing", event_loop_speaks_first_to_a_silent_client},
      {"accept", accept4_flags_hold},
      {"accept", null_addr_is_allowed},
      {"accept", short_addrlen_truncates_and_reports_full_length},
      {"accept", nonblocking_listener_skips_dropped_connections},
      {"records", descriptors_above_1024_keep_their_record},
      {"records", reused_descriptor_reports_its_own_peer},
      {"head_of_line", blocking_accept_is_not_held_up_by_a_silent_client},
      {"head_of_line", event_loop_is_not_held_up_by_a_silent_client},
      {"head_of_line", blocking_accept_returns_a_late_header_promptly},
      {"head_of_line", event_loop_is_woken_for_a_late_header},
      {"head_of_line", split_header_on_an_event_loop_is_assembled},
      {"head_of_line", partial_header_at_timeout_is_dropped_by_an_event_loop},
      {"head_of_line", silent_client_is_dropped_under_must_use},
      {"direct", nonblocking_accept4_never_says_eagain_with_a_complete_connection},
      {"direct", a_dropped_connection_takes_a_stale_record_with_it},
      {"direct", close_range_forgets_records},
      {"direct", application_defer_accept_is_never_lowered},
      {"direct", unix_listener_reports_the_header_source},
      {"direct", unix_event_loop_is_woken_for_a_late_header},
  };
  TCase *current = nullptr;
  const char *current_name = "";
  for (const named &c : cases) {
    if (current == nullptr || std::strcmp(current_name, c.name) != 0) {
      current = tcase_create(c.name);
      tcase_set_timeout(current, 30);
      suite_add_tcase(s, current);
      current_name = c.name;
    }
    tcase_add_test(current, c.test);
  }
  return s;
}

}  // namespace

int main() {
  env_or_die("PP_HELPERS");
  env_or_die("LIBPROXYPROTO_SO");
  SRunner *runner = srunner_create(preload_suite());
  srunner_run_all(runner, CK_NORMAL);
  const int failed = srunner_ntests_failed(runner);
  srunner_free(runner);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
