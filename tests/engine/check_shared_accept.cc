// accept/shared_accept: the word that tells an accept() whose EAGAIN came
// from a sibling's accept_once() (which makes a shared blocking listener
// non-blocking for one call) from an EAGAIN of its own. Each case is made
// certain rather than raced for: accept_once() on a listener with nothing
// queued runs to its end at once, and a forked child's calls are seen
// through the page the two processes share.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "accept/shared_accept.h"
#include "suites.h"

using namespace proxyproto;

namespace {

int blocking_listener() {
  const int l = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(l, 0);
  socklen_t len;
  sockaddr_storage at = pp_engine::sin4("127.0.0.1", 0, &len);
  ck_assert_int_eq(bind(l, reinterpret_cast<sockaddr *>(&at), len), 0);
  ck_assert_int_eq(listen(l, 8), 0);
  return l;
}

// Nothing queued: accept_once() answers EAGAIN at once, and puts the
// listener's flags back.
void accept_once_on_empty(int l) {
  sockaddr_storage peer;
  socklen_t len = sizeof peer;
  errno = 0;
  ck_assert_int_eq(shared_accept::accept_once(l, reinterpret_cast<sockaddr *>(&peer), &len, 0),
                   -1);
  ck_assert_int_eq(errno, EAGAIN);
  ck_assert_int_eq(fcntl(l, F_GETFL) & O_NONBLOCK, 0);
}

}  // namespace

START_TEST(quiet_page_is_never_ours) {
  shared_accept::prepare();
  const shared_accept::snapshot s = shared_accept::before_accept();
  ck_assert(!shared_accept::eagain_was_ours(s));
  ck_assert(!shared_accept::eagain_was_ours(shared_accept::before_accept()));
}
END_TEST

START_TEST(call_begun_since_is_ours) {
  shared_accept::prepare();
  const int l = blocking_listener();
  const shared_accept::snapshot before = shared_accept::before_accept();
  accept_once_on_empty(l);
  // One began (and ended) after the snapshot: its non-blocking moment may
  // have been this accept()'s.
  ck_assert(shared_accept::eagain_was_ours(before));
  // A snapshot taken after it sees nothing new.
  ck_assert(!shared_accept::eagain_was_ours(shared_accept::before_accept()));
  close(l);
}
END_TEST

START_TEST(call_in_progress_is_ours) {
  shared_accept::prepare();
  // The state of a sibling in the middle of a call: counted as begun and
  // in progress. A snapshot taken then is ours whatever follows, and one
  // taken before sees the change.
  auto *word = &shared_accept::detail::page.load()->activity;
  const shared_accept::snapshot before = shared_accept::before_accept();
  word->fetch_add(shared_accept::detail::one_begun | 1);
  const shared_accept::snapshot during = shared_accept::before_accept();
  ck_assert(shared_accept::eagain_was_ours(before));
  ck_assert(shared_accept::eagain_was_ours(during));
  word->fetch_sub(1);
  ck_assert(shared_accept::eagain_was_ours(during));
  ck_assert(!shared_accept::eagain_was_ours(shared_accept::before_accept()));
}
END_TEST

START_TEST(child_call_is_seen_by_parent) {
  // Prepared before fork, as listen() does before the workers are forked.
  shared_accept::prepare();
  const int l = blocking_listener();
  const shared_accept::snapshot before = shared_accept::before_accept();
  const pid_t child = fork();
  ck_assert_int_ge(child, 0);
  if (child == 0) {
    sockaddr_storage peer;
    socklen_t len = sizeof peer;
    const int rc = shared_accept::accept_once(l, reinterpret_cast<sockaddr *>(&peer), &len, 0);
    _exit(rc == -1 && errno == EAGAIN ? 0 : 1);
  }
  int status = 0;
  ck_assert_int_eq(waitpid(child, &status, 0), child);
  ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ck_assert(shared_accept::eagain_was_ours(before));
  close(l);
}
END_TEST

Suite *make_shared_accept_suite(void) {
  Suite *s = suite_create("shared_accept");
  TCase *tc = tcase_create("eagain_was_ours");
  tcase_add_test(tc, quiet_page_is_never_ours);
  tcase_add_test(tc, call_begun_since_is_ours);
  tcase_add_test(tc, call_in_progress_is_ours);
  tcase_add_test(tc, child_call_is_seen_by_parent);
  suite_add_tcase(s, tc);
  return s;
}
