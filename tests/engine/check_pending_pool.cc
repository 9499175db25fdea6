// accept/pending_pool: connections parked until their header arrives.
// Park, claim with tickets that go stale, the one-shot watch a claim
// re-arms, the keys the listener's readiness descriptor reports them with;
// the deadline list (due in deadline order, also when parked out of order)
// and the stall list; thousands parked on one listener with none settled
// early (capacity grows by chunks); a listener's queue given back when
// empty, and no_room when a connection cannot be watched; forgetting
// closed descriptors, closed listeners and ranges, also while a connection
// is claimed; the child of fork(); which a listener with parked
// connections asks first, the kernel or its parked ones; and what close()
// and the look at an empty queue see of a parked descriptor.
#include <check.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

#include "accept/listener_readiness.h"
#include "accept/pending_pool.h"
#include "suites.h"

namespace pending = proxyproto::pending;
using pending::claim_end;
using pending::connection;
using pending::park_outcome;
using pending::ticket;
using pp_engine::is_open;
using pp_engine::sin4;
using pp_engine::unix_pair;

namespace {

namespace readiness = proxyproto::readiness;

// High descriptor numbers, made copies of one eventfd when first used: the
// pool watches what it holds, so each must be a real descriptor, but what
// it is does not matter (never readable unless a test writes to it).
// Enough for the many-parked test below, which needs more than a chunk
// and more than the 1024 slots of fixed tables of the past; the
// descriptor limit is raised to its hard limit for them.
constexpr int fake_fd_count = 5000;

int choose_fake_fd_base() {
  rlimit r{};
  getrlimit(RLIMIT_NOFILE, &r);
  if (r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
    getrlimit(RLIMIT_NOFILE, &r);
  }
  const rlim_t limit = r.rlim_cur == RLIM_INFINITY ? 200000 : r.rlim_cur;
  return limit > static_cast<rlim_t>(100000 + fake_fd_count + 64)
             ? 100000
             : static_cast<int>(limit) - fake_fd_count - 64;
}

const int fake_fd_base = choose_fake_fd_base();

int real_fd(int n) {
  static int source = -1;
  if (source < 0) {
    ck_assert_msg(fake_fd_base > 100, "descriptor limit too low for the pool tests");
    source = eventfd(0, EFD_CLOEXEC);
    ck_assert_int_ge(source, 0);
  }
  if (n >= fake_fd_base && !is_open(n)) ck_assert_int_eq(dup2(source, n), n);
  return n;
}

connection make(int listener, int fd, int64_t deadline_ms = 0) {
  // Its listener's readiness descriptor, which the accept flow makes sure
  // of before parking (the listener number itself is never used).
  ck_assert_int_ge(readiness::ensure(listener), 0);
  fd = real_fd(fd);
  connection c;
  c.listener = listener;
  c.fd = fd;
  c.accept_flags = 0;
  c.listener_family = AF_INET;
  c.deadline_ms = deadline_ms != 0 ? deadline_ms : pending::now_ms() + 3000;
  c.peer = sin4("127.0.0.1", static_cast<uint16_t>(fd & 0xFFFF), &c.peer_len);
  return c;
}

// Every parked connection is due at the end of time.
constexpr int64_t far_future = int64_t{1} << 60;

// Claims what is due on `listener` at `now`, settles it, and returns its
// descriptor (-1 when nothing is due).
int settle_due(int listener, int64_t now) {
  ticket t;
  connection out;
  if (!pending::claim_due(listener, now, &t, &out)) return -1;
  ck_assert(pending::claimed_settled(t) == claim_end::settled);
  return out.fd;
}

}  // namespace

START_TEST(park_claim_and_keys) {
  ck_assert(!pending::anything_parked());
  connection c = make(7, fake_fd_base + 1, pending::now_ms() + 1234);
  ck_assert(pending::park(c) == park_outcome::parked);
  ck_assert(pending::anything_parked());
  ck_assert_uint_eq(pending::parked_for(7), 1);
  ck_assert_uint_eq(pending::parked_for(8), 0);

  // Watched by listener 7's readiness descriptor: reported once readable.
  uint64_t key = 0;
  ck_assert_int_eq(readiness::next_ready(7, &key), 0);
  const uint64_t one = 1;
  ck_assert_int_eq(write(c.fd, &one, sizeof one), static_cast<ssize_t>(sizeof one));
  ck_assert_int_eq(readiness::next_ready(7, &key), 1);
  const ticket t = pending::ticket_of(key);
  ck_assert_uint_eq(pending::key_of(t), key);
  ck_assert_int_eq(readiness::next_ready(8, &key), 0);  // no other listener's

  connection out;
  ck_assert(pending::claim(t, &out));
  ck_assert_int_eq(out.fd, c.fd);
  ck_assert_int_eq(out.listener, 7);
  ck_assert_int_eq(out.deadline_ms, c.deadline_ms);
  ck_assert_uint_eq(out.peer_len, c.peer_len);
  ck_assert_int_eq(std::memcmp(&out.peer, &c.peer, c.peer_len), 0);
  // Claimed: nobody else claims it, by its key or as due.
  connection other;
  ticket due_ticket;
  ck_assert(!pending::claim(t, &other));
  ck_assert(!pending::claim_due(7, far_future, &due_ticket, &other));
  ck_assert_uint_eq(pending::parked_for(7), 1);  // still parked
  ck_assert(pending::claimed_settled(t) == claim_end::settled);
  ck_assert_uint_eq(pending::parked_for(7), 0);
  ck_assert(!pending::anything_parked());
  // Settled: no longer watched, though still readable.
  ck_assert_int_eq(readiness::next_ready(7, &key), 0);
  // The ticket is stale now, also once its slot holds another connection.
  ck_assert(!pending::claim(t, &out));
  ck_assert(pending::claimed_settled(t) == claim_end::gone);
  connection d = make(7, fake_fd_base + 2);
  ck_assert(pending::park(d) == park_outcome::parked);
  ck_assert(!pending::claim(t, &out));
  ck_assert_int_eq(settle_due(7, far_future), fake_fd_base + 2);
  // A ticket beyond every slot.
  ck_assert(!pending::claim(ticket{static_cast<uint32_t>(pending::max_parked), 0}, &out));
  ck_assert(!pending::claim(ticket{5000000, 0}, &out));
}
END_TEST

// A connection that cannot be watched (no readiness descriptor for its
// listener) is not parked, and leaves nothing behind.
START_TEST(unwatched_is_no_room) {
  connection c;
  c.listener = 12345;  // never given a readiness descriptor
  c.fd = real_fd(fake_fd_base + 3);
  c.deadline_ms = pending::now_ms() + 1000;
  ck_assert(pending::park(c) == park_outcome::no_room);
  ck_assert(!pending::anything_parked());
  ck_assert_uint_eq(pending::parked_for(12345), 0);
}
END_TEST

// The watch is one-shot: reported once, then quiet while claimed, armed
// again by claimed_waits(); a claimed connection keeps its place.
START_TEST(claim_rearms_the_watch) {
  const int64_t now = pending::now_ms();
  int pa[2], pb[2];
  unix_pair(pa);
  unix_pair(pb);
  connection a = make(5, pa[0], now + 1000);
  connection b = make(5, pb[0], now + 2000);
  ck_assert(pending::park(a) == park_outcome::parked);
  ck_assert(pending::park(b) == park_outcome::parked);
  pp_engine::send_all(pa[1], "x", 1);
  uint64_t key = 0;
  ck_assert_int_eq(readiness::next_ready(5, &key), 1);
  ck_assert_int_eq(readiness::next_ready(5, &key), 0);  // once, though readable
  const ticket t = pending::ticket_of(key);
  connection out;
  ck_assert(pending::claim(t, &out));
  ck_assert_int_eq(out.fd, a.fd);
  // While a is claimed, b is the next due, and the timer's time is b's.
  ck_assert_int_eq(pending::next_due(5), now + 2000);
  out.seen = 8;
  ck_assert(pending::claimed_waits(t, out) == claim_end::kept);
  ck_assert_int_eq(pending::next_due(5), now + 1000);  // a is first again
  ck_assert_int_eq(readiness::next_ready(5, &key), 1);  // armed again
  ck_assert_uint_eq(key, pending::key_of(t));
  ck_assert(pending::claim(t, &out));
  ck_assert_uint_eq(out.seen, 8);  // what the look saw is kept
  ck_assert(pending::claimed_waits(t, out) == claim_end::kept);
  // Due in deadline order: a, then b.
  ck_assert_int_eq(settle_due(5, now + 999), -1);
  ck_assert_int_eq(settle_due(5, now + 1000), a.fd);
  ck_assert_int_eq(settle_due(5, now + 1999), -1);
  ck_assert_int_eq(settle_due(5, far_future), b.fd);
  ck_assert_int_eq(pending::next_due(5), -1);
}
END_TEST

// Due in deadline order, also when parked in another order (threads that
// computed their deadlines in one order and took the lock in another);
// next_due() is the nearest; other listeners are apart.
START_TEST(due_in_deadline_order) {
  const int64_t now = pending::now_ms();
  const int64_t offsets[] = {100, 300, 200, 400, 350, 500};
  for (int i = 0; i < 6; ++i) {
    connection c = make(10, fake_fd_base + i, now + offsets[i]);
    ck_assert(pending::park(c) == park_outcome::parked);
  }
  connection x = make(11, fake_fd_base + 10, now + 50);
  ck_assert(pending::park(x) == park_outcome::parked);
  ck_assert_int_eq(pending::next_due(10), now + 100);
  ck_assert_int_eq(pending::next_due(11), now + 50);
  ck_assert_int_eq(settle_due(10, now + 99), -1);
  const int order[] = {0, 2, 1, 4, 3, 5};
  for (int i : order) ck_assert_int_eq(settle_due(10, far_future), fake_fd_base + i);
  ck_assert_int_eq(settle_due(10, far_future), -1);
  ck_assert_int_eq(pending::next_due(10), -1);
  ck_assert_uint_eq(pending::parked_for(11), 1);
}
END_TEST

// A stalled connection (one whose readiness brought nothing new) is watched
// for hang-up only, and due stall_recheck_ms after its last look.
START_TEST(stalled_is_rechecked_on_the_timer) {
  int a[2];
  unix_pair(a);
  connection c = make(4, a[0], pending::now_ms() + 10000);
  c.stalled = true;
  ck_assert(pending::park(c) == park_outcome::parked);
  pp_engine::send_all(a[1], "x", 1);
  uint64_t key;
  ck_assert_int_eq(readiness::next_ready(4, &key), 0);  // data alone: no report
  ticket t;
  connection out;
  const int64_t now = pending::now_ms();
  ck_assert(!pending::claim_due(4, now, &t, &out));
  ck_assert_int_le(pending::next_due(4), now + pending::stall_recheck_ms);
  ck_assert(pending::claim_due(4, now + pending::stall_recheck_ms + 1, &t, &out));
  // Still stalled after the look: due again a recheck later, not at once.
  const int64_t looked = pending::now_ms();
  ck_assert(pending::claimed_waits(t, out) == claim_end::kept);
  ck_assert_int_ge(pending::next_due(4), looked + pending::stall_recheck_ms);
  // No longer stalled: due at its deadline only.
  ck_assert(pending::claim_due(4, far_future, &t, &out));
  out.stalled = false;
  ck_assert(pending::claimed_waits(t, out) == claim_end::kept);
  ck_assert_int_eq(pending::next_due(4), c.deadline_ms);
  ck_assert(pending::claim_due(4, far_future, &t, &out));
  out.stalled = true;
  ck_assert(pending::claimed_waits(t, out) == claim_end::kept);
  close(a[1]);  // a hang-up is reported
  ck_assert_int_eq(readiness::next_ready(4, &key), 1);
  ck_assert_uint_eq(key, pending::key_of(t));
  ck_assert(pending::claim(t, &out));
  ck_assert(pending::claimed_settled(t) == claim_end::settled);
  close(a[0]);
}
END_TEST

// Thousands parked on one listener: every one is kept (more than a chunk,
// more than fixed tables ever held), none is settled or evicted early, and
// they come due in their own order. The slots of the settled ones are
// reused before any new chunk is mapped.
START_TEST(thousands_parked_none_early) {
  const int64_t now = pending::now_ms();
  const int n = fake_fd_count;
  for (int i = 0; i < n; ++i) {
    connection c = make(20, fake_fd_base + i, now + 10000 + i / 100);
    ck_assert_msg(pending::park(c) == park_outcome::parked, "park %d", i);
  }
  ck_assert_uint_eq(pending::parked_for(20), static_cast<size_t>(n));
  // A connection of another listener, and a late one on this listener.
  connection other = make(21, fake_fd_base + n + 1, now + 100);
  ck_assert(pending::park(other) == park_outcome::parked);
  ck_assert_uint_eq(pending::parked_for(20), static_cast<size_t>(n));
  ck_assert_int_eq(pending::next_due(20), now + 10000);
  // Nothing of listener 20 is due before its own deadline.
  ck_assert_int_eq(settle_due(20, now + 9999), -1);
  ck_assert_int_eq(settle_due(21, now + 100), other.fd);
  for (int i = 0; i < n; ++i) {
    ticket t;
    connection out;
    ck_assert(pending::claim_due(20, far_future, &t, &out));
    ck_assert_int_eq(out.fd, fake_fd_base + i);
    ck_assert(pending::claimed_settled(t) == claim_end::settled);
  }
  ck_assert(!pending::anything_parked());
  ck_assert_uint_ge(pending::bytes_per_parked(), sizeof(connection));
  // What doc/design.md states (228 bytes on x86-64), with room for ABIs.
  ck_assert_uint_le(pending::bytes_per_parked(), 256);
}
END_TEST

// Every listener with parked connections takes a queue (as many as the
// readiness table has entries); a listener whose last one leaves gives it
// back, so that listeners that come and go never exhaust them.
START_TEST(listener_queues_are_given_back) {
  int fd = fake_fd_base;
  for (int l = 0; l < static_cast<int>(pending::max_listeners); ++l) {
    connection c = make(1000 + l, fd++);
    ck_assert(pending::park(c) == park_outcome::parked);
  }
  // Another on a listener that has a queue already.
  connection more = make(1000, fd++);
  ck_assert(pending::park(more) == park_outcome::parked);
  ck_assert_uint_eq(pending::parked_for(1000), 2);
  // Listener 1001's only one leaves: its queue goes back, and listener 1000
  // keeps its own.
  ck_assert_int_eq(settle_due(1001, far_future), fake_fd_base + 1);
  ck_assert_uint_eq(pending::parked_for(1001), 0);
  connection again = make(1001, fd++);
  ck_assert(pending::park(again) == park_outcome::parked);
  ck_assert_uint_eq(pending::parked_for(1001), 1);
}
END_TEST

// close() of a parked descriptor forgets it (it is closed already); close()
// of a listener closes its parked connections, which nobody will accept.
START_TEST(forget_descriptors) {
  int a[2], b[2], lst[2];
  unix_pair(a);
  unix_pair(b);
  unix_pair(lst);  // lst[0] and lst[1] stand for two listeners
  connection ca = make(lst[0], a[0]);
  connection cb = make(lst[1], b[0]);
  ck_assert(pending::park(ca) == park_outcome::parked);
  ck_assert(pending::park(cb) == park_outcome::parked);

  pending::forget_descriptor(a[0]);
  ck_assert_uint_eq(pending::parked_for(lst[0]), 0);
  ck_assert(is_open(a[0]));  // not the pool's to close
  ck_assert_uint_eq(pending::parked_for(lst[1]), 1);

  pending::forget_descriptors(static_cast<unsigned>(lst[1]),
                              static_cast<unsigned>(lst[1]));
  ck_assert_uint_eq(pending::parked_for(lst[1]), 0);
  ck_assert(!is_open(b[0]));  // the listener's parked connection is closed
  ck_assert(!pending::anything_parked());

  // A range that holds neither: nothing happens.
  int c[2];
  unix_pair(c);
  connection cc = make(lst[0], c[0]);
  ck_assert(pending::park(cc) == park_outcome::parked);
  pending::forget_descriptors(static_cast<unsigned>(c[1]) + 1, ~0U);
  pending::forget_descriptor(-1);
  ck_assert_uint_eq(pending::parked_for(lst[0]), 1);
  ck_assert(is_open(c[0]));
  // close_range over both.
  pending::forget_descriptors(0, ~0U);
  ck_assert(!pending::anything_parked());
  ck_assert(is_open(c[0]));  // closed by close_range itself, not the pool
}
END_TEST

// Forgotten while claimed: the claimer's end says gone, and closes the
// connection only when its listener was closed (its own number was not).
START_TEST(forgotten_while_claimed) {
  int a[2], b[2];
  unix_pair(a);
  unix_pair(b);
  const int listener = 40;
  connection ca = make(listener, a[0], pending::now_ms() + 10);
  connection cb = make(listener, b[0], pending::now_ms() + 20);
  ck_assert(pending::park(ca) == park_outcome::parked);
  ck_assert(pending::park(cb) == park_outcome::parked);
  ticket ta, tb;
  connection out;
  ck_assert(pending::claim_due(listener, far_future, &ta, &out));
  ck_assert_int_eq(out.fd, a[0]);
  ck_assert(pending::claim_due(listener, far_future, &tb, &out));
  ck_assert_int_eq(out.fd, b[0]);
  pending::forget_descriptor(a[0]);  // its number closed by the application
  ck_assert_uint_eq(pending::parked_for(listener), 1);
  ck_assert(pending::claimed_waits(ta, out) == claim_end::gone);
  ck_assert(is_open(a[0]));  // not the pool's: closed by whoever closed it
  pending::forget_descriptors(listener, listener);  // the listener closed
  ck_assert_uint_eq(pending::parked_for(listener), 0);
  ck_assert(is_open(b[0]));  // its claimer is still looking at it
  ck_assert(pending::claimed_settled(tb) == claim_end::gone);
  ck_assert(!is_open(b[0]));  // closed at the end of the claim
  ck_assert(!pending::anything_parked());
  // Both slots are free again.
  connection c = make(listener, a[0]);
  ck_assert(pending::park(c) == park_outcome::parked);
}
END_TEST

// The child of fork() starts with an empty pool and closes its copies of
// the parked descriptors: the parent's accept() settles them.
START_TEST(child_of_fork_starts_empty) {
  int a[2];
  unix_pair(a);
  connection c = make(6, a[0]);
  ck_assert(pending::park(c) == park_outcome::parked);
  const pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    alarm(5);
    int code = 0;
    if (pending::anything_parked()) code = 1;
    if (is_open(a[0])) code = 2;
    if (pending::parked_for(6) != 0) code = 5;
    connection d = make(6, a[1]);
    if (pending::park(d) != park_outcome::parked) code = 3;  // lock works
    if (pending::parked_for(6) != 1) code = 4;
    _exit(code);
  }
  int status = 0;
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  ck_assert(WIFEXITED(status));
  ck_assert_int_eq(WEXITSTATUS(status), 0);
  ck_assert_uint_eq(pending::parked_for(6), 1);
  ck_assert(is_open(a[0]));
}
END_TEST

// A listener with parked connections asks the kernel first only once it
// was seen non-blocking, and even then looks at its parked connections
// first every kernel_first_run calls; a look (next_ready) starts the count
// again, and a listener seen blocking again goes back to looking first.
START_TEST(kernel_first_only_for_non_blocking_listeners) {
  const int listener = 50;
  ck_assert(!readiness::kernel_first(listener));  // no entry yet
  connection c = make(listener, fake_fd_base + 1);
  ck_assert(pending::park(c) == park_outcome::parked);
  ck_assert(!readiness::kernel_first(listener));  // not known non-blocking
  readiness::note_nonblocking(listener, true);
  for (uint32_t i = 1; i < readiness::kernel_first_run; ++i)
    ck_assert_msg(readiness::kernel_first(listener), "call %u", i);
  ck_assert(!readiness::kernel_first(listener));  // the parked ones' turn
  uint64_t key;
  ck_assert_int_eq(readiness::next_ready(listener, &key), 0);  // a look
  ck_assert(readiness::kernel_first(listener));
  readiness::note_nonblocking(listener, false);
  ck_assert(!readiness::kernel_first(listener));
}
END_TEST

// A parked descriptor is one close() must look up (the readiness table's
// bitmap, readiness::may_know()) while it is parked, and no longer once it
// is settled. The look of the accept() that found the kernel's queue empty
// (look_once()) reports a ready parked connection, and starts the run of
// calls that ask the kernel first again.
START_TEST(parked_descriptors_for_close_and_the_look) {
  const int listener = 51;
  const int fd = eventfd(0, EFD_CLOEXEC);  // a low number: inside the bitmap
  ck_assert_int_ge(fd, 0);
  ck_assert_int_lt(fd, 4096);
  connection c = make(listener, fd);
  ck_assert(!readiness::may_know(fd));
  ck_assert(pending::park(c) == park_outcome::parked);
  ck_assert(readiness::may_know(fd));

  readiness::note_nonblocking(listener, true);
  for (uint32_t i = 1; i < readiness::kernel_first_run; ++i)
    ck_assert_msg(readiness::kernel_first(listener), "call %u", i);
  ck_assert(!readiness::kernel_first(listener));  // the parked ones' turn
  epoll_event ev{};
  ck_assert_int_eq(readiness::look_once(listener, &ev), 0);  // nothing ready
  for (uint32_t i = 1; i < readiness::kernel_first_run; ++i)
    ck_assert_msg(readiness::kernel_first(listener), "call %u after the look", i);

  const uint64_t one = 1;
  ck_assert_int_eq(write(fd, &one, sizeof one), static_cast<ssize_t>(sizeof one));
  ck_assert_int_eq(readiness::look_once(listener, &ev), 1);
  const ticket t = pending::ticket_of(ev.data.u64);
  connection out;
  ck_assert(pending::claim(t, &out));
  ck_assert_int_eq(out.fd, fd);
  ck_assert(pending::claimed_settled(t) == claim_end::settled);
  ck_assert(!readiness::may_know(fd));
  close(fd);
}
END_TEST

Suite *make_pending_pool_suite(void) {
  Suite *s = suite_create("pending_pool");
  TCase *tc = tcase_create("pool");
  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, park_claim_and_keys);
  tcase_add_test(tc, unwatched_is_no_room);
  tcase_add_test(tc, claim_rearms_the_watch);
  tcase_add_test(tc, due_in_deadline_order);
  tcase_add_test(tc, stalled_is_rechecked_on_the_timer);
  tcase_add_test(tc, thousands_parked_none_early);
  tcase_add_test(tc, listener_queues_are_given_back);
  tcase_add_test(tc, forget_descriptors);
  tcase_add_test(tc, forgotten_while_claimed);
  tcase_add_test(tc, child_of_fork_starts_empty);
  tcase_add_test(tc, kernel_first_only_for_non_blocking_listeners);
  tcase_add_test(tc, parked_descriptors_for_close_and_the_look);
  suite_add_tcase(s, tc);
  return s;
}
