// records/kept_headers: the headers kept for proxyproto_get_header() and
// the destinations for getsockname(). Store, copy, destination, forget;
// the largest header; a descriptor number reused by another socket
// (the record's inode check); fork().
#include <check.h>
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "core/proxy_header.h"
#include "records/kept_headers.h"
#include "suites.h"

namespace kept = proxyproto::kept_headers;
using pp_engine::sin4;
using pp_engine::sin6;
using pp_engine::unix_pair;

namespace {

const uint8_t v1_line[] = "PROXY TCP4 192.0.2.1 198.51.100.2 4321 80\r\n";
constexpr size_t v1_len = sizeof v1_line - 1;

std::vector<uint8_t> copied(int fd, ssize_t *n) {
  std::vector<uint8_t> buf(proxyproto::v2_max_length + 16, 0xEE);
  errno = 0;
  *n = kept::copy(fd, buf.data(), buf.size());
  if (*n >= 0) buf.resize(static_cast<size_t>(*n));
  return buf;
}

void expect_header(int fd, const uint8_t *want, size_t want_len) {
  ssize_t n;
  const std::vector<uint8_t> got = copied(fd, &n);
  ck_assert_int_eq(n, static_cast<ssize_t>(want_len));
  ck_assert_int_eq(std::memcmp(got.data(), want, want_len), 0);
}

void expect_no_header(int fd, int want_errno) {
  ssize_t n;
  copied(fd, &n);
  ck_assert_int_eq(n, -1);
  ck_assert_int_eq(errno, want_errno);
}

void expect_destination(int fd, const sockaddr_storage &want, socklen_t want_len) {
  sockaddr_storage got{};
  socklen_t got_len = 0;
  ck_assert(kept::destination(fd, &got, &got_len));
  ck_assert_uint_eq(got_len, want_len);
  ck_assert_int_eq(std::memcmp(&got, &want, want_len), 0);
}

void expect_no_destination(int fd) {
  sockaddr_storage got{};
  socklen_t got_len = 99;
  ck_assert(!kept::destination(fd, &got, &got_len));
  ck_assert_uint_eq(got_len, 99);
}

}  // namespace

START_TEST(store_copy_destination) {
  int fds[2];
  unix_pair(fds);
  socklen_t dl;
  const sockaddr_storage dest = sin4("198.51.100.2", 80, &dl);
  expect_no_header(fds[0], ENOENT);
  expect_no_destination(fds[0]);
  ck_assert(kept::store(fds[0], v1_line, v1_len, dest, dl, true));
  expect_header(fds[0], v1_line, v1_len);
  expect_destination(fds[0], dest, dl);
  // The other end of the pair has nothing.
  expect_no_header(fds[1], ENOENT);
  expect_no_destination(fds[1]);
}
END_TEST

START_TEST(copy_into_small_buffers) {
  int fds[2];
  unix_pair(fds);
  socklen_t dl;
  const sockaddr_storage dest = sin4("198.51.100.2", 80, &dl);
  ck_assert(kept::store(fds[0], v1_line, v1_len, dest, dl, true));
  // Too small: the length is returned and the buffer is left alone.
  uint8_t small[8];
  std::memset(small, 0x5A, sizeof small);
  ck_assert_int_eq(kept::copy(fds[0], small, sizeof small),
                   static_cast<ssize_t>(v1_len));
  for (uint8_t b : small) ck_assert_uint_eq(b, 0x5A);
  // No buffer: the length alone.
  ck_assert_int_eq(kept::copy(fds[0], nullptr, 0), static_cast<ssize_t>(v1_len));
  // Exactly the size.
  uint8_t exact[v1_len];
  ck_assert_int_eq(kept::copy(fds[0], exact, sizeof exact),
                   static_cast<ssize_t>(v1_len));
  ck_assert_int_eq(std::memcmp(exact, v1_line, v1_len), 0);
}
END_TEST

START_TEST(destination_only) {
  int fds[2];
  unix_pair(fds);
  socklen_t dl;
  const sockaddr_storage dest = sin6("2001:db8::80", 8080, &dl);
  // Kept for getsockname() only: no bytes for the API.
  ck_assert(kept::store(fds[0], v1_line, v1_len, dest, dl, false));
  expect_no_header(fds[0], ENOENT);
  expect_destination(fds[0], dest, dl);
  // Kept for the API, without a destination (a LOCAL header, say).
  ck_assert(kept::store(fds[1], v1_line, v1_len, sockaddr_storage{}, 0, true));
  expect_header(fds[1], v1_line, v1_len);
  expect_no_destination(fds[1]);
}
END_TEST

START_TEST(replace_and_forget) {
  int fds[2];
  unix_pair(fds);
  socklen_t dl;
  const sockaddr_storage dest = sin4("198.51.100.2", 80, &dl);
  const uint8_t second[] = "PROXY UNKNOWN\r\n";
  ck_assert(kept::store(fds[0], v1_line, v1_len, dest, dl, true));
  ck_assert(kept::store(fds[0], second, sizeof second - 1, sockaddr_storage{}, 0,
                        true));
  expect_header(fds[0], second, sizeof second - 1);
  expect_no_destination(fds[0]);
  kept::forget(fds[0]);
  expect_no_header(fds[0], ENOENT);
  kept::forget(fds[0]);  // twice: harmless
  kept::forget(-1);
  kept::forget(1 << 29);  // a page never mapped
}
END_TEST

START_TEST(forget_a_range) {
  int fds[2];
  unix_pair(fds);
  socklen_t dl;
  const sockaddr_storage dest = sin4("198.51.100.2", 80, &dl);
  // Six numbers of one socket (dup2 keeps the inode), each with a record.
  for (int fd = 500; fd < 506; ++fd) {
    ck_assert_int_eq(dup2(fds[0], fd), fd);
    ck_assert(kept::store(fd, v1_line, v1_len, dest, dl, true));
  }
  kept::forget_range(502, 503);
  expect_header(501, v1_line, v1_len);
  expect_no_header(502, ENOENT);
  expect_no_header(503, ENOENT);
  expect_header(504, v1_line, v1_len);
  kept::forget_range(505, 501);  // backwards: nothing
  expect_header(505, v1_line, v1_len);
  kept::forget_range(501, ~0U);  // close_range(501, ~0U)
  expect_header(500, v1_line, v1_len);
  for (int fd = 501; fd < 506; ++fd) expect_no_header(fd, ENOENT);
}
END_TEST

START_TEST(limits) {
  int fds[2];
  unix_pair(fds);
  // The largest v2 header (16 + 65535 bytes) is kept whole.
  std::vector<uint8_t> big(proxyproto::v2_max_length);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7);
  ck_assert(kept::store(fds[0], big.data(), big.size(), sockaddr_storage{}, 0, true));
  expect_header(fds[0], big.data(), big.size());
  // One byte more is no header.
  std::vector<uint8_t> too_big(proxyproto::v2_max_length + 1, 1);
  ck_assert(!kept::store(fds[1], too_big.data(), too_big.size(),
                         sockaddr_storage{}, 0, true));
  expect_no_header(fds[1], ENOENT);
  // A closed descriptor: nothing stored, EBADF when asked.
  const int closed = fds[1];
  close(closed);
  ck_assert(!kept::store(closed, v1_line, v1_len, sockaddr_storage{}, 0, true));
  expect_no_header(closed, EBADF);
  expect_no_header(-1, EBADF);
}
END_TEST

// A descriptor closed behind the library's back (a raw close system call,
// or a close the library never saw) and its number reused by another
// socket: the stale record is not that socket's.
START_TEST(reused_number_is_not_the_old_socket) {
  int first[2], second[2];
  unix_pair(first);
  unix_pair(second);
  socklen_t dl;
  const sockaddr_storage dest = sin4("198.51.100.2", 80, &dl);
  const int number = first[0];
  ck_assert(kept::store(number, v1_line, v1_len, dest, dl, true));
  // dup2 another socket onto the number: same number, another inode.
  ck_assert_int_eq(dup2(second[0], number), number);
  expect_no_header(number, ENOENT);
  expect_no_destination(number);
  // The same socket again under that number (dup2 of a dup): its record
  // stands, because it is the socket the header came with.
  int fresh[2];
  unix_pair(fresh);
  ck_assert(kept::store(fresh[0], v1_line, v1_len, dest, dl, true));
  const int copy = dup(fresh[0]);
  ck_assert_int_ge(copy, 0);
  ck_assert_int_eq(dup2(copy, fresh[0]), fresh[0]);
  expect_header(fresh[0], v1_line, v1_len);
  expect_destination(fresh[0], dest, dl);
}
END_TEST

START_TEST(records_survive_fork) {
  int fds[2];
  unix_pair(fds);
  socklen_t dl;
  const sockaddr_storage dest = sin4("198.51.100.2", 80, &dl);
  ck_assert(kept::store(fds[0], v1_line, v1_len, dest, dl, true));
  const pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    uint8_t buf[128];
    int code = 0;
    if (kept::copy(fds[0], buf, sizeof buf) != static_cast<ssize_t>(v1_len) ||
        std::memcmp(buf, v1_line, v1_len) != 0)
      code = 1;
    kept::forget(fds[0]);  // the child's close; its locks work after fork
    if (kept::copy(fds[0], buf, sizeof buf) != -1) code = 2;
    _exit(code);
  }
  int status = 0;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status));
  ck_assert_int_eq(WEXITSTATUS(status), 0);
  expect_header(fds[0], v1_line, v1_len);
}
END_TEST

Suite *make_kept_headers_suite(void) {
  Suite *s = suite_create("kept_headers");
  TCase *tc = tcase_create("records");
  tcase_add_test(tc, store_copy_destination);
  tcase_add_test(tc, copy_into_small_buffers);
  tcase_add_test(tc, destination_only);
  tcase_add_test(tc, replace_and_forget);
  tcase_add_test(tc, forget_a_range);
  tcase_add_test(tc, limits);
  tcase_add_test(tc, reused_number_is_not_the_old_socket);
  tcase_add_test(tc, records_survive_fork);
  suite_add_tcase(s, tc);
  return s;
}
