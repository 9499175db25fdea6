// tests/engine/check_engine: the white-box suites of the server library's
// stateful units in one program.
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "suites.h"

namespace pp_engine {

sockaddr_storage sin4(const char *text, uint16_t port, socklen_t *len) {
  sockaddr_storage ss{};
  auto *sin = reinterpret_cast<sockaddr_in *>(&ss);
  sin->sin_family = AF_INET;
  sin->sin_port = htons(port);
  ck_assert_int_eq(inet_pton(AF_INET, text, &sin->sin_addr), 1);
  *len = sizeof(sockaddr_in);
  return ss;
}

sockaddr_storage sin6(const char *text, uint16_t port, socklen_t *len) {
  sockaddr_storage ss{};
  auto *sin6 = reinterpret_cast<sockaddr_in6 *>(&ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  ck_assert_int_eq(inet_pton(AF_INET6, text, &sin6->sin6_addr), 1);
  *len = sizeof(sockaddr_in6);
  return ss;
}

void unix_pair(int fds[2]) {
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
}

void tcp_pair(int *accepted, int *peer, int *listener) {
  const int l = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(l, 0);
  socklen_t len;
  sockaddr_storage at = sin4("127.0.0.1", 0, &len);
  ck_assert_int_eq(bind(l, reinterpret_cast<sockaddr *>(&at), len), 0);
  ck_assert_int_eq(listen(l, 8), 0);
  len = sizeof at;
  ck_assert_int_eq(getsockname(l, reinterpret_cast<sockaddr *>(&at), &len), 0);
  *peer = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(*peer, 0);
  ck_assert_int_eq(connect(*peer, reinterpret_cast<sockaddr *>(&at), len), 0);
  *accepted = accept(l, nullptr, nullptr);
  ck_assert_int_ge(*accepted, 0);
  if (listener != nullptr)
    *listener = l;
  else
    close(l);
}

void send_all(int fd, const void *bytes, size_t len) {
  const auto *p = static_cast<const char *>(bytes);
  while (len > 0) {
    const ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    ck_assert_msg(n > 0, "send failed: %s", std::strerror(errno));
    p += n;
    len -= static_cast<size_t>(n);
  }
}

std::string peek_all(int fd) {
  static char buf[1 << 17];
  const ssize_t n = recv(fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

std::string read_some(int fd) {
  static char buf[1 << 17];
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, 2000) <= 0) return std::string();
  const ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

bool is_open(int fd) { return fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

}  // namespace pp_engine

int main(void) {
  SRunner *sr = srunner_create(make_peer_addresses_suite());
  srunner_add_suite(sr, make_kept_headers_suite());
  srunner_add_suite(sr, make_pending_pool_suite());
  srunner_add_suite(sr, make_header_reader_suite());
  srunner_add_suite(sr, make_connection_scope_suite());
  srunner_add_suite(sr, make_captured_environment_suite());
  srunner_add_suite(sr, make_handover_suite());
  srunner_add_suite(sr, make_iov_bytes_suite());
  srunner_add_suite(sr, make_shared_accept_suite());
  srunner_add_suite(sr, make_reply_map_suite());
  srunner_add_suite(sr, make_usual_header_suite());
  srunner_add_suite(sr, make_passed_mailbox_suite());
  // Each test in a fresh child: the units' state is process-wide.
  srunner_set_fork_status(sr, CK_FORK);
  srunner_run_all(sr, CK_NORMAL);
  const int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
