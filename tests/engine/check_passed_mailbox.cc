// records/passed_mailbox: a record posted under a socket's cookie is found
// by it, and by nothing else; the mailbox is believed only when it is a
// regular file of its user that nobody else can write; a full neighbourhood
// takes the newest posts; a slot left mid-write by a dead writer is skipped,
// never waited on.
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "records/passed_mailbox.h"
#include "suites.h"

namespace {

using namespace proxyproto;
using pp_engine::sin4;
using pp_engine::sin6;

// A fresh directory for this test's mailboxes (each test is its own
// process), removed with what is in it after the test.
char test_dir[] = "/tmp/pp-mailbox.XXXXXX";
bool dir_made = false;

std::string fresh_directory() {
  ck_assert_ptr_nonnull(mkdtemp(test_dir));
  dir_made = true;
  passed_mailbox::use_directory(test_dir);
  return test_dir;
}

void remove_directory(void) {
  if (!dir_made) return;
  if (DIR *d = opendir(test_dir)) {
    while (dirent *e = readdir(d))
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
        unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
  }
  rmdir(test_dir);
}

std::string own_mailbox(const std::string &dir) {
  return dir + "/libproxyproto-passed-1." + std::to_string(geteuid());
}

passed_mailbox::record claim(const char *address, uint16_t port) {
  passed_mailbox::record r{};
  r.peer = sin4(address, port, &r.peer_len);
  r.destination_len = 0;
  return r;
}

START_TEST(a_posted_record_is_found_by_its_cookie_only) {
  fresh_directory();
  passed_mailbox::record r = claim("203.0.113.7", 4321);
  r.destination = sin6("2001:db8::1", 443, &r.destination_len);
  ck_assert(passed_mailbox::post(1001, r));
  passed_mailbox::record got{};
  ck_assert(passed_mailbox::find(1001, &got));
  ck_assert_uint_eq(got.peer_len, r.peer_len);
  ck_assert_mem_eq(&got.peer, &r.peer, r.peer_len);
  ck_assert_uint_eq(got.destination_len, r.destination_len);
  ck_assert_mem_eq(&got.destination, &r.destination, r.destination_len);
  ck_assert(!passed_mailbox::find(1002, &got));
  ck_assert(!passed_mailbox::find(0, &got));
  // A new post under the same cookie replaces the old one.
  const passed_mailbox::record newer = claim("198.51.100.1", 80);
  ck_assert(passed_mailbox::post(1001, newer));
  ck_assert(passed_mailbox::find(1001, &got));
  ck_assert_mem_eq(&got.peer, &newer.peer, newer.peer_len);
}
END_TEST

// A receiver that looked before any mailbox existed (its first descriptor
// had no record) finds the very next post: a missing mailbox is looked for
// again at every receive.
START_TEST(a_mailbox_created_after_a_first_look_is_found_at_once) {
  fresh_directory();
  passed_mailbox::record got{};
  ck_assert(!passed_mailbox::find(31, &got));
  ck_assert(passed_mailbox::post(31, claim("203.0.113.31", 31)));
  ck_assert(passed_mailbox::find(31, &got));
}
END_TEST

START_TEST(nothing_is_posted_without_a_cookie_or_with_a_bad_length) {
  fresh_directory();
  passed_mailbox::record r = claim("203.0.113.7", 4321);
  ck_assert(!passed_mailbox::post(0, r));
  r.peer_len = 200;
  ck_assert(!passed_mailbox::post(5, r));
  r.peer_len = 0;
  ck_assert(!passed_mailbox::post(5, r));
}
END_TEST

START_TEST(the_mailbox_is_private_to_its_user) {
  const std::string dir = fresh_directory();
  ck_assert(passed_mailbox::post(7, claim("203.0.113.7", 4321)));
  struct stat st;
  ck_assert_int_eq(stat(own_mailbox(dir).c_str(), &st), 0);
  ck_assert(S_ISREG(st.st_mode));
  ck_assert_uint_eq(st.st_uid, geteuid());
  // Root's is read by every user; any other user's by that user alone.
  ck_assert_uint_eq(st.st_mode & 07777, geteuid() == 0 ? 0644u : 0600u);
}
END_TEST

// A mailbox that someone else could have written is not believed: a
// group- or world-writable file, or one behind a symbolic link.
START_TEST(a_mailbox_others_may_write_is_not_believed) {
  const std::string dir = fresh_directory();
  const std::string path = own_mailbox(dir);
  ck_assert(passed_mailbox::post(9, claim("203.0.113.7", 4321)));
  ck_assert_int_eq(chmod(path.c_str(), 0666), 0);
  passed_mailbox::record got{};
  // The reader maps its copy on its first look: this is that look.
  ck_assert(!passed_mailbox::find(9, &got));
}
END_TEST

START_TEST(a_mailbox_behind_a_link_is_not_believed) {
  const std::string dir = fresh_directory();
  const std::string path = own_mailbox(dir);
  const std::string elsewhere = dir + "/planted";
  // A well-formed mailbox, posted to, then moved and linked to.
  ck_assert(passed_mailbox::post(11, claim("203.0.113.7", 4321)));
  ck_assert_int_eq(rename(path.c_str(), elsewhere.c_str()), 0);
  ck_assert_int_eq(symlink(elsewhere.c_str(), path.c_str()), 0);
  passed_mailbox::record got{};
  ck_assert(!passed_mailbox::find(11, &got));
}
END_TEST

// Another user's file under this user's name (a squatted name): refused for
// posting and for reading. Needs root to make a file of another owner.
START_TEST(a_mailbox_of_another_owner_is_not_believed) {
  if (geteuid() != 0) return;  // the ownership check itself is exercised as root
  const std::string dir = fresh_directory();
  const std::string path = own_mailbox(dir);
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL, 0644);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(ftruncate(fd, 1 << 20), 0);
  ck_assert_int_eq(fchown(fd, 65534, 65534), 0);
  close(fd);
  ck_assert(!passed_mailbox::post(13, claim("203.0.113.7", 4321)));
  passed_mailbox::record got{};
  ck_assert(!passed_mailbox::find(13, &got));
}
END_TEST

// Cookies that share a neighbourhood: the newest posts stay findable.
START_TEST(a_full_neighbourhood_keeps_the_newest_posts) {
  fresh_directory();
  // Cookies 1 and 1 + k * 4096 * ... need not collide; post many cookies
  // whose home slots are spread, then many more than a neighbourhood holds
  // for one region: every one of the last eight is still found.
  constexpr int posts = 20000;
  for (int i = 1; i <= posts; ++i)
    ck_assert(passed_mailbox::post(static_cast<uint64_t>(i), claim("203.0.113.9", 9)));
  passed_mailbox::record got{};
  for (int i = posts - 7; i <= posts; ++i)
    ck_assert_msg(passed_mailbox::find(static_cast<uint64_t>(i), &got), "cookie %d", i);
}
END_TEST

// A writer that died mid-write leaves its slot's sequence odd: the reader
// skips it and the writer moves on to another slot, neither waits.
START_TEST(a_slot_left_mid_write_is_skipped) {
  const std::string dir = fresh_directory();
  ck_assert(passed_mailbox::post(21, claim("203.0.113.21", 21)));
  const int fd = open(own_mailbox(dir).c_str(), O_RDWR);
  ck_assert_int_ge(fd, 0);
  struct stat st;
  ck_assert_int_eq(fstat(fd, &st), 0);
  void *p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ | PROT_WRITE,
                 MAP_SHARED, fd, 0);
  ck_assert(p != MAP_FAILED);
  close(fd);
  // Make every slot's sequence odd, as if each writer had died.
  auto *words = static_cast<uint32_t *>(p);
  const size_t slot_words = 19, header_words = 16;
  const size_t slots = (static_cast<size_t>(st.st_size) / 4 - header_words) / slot_words;
  for (size_t i = 0; i < slots; ++i) words[header_words + i * slot_words] |= 1u;
  passed_mailbox::record got{};
  ck_assert(!passed_mailbox::find(21, &got));
  ck_assert(!passed_mailbox::post(22, claim("203.0.113.22", 22)));
  munmap(p, static_cast<size_t>(st.st_size));
}
END_TEST

// Where the kernel has no SO_COOKIE (Linux before 4.12, and qemu-user,
// which does not emulate it: the architectures stage runs these suites
// there), cookie_of() says 0, so nothing is posted or found: a passed
// descriptor then reports its real peer. Elsewhere each socket has its own.
START_TEST(a_cookie_is_a_sockets_alone) {
  int fds[2];
  pp_engine::unix_pair(fds);
  uint64_t raw = 0;
  socklen_t raw_len = sizeof raw;
  if (getsockopt(fds[0], SOL_SOCKET, SO_COOKIE, &raw, &raw_len) != 0) {
    ck_assert(errno == EINVAL || errno == ENOPROTOOPT);
    ck_assert_uint_eq(passed_mailbox::cookie_of(fds[0]), 0);
    ck_assert_uint_eq(passed_mailbox::cookie_of(fds[1]), 0);
    passed_mailbox::record r{};
    ck_assert(!passed_mailbox::find(0, &r));
    return;
  }
  const uint64_t a = passed_mailbox::cookie_of(fds[0]);
  const uint64_t b = passed_mailbox::cookie_of(fds[1]);
  ck_assert_uint_ne(a, 0);
  ck_assert_uint_ne(b, 0);
  ck_assert_uint_ne(a, b);
  // A duplicate is the same socket.
  const int copy = dup(fds[0]);
  ck_assert_uint_eq(passed_mailbox::cookie_of(copy), a);
  // A pipe is no socket.
  int p[2];
  ck_assert_int_eq(pipe(p), 0);
  ck_assert_uint_eq(passed_mailbox::cookie_of(p[0]), 0);
}
END_TEST

}  // namespace

Suite *make_passed_mailbox_suite(void) {
  Suite *s = suite_create("passed_mailbox");
  TCase *tc = tcase_create("mailbox");
  tcase_add_checked_fixture(tc, nullptr, remove_directory);
  tcase_add_test(tc, a_posted_record_is_found_by_its_cookie_only);
  tcase_add_test(tc, a_mailbox_created_after_a_first_look_is_found_at_once);
  tcase_add_test(tc, nothing_is_posted_without_a_cookie_or_with_a_bad_length);
  tcase_add_test(tc, the_mailbox_is_private_to_its_user);
  tcase_add_test(tc, a_mailbox_others_may_write_is_not_believed);
  tcase_add_test(tc, a_mailbox_behind_a_link_is_not_believed);
  tcase_add_test(tc, a_mailbox_of_another_owner_is_not_believed);
  tcase_add_test(tc, a_full_neighbourhood_keeps_the_newest_posts);
  tcase_add_test(tc, a_slot_left_mid_write_is_skipped);
  tcase_add_test(tc, a_cookie_is_a_sockets_alone);
  suite_add_tcase(s, tc);
  return s;
}
