// Both sides of the hand-over across exec (lib/exec/handover.h) on real
// sockets in one process: which records child_environment::prepare()
// writes, and what adopt() attaches, removes and refuses.
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "exec/handover.h"
#include "records/peer_addresses.h"
#include "suites.h"

namespace ph = proxyproto::peer_addresses;
using proxyproto::exec_handover::adopt;
using proxyproto::exec_handover::child_environment;

namespace {

sockaddr_storage v4(const char *ip, uint16_t port, socklen_t *len) {
  sockaddr_storage ss{};
  auto *sin = reinterpret_cast<sockaddr_in *>(&ss);
  sin->sin_family = AF_INET;
  sin->sin_port = htons(port);
  inet_pton(AF_INET, ip, &sin->sin_addr);
  *len = sizeof(sockaddr_in);
  return ss;
}

std::string recorded(int fd) {
  sockaddr_storage ss;
  socklen_t len = 0;
  if (!ph::lookup(fd, &ss, &len)) return "none";
  const auto *sin = reinterpret_cast<const sockaddr_in *>(&ss);
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
  return std::string(text) + ":" + std::to_string(ntohs(sin->sin_port));
}

std::string identity(int fd) {
  struct stat st;
  fstat(fd, &st);
  return std::to_string(st.st_dev) + "," + std::to_string(st.st_ino);
}

// An environment of owned strings, as a char ** array.
struct environment {
  std::vector<std::string> strings;
  std::vector<char *> pointers;
  explicit environment(std::vector<std::string> s) : strings(std::move(s)) {
    for (auto &e : strings) pointers.push_back(e.data());
    pointers.push_back(nullptr);
  }
  char **get() { return pointers.data(); }
  size_t size() const {
    size_t n = 0;
    while (pointers[n] != nullptr) ++n;
    return n;
  }
};

int sockets[2];

void setup() {
  ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sockets), 0);
}

void teardown() {
  ph::forget(sockets[0]);
  ph::forget(sockets[1]);
  close(sockets[0]);
  close(sockets[1]);
}

}  // namespace

START_TEST(nothing_to_hand_over_passes_envp_itself) {
  environment env({"A=1", "LIBPROXYPROTO_HANDOVER=v1"});
  child_environment room;
  ck_assert_ptr_eq(room.prepare(env.get()), env.get());
}
END_TEST

START_TEST(records_gone_leave_envp_alone) {
  socklen_t len;
  const auto claim = v4("203.0.113.7", 4321, &len);
  ph::store(sockets[0], claim, len);
  ph::forget(sockets[0]);
  environment env({"A=1"});
  child_environment room;
  ck_assert_ptr_eq(room.prepare(env.get()), env.get());
}
END_TEST

START_TEST(prepare_names_inherited_records_only) {
  socklen_t len;
  const auto claim = v4("203.0.113.7", 4321, &len);
  ph::store(sockets[0], claim, len);
  ph::store(sockets[1], claim, len);
  fcntl(sockets[1], F_SETFD, FD_CLOEXEC);
  environment env({"A=1", "LIBPROXYPROTO_HANDOVER=v1;9,1,1,192.0.2.1,1", "B=2"});
  child_environment room;
  char *const *out = room.prepare(env.get());
  ck_assert_ptr_ne(out, env.get());
  ck_assert_str_eq(out[0], "A=1");
  ck_assert_str_eq(out[1], "B=2");
  const std::string want = "LIBPROXYPROTO_HANDOVER=v1;" + std::to_string(sockets[0]) +
                           "," + identity(sockets[0]) + ",203.0.113.7,4321";
  ck_assert_str_eq(out[2], want.c_str());
  ck_assert_ptr_null(out[3]);
}
END_TEST

START_TEST(prepare_with_a_null_envp) {
  socklen_t len;
  const auto claim = v4("203.0.113.7", 4321, &len);
  ph::store(sockets[0], claim, len);
  child_environment room;
  char *const *out = room.prepare(nullptr);
  ck_assert_ptr_nonnull(out);
  ck_assert(std::strncmp(out[0], "LIBPROXYPROTO_HANDOVER=v1;", 26) == 0);
  ck_assert_ptr_null(out[1]);
}
END_TEST

START_TEST(prepare_maps_room_for_a_large_environment) {
  socklen_t len;
  const auto claim = v4("203.0.113.7", 4321, &len);
  ph::store(sockets[0], claim, len);
  std::vector<std::string> many;
  for (int i = 0; i < 5000; ++i) many.push_back("V" + std::to_string(i) + "=x");
  environment env(many);
  child_environment room;
  char *const *out = room.prepare(env.get());
  ck_assert_str_eq(out[4999], "V4999=x");
  ck_assert(std::strncmp(out[5000], "LIBPROXYPROTO_HANDOVER=", 23) == 0);
  ck_assert_ptr_null(out[5001]);
}
END_TEST

START_TEST(prepare_hands_over_at_most_64_lowest_first) {
  socklen_t len;
  const auto claim = v4("203.0.113.7", 4321, &len);
  std::vector<int> fds;
  for (int i = 0; i < 35; ++i) {  // 70 sockets with records
    int pair[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    fds.push_back(pair[0]);
    fds.push_back(pair[1]);
  }
  for (int fd : fds) ph::store(fd, claim, len);
  environment env({"A=1"});
  child_environment room;
  char *const *out = room.prepare(env.get());
  const std::string value = out[1];
  size_t entries = 0;
  for (char c : value) entries += c == ';';
  ck_assert_uint_eq(entries, proxyproto::handover_max_entries);
  int highest_named = -1;
  for (size_t at = value.find(';'); at != std::string::npos;
       at = value.find(';', at + 1))
    highest_named = std::atoi(value.c_str() + at + 1);
  // The 64 lowest of the 70 descriptors with records.
  std::vector<int> all = fds;
  std::sort(all.begin(), all.end());
  ck_assert_int_eq(highest_named, all[63]);
  for (int fd : fds) {
    ph::forget(fd);
    close(fd);
  }
}
END_TEST

START_TEST(adopt_attaches_by_identity_and_removes_the_variable) {
  const int fd = sockets[0];
  const std::string value = "LIBPROXYPROTO_HANDOVER=v1;" + std::to_string(fd) + "," +
                            identity(fd) + ",198.51.100.9,999";
  environment env({"A=1", value, "B=2"});
  adopt(env.get(), false);
  ck_assert_uint_eq(env.size(), 2);
  ck_assert_str_eq(env.get()[0], "A=1");
  ck_assert_str_eq(env.get()[1], "B=2");
  PP_ASSERT_STR(recorded(fd), "198.51.100.9:999");
  PP_ASSERT_STR(recorded(sockets[1]), "none");
}
END_TEST

START_TEST(adopt_refuses_another_socket_under_the_number) {
  const int fd = sockets[0];
  // The identity of the other end: a different socket.
  const std::string value = "LIBPROXYPROTO_HANDOVER=v1;" + std::to_string(fd) + "," +
                            identity(sockets[1]) + ",198.51.100.9,999";
  environment env({value});
  adopt(env.get(), false);
  ck_assert_uint_eq(env.size(), 0);
  PP_ASSERT_STR(recorded(fd), "none");
}
END_TEST

START_TEST(adopt_in_secure_mode_removes_and_ignores) {
  const int fd = sockets[0];
  const std::string value = "LIBPROXYPROTO_HANDOVER=v1;" + std::to_string(fd) + "," +
                            identity(fd) + ",198.51.100.9,999";
  environment env({value, "A=1"});
  adopt(env.get(), true);
  ck_assert_uint_eq(env.size(), 1);
  ck_assert_str_eq(env.get()[0], "A=1");
  PP_ASSERT_STR(recorded(fd), "none");
}
END_TEST

START_TEST(adopt_ignores_two_values_and_malformed_ones) {
  const int fd = sockets[0];
  const std::string good = "LIBPROXYPROTO_HANDOVER=v1;" + std::to_string(fd) + "," +
                           identity(fd) + ",198.51.100.9,999";
  environment twice({good, good});
  adopt(twice.get(), false);
  ck_assert_uint_eq(twice.size(), 0);
  PP_ASSERT_STR(recorded(fd), "none");
  environment bad({good + ";"});
  adopt(bad.get(), false);
  ck_assert_uint_eq(bad.size(), 0);
  PP_ASSERT_STR(recorded(fd), "none");
  environment not_ours({"LIBPROXYPROTO_HANDOVERX=1", "LIBPROXYPROTO_HANDOVER"});
  adopt(not_ours.get(), false);
  ck_assert_uint_eq(not_ours.size(), 2);  // other names are left alone
}
END_TEST

START_TEST(adopt_ignores_what_is_not_a_socket) {
  const int fd = open("/dev/null", O_RDONLY);
  ck_assert_int_ge(fd, 0);
  const std::string value = "LIBPROXYPROTO_HANDOVER=v1;" + std::to_string(fd) + "," +
                            identity(fd) + ",198.51.100.9,999";
  environment env({value});
  adopt(env.get(), false);
  PP_ASSERT_STR(recorded(fd), "none");
  close(fd);
}
END_TEST

Suite *make_handover_suite(void) {
  Suite *s = suite_create("handover");
  TCase *tc = tcase_create("exec");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, nothing_to_hand_over_passes_envp_itself);
  tcase_add_test(tc, records_gone_leave_envp_alone);
  tcase_add_test(tc, prepare_names_inherited_records_only);
  tcase_add_test(tc, prepare_with_a_null_envp);
  tcase_add_test(tc, prepare_maps_room_for_a_large_environment);
  tcase_add_test(tc, prepare_hands_over_at_most_64_lowest_first);
  tcase_add_test(tc, adopt_attaches_by_identity_and_removes_the_variable);
  tcase_add_test(tc, adopt_refuses_another_socket_under_the_number);
  tcase_add_test(tc, adopt_in_secure_mode_removes_and_ignores);
  tcase_add_test(tc, adopt_ignores_two_values_and_malformed_ones);
  tcase_add_test(tc, adopt_ignores_what_is_not_a_socket);
  suite_add_tcase(s, tc);
  return s;
}
