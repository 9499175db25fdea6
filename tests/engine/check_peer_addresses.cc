// records/peer_addresses: what getpeername() reports for a descriptor that
// carried a header. Store, lookup, forget, forget_range and copy; numbers
// far above 1024 and across the table's pages; concurrent writers and
// readers; fork() while another thread writes.
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstring>

#include "records/peer_addresses.h"
#include "suites.h"

namespace records = proxyproto::peer_addresses;
using pp_engine::sin4;
using pp_engine::sin6;

namespace {

// One page of the table holds 2^15 descriptors (see peer_addresses.cc);
// the table ends at 2^30. The first 4096 entries are static, before page 0's
// (records/descriptor_table.h).
constexpr int page_entries = 1 << 15;
constexpr int static_entries = 4096;
constexpr int table_end = 1 << 30;

bool same(const sockaddr_storage &a, socklen_t alen, const sockaddr_storage &b,
          socklen_t blen) {
  return alen == blen && std::memcmp(&a, &b, alen) == 0;
}

// fd's record is exactly (want, want_len).
void expect_record(int fd, const sockaddr_storage &want, socklen_t want_len) {
  sockaddr_storage got;
  std::memset(&got, 0xAB, sizeof got);
  socklen_t got_len = 0;
  ck_assert_msg(records::lookup(fd, &got, &got_len), "fd %d has no record", fd);
  ck_assert_msg(same(got, got_len, want, want_len), "fd %d: wrong record", fd);
  // Nothing of an earlier, longer record or of the caller's buffer is left
  // behind the address.
  const auto *rest = reinterpret_cast<const unsigned char *>(&got) + got_len;
  for (size_t i = 0; i < sizeof got - got_len; ++i)
    ck_assert_uint_eq(rest[i], 0);
}

void expect_none(int fd) {
  sockaddr_storage got;
  socklen_t got_len = 77;
  ck_assert_msg(!records::lookup(fd, &got, &got_len), "fd %d has a record", fd);
  ck_assert_uint_eq(got_len, 77);  // untouched
}

}  // namespace

START_TEST(store_and_lookup) {
  socklen_t l4, l6;
  const sockaddr_storage a4 = sin4("192.0.2.1", 4321, &l4);
  const sockaddr_storage a6 = sin6("2001:db8::1", 443, &l6);
  expect_none(5);
  ck_assert(records::store(5, a4, l4));
  ck_assert(records::store(6, a6, l6));
  expect_record(5, a4, l4);
  expect_record(6, a6, l6);
  expect_none(4);
  expect_none(7);
  // A new record replaces the old one, shorter after longer included.
  ck_assert(records::store(6, a4, l4));
  expect_record(6, a4, l4);
  ck_assert(records::store(6, a6, l6));
  expect_record(6, a6, l6);
}
END_TEST

START_TEST(refuses_what_it_cannot_keep) {
  socklen_t l4;
  const sockaddr_storage a4 = sin4("192.0.2.1", 1, &l4);
  ck_assert(!records::store(-1, a4, l4));
  ck_assert(!records::store(5, a4, 0));
  // A sockaddr longer than any IP one (an AF_UNIX path, say) is not kept.
  ck_assert(!records::store(5, a4, sizeof(sockaddr_storage)));
  expect_none(5);
  expect_none(-1);
  expect_none(INT_MIN);
  records::forget(-1);  // harmless
  records::copy(-1, 5);
  expect_none(5);
}
END_TEST

START_TEST(high_descriptor_numbers) {
  socklen_t l4, l6;
  const sockaddr_storage a4 = sin4("198.51.100.7", 80, &l4);
  const sockaddr_storage a6 = sin6("::ffff:198.51.100.7", 80, &l6);
  // Far above a fixed 1024-entry array, on both sides of page boundaries.
  const int numbers[] = {1023, 1024, static_entries - 1, static_entries + 1, 65535,
                         page_entries - 1, page_entries, 5 * page_entries + 17, 1 << 20,
                         table_end - 1};
  for (int fd : numbers) ck_assert_msg(records::store(fd, a4, l4), "fd %d", fd);
  for (int fd : numbers) expect_record(fd, a4, l4);
  // Their neighbours stay empty.
  for (int fd : numbers) {
    bool stored = false;
    for (int other : numbers) stored = stored || other == fd + 1;
    if (!stored && fd + 1 < table_end) expect_none(fd + 1);
    if (fd - 1 != 1023 && fd - 1 != page_entries - 1) expect_none(fd - 1);
  }
  // The first entry after the static ones, in page 0.
  expect_none(static_entries);
  ck_assert(records::store(static_entries, a6, l6));
  expect_record(static_entries - 1, a4, l4);
  expect_record(static_entries, a6, l6);
  expect_record(static_entries + 1, a4, l4);
  ck_assert(records::store(page_entries, a6, l6));
  expect_record(page_entries - 1, a4, l4);
  expect_record(page_entries, a6, l6);
  // Beyond the table: refused, never a wrong record.
  ck_assert(!records::store(table_end, a4, l4));
  ck_assert(!records::store(INT_MAX, a4, l4));
  expect_none(table_end);
  expect_none(INT_MAX);
}
END_TEST

START_TEST(forget_one) {
  socklen_t l4;
  const sockaddr_storage a4 = sin4("192.0.2.9", 9, &l4);
  ck_assert(records::store(10, a4, l4));
  ck_assert(records::store(11, a4, l4));
  records::forget(10);
  expect_none(10);
  expect_record(11, a4, l4);
  records::forget(10);  // twice: harmless
  records::forget(12);  // never stored
  records::forget(3 * page_entries);  // on a page never mapped
  expect_record(11, a4, l4);
  // The number can carry a record again.
  ck_assert(records::store(10, a4, l4));
  expect_record(10, a4, l4);
}
END_TEST

START_TEST(forget_a_range) {
  socklen_t l4;
  const sockaddr_storage a4 = sin4("192.0.2.10", 10, &l4);
  const int stored[] = {3, 10, 11, 12, 20, static_entries - 1, static_entries,
                        page_entries - 1, page_entries, 2 * page_entries + 5, 1 << 22};
  for (int fd : stored) ck_assert(records::store(fd, a4, l4));
  // Across the end of the static entries, into page 0.
  records::forget_range(static_entries - 1, static_entries);
  expect_none(static_entries - 1);
  expect_none(static_entries);
  expect_record(20, a4, l4);
  expect_record(page_entries - 1, a4, l4);
  ck_assert(records::store(static_entries - 1, a4, l4));
  ck_assert(records::store(static_entries, a4, l4));
  records::forget_range(11, 12);
  expect_none(11);
  expect_none(12);
  expect_record(10, a4, l4);
  expect_record(20, a4, l4);
  // Backwards: nothing.
  records::forget_range(20, 10);
  expect_record(20, a4, l4);
  // Across page boundaries, up to the end (close_range(N, ~0U)).
  records::forget_range(page_entries, ~0U);
  expect_record(page_entries - 1, a4, l4);
  expect_none(page_entries);
  expect_none(2 * page_entries + 5);
  expect_none(1 << 22);
  // close_range(3, ~0U): everything from 3.
  records::forget_range(3, ~0U);
  for (int fd : stored) expect_none(fd);
}
END_TEST

// next() walks every record in order, and only records: across the end
// of the static entries, a page 0 mapped or not, pages never mapped.
START_TEST(next_walks_every_record) {
  socklen_t l4;
  const sockaddr_storage a4 = sin4("192.0.2.11", 11, &l4);
  sockaddr_storage got;
  socklen_t got_len = 0;
  ck_assert_int_eq(records::next(-1, &got, &got_len), -1);  // nothing yet
  const int stored[] = {static_entries, page_entries + 3, 7 * page_entries, 1 << 24};
  for (int fd : stored) ck_assert(records::store(fd, a4, l4));
  // No static entry was ever wanted; page 0 holds the first after them.
  int fd = -1;
  for (int want : stored) {
    fd = records::next(fd, &got, &got_len);
    ck_assert_int_eq(fd, want);
    ck_assert(same(got, got_len, a4, l4));
  }
  ck_assert_int_eq(records::next(fd, &got, &got_len), -1);
  // Now around the static entries' end, with one erased record between.
  const int low[] = {0, 5, static_entries - 1, static_entries + 9};
  for (int n : low) ck_assert(records::store(n, a4, l4));
  records::forget(5);
  const int want_all[] = {0, static_entries - 1, static_entries, static_entries + 9,
                          page_entries + 3, 7 * page_entries, 1 << 24};
  fd = -1;
  for (int want : want_all) {
    fd = records::next(fd, &got, &got_len);
    ck_assert_int_eq(fd, want);
  }
  ck_assert_int_eq(records::next(fd, &got, &got_len), -1);
}
END_TEST

START_TEST(copy_follows_dup) {
  socklen_t l4, l6;
  const sockaddr_storage a4 = sin4("203.0.113.5", 5555, &l4);
  const sockaddr_storage a6 = sin6("2001:db8::5", 5556, &l6);
  ck_assert(records::store(30, a4, l4));
  ck_assert(records::store(31, a6, l6));
  records::copy(30, 40);  // dup(30) -> 40
  expect_record(40, a4, l4);
  expect_record(30, a4, l4);  // the original keeps its own
  records::copy(31, 40);  // dup2(31, 40) replaces 40's record
  expect_record(40, a6, l6);
  records::copy(32, 40);  // dup2 of a descriptor without a record
  expect_none(40);
  records::copy(30, 1 << 21);  // onto a page not yet mapped
  expect_record(1 << 21, a4, l4);
  records::copy(30, 30);  // dup2(fd, fd)
  expect_record(30, a4, l4);
}
END_TEST

namespace {

// Writers store addresses whose port is the low 16 bits of the IPv4
// address; readers must never see a record that mixes two writes.
std::atomic<bool> stop_flag{false};
constexpr int contended_fd = 77;

sockaddr_storage numbered(uint32_t n, socklen_t *len) {
  sockaddr_storage ss{};
  auto *sin = reinterpret_cast<sockaddr_in *>(&ss);
  sin->sin_family = AF_INET;
  sin->sin_addr.s_addr = htonl(n);
  sin->sin_port = htons(static_cast<uint16_t>(n & 0xFFFF));
  *len = sizeof(sockaddr_in);
  return ss;
}

void *writer(void *arg) {
  uint32_t n = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(arg)) << 24;
  while (!stop_flag.load(std::memory_order_relaxed)) {
    socklen_t len;
    const sockaddr_storage a = numbered(++n, &len);
    records::store(contended_fd, a, len);
  }
  return nullptr;
}

}  // namespace

START_TEST(concurrent_writers_and_readers) {
  socklen_t len;
  const sockaddr_storage first = numbered(1, &len);
  ck_assert(records::store(contended_fd, first, len));
  pthread_t threads[3];
  for (uintptr_t i = 0; i < 3; ++i)
    ck_assert_int_eq(pthread_create(&threads[i], nullptr, writer,
                                    reinterpret_cast<void *>(i + 1)), 0);
  long torn = 0, missing = 0;
  for (int i = 0; i < 300000; ++i) {
    sockaddr_storage got;
    socklen_t got_len = 0;
    if (!records::lookup(contended_fd, &got, &got_len)) {
      ++missing;
      continue;
    }
    const auto *sin = reinterpret_cast<const sockaddr_in *>(&got);
    if (got_len != sizeof(sockaddr_in) || sin->sin_family != AF_INET ||
        ntohs(sin->sin_port) != (ntohl(sin->sin_addr.s_addr) & 0xFFFF))
      ++torn;
  }
  stop_flag = true;
  for (pthread_t t : threads) pthread_join(t, nullptr);
  ck_assert_int_eq(torn, 0);
  ck_assert_int_eq(missing, 0);  // replaced, never absent in between
}
END_TEST

START_TEST(records_survive_fork) {
  socklen_t l4;
  const sockaddr_storage a4 = sin4("192.0.2.44", 4444, &l4);
  ck_assert(records::store(44, a4, l4));
  const pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    // The child inherits the descriptors, and so the records.
    sockaddr_storage got;
    socklen_t got_len = 0;
    const bool ok = records::lookup(44, &got, &got_len) &&
                    same(got, got_len, a4, l4);
    records::forget(44);  // the child's close
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status));
  ck_assert_int_eq(WEXITSTATUS(status), 0);
  expect_record(44, a4, l4);  // the child's forget was its own
}
END_TEST

// fork() while another thread is inside a write: the child must neither
// hang on the half-written entry (reading or writing it) nor see a torn
// record.
START_TEST(fork_during_writes) {
  socklen_t len;
  const sockaddr_storage first = numbered(1, &len);
  ck_assert(records::store(contended_fd, first, len));
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, nullptr, writer, reinterpret_cast<void *>(9)), 0);
  for (int i = 0; i < 40; ++i) {
    const pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
      alarm(5);  // a hang is a failure, not a stuck test
      sockaddr_storage got;
      socklen_t got_len = 0;
      int code = 0;
      if (records::lookup(contended_fd, &got, &got_len)) {
        const auto *sin = reinterpret_cast<const sockaddr_in *>(&got);
        if (ntohs(sin->sin_port) != (ntohl(sin->sin_addr.s_addr) & 0xFFFF))
          code = 2;
      }
      socklen_t l;
      const sockaddr_storage fresh = numbered(0x01020304, &l);
      if (!records::store(contended_fd, fresh, l)) code = 3;
      if (!records::lookup(contended_fd, &got, &got_len) ||
          !same(got, got_len, fresh, l))
        code = 4;
      _exit(code);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status), "child %d killed by signal %d", i,
                  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    ck_assert_int_eq(WEXITSTATUS(status), 0);
  }
  stop_flag = true;
  pthread_join(t, nullptr);
}
END_TEST

Suite *make_peer_addresses_suite(void) {
  Suite *s = suite_create("peer_addresses");
  TCase *tc = tcase_create("records");
  tcase_add_test(tc, store_and_lookup);
  tcase_add_test(tc, refuses_what_it_cannot_keep);
  tcase_add_test(tc, high_descriptor_numbers);
  tcase_add_test(tc, forget_one);
  tcase_add_test(tc, forget_a_range);
  tcase_add_test(tc, next_walks_every_record);
  tcase_add_test(tc, copy_follows_dup);
  suite_add_tcase(s, tc);
  tc = tcase_create("threads_and_fork");
  tcase_add_test(tc, concurrent_writers_and_readers);
  tcase_add_test(tc, records_survive_fork);
  tcase_add_test(tc, fork_during_writes);
  suite_add_tcase(s, tc);
  return s;
}
