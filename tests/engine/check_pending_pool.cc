// accept/pending_pool: connections parked until their header arrives.
// Park, take with tickets that go stale, the keys the listener's readiness
// descriptor reports them with; due() and the timer's next time; stalled
// connections; eviction of a listener's oldest at listener_capacity and
// no_room when the pool is full of other listeners' (or when a connection
// cannot be watched); forget_descriptors for closed connections and closed
// listeners; the child of fork().
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
// The pool's capacity and a few more fit below the descriptor limit, which
// is raised to its hard limit for them.
constexpr int fake_fd_count = static_cast<int>(pending::pool_capacity) + 1024;

int choose_fake_fd_base() {
  rlimit r{};
  getrlimit(RLIMIT_NOFILE, &r);
  if (r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
    getrlimit(RLIMIT_NOFILE, &r);
  }
  const rlim_t limit = r.rlim_cur == RLIM_INFINITY ? 200000 : r.rlim_cur;
  return limit > static_cast<rlim_t>(100000 + fake_fd_count)
             ? 100000
             : static_cast<int>(limit) - fake_fd_count;
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

// Every parked connection of `listener` is due at the end of time.
constexpr int64_t far_future = int64_t{1} << 60;

// The one parked connection of `listener`, by due().
ticket only_ticket(int listener) {
  ticket tickets[4];
  int64_t next = 0;
  ck_assert_uint_eq(pending::due(listener, far_future, tickets, 4, &next), 1);
  ck_assert_int_eq(next, -1);  // none left unlisted
  return tickets[0];
}

}  // namespace

START_TEST(park_take_and_keys) {
  ck_assert(!pending::anything_parked());
  connection evicted;
  connection c = make(7, fake_fd_base + 1, pending::now_ms() + 1234);
  ck_assert(pending::park(&c, &evicted) == park_outcome::parked);
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
  ck_assert(pending::take(t, &out));
  ck_assert_int_eq(out.fd, c.fd);
  ck_assert_int_eq(out.listener, 7);
  ck_assert_int_eq(out.deadline_ms, c.deadline_ms);
  ck_assert_uint_eq(out.peer_len, c.peer_len);
  ck_assert_int_eq(std::memcmp(&out.peer, &c.peer, c.peer_len), 0);
  // Taken: no longer watched, though still readable.
  ck_assert_int_eq(readiness::next_ready(7, &key), 0);
  // The ticket is stale now, also once its slot holds another connection.
  ck_assert(!pending::take(t, &out));
  ck_assert(!pending::anything_parked());
  connection d = make(7, fake_fd_base + 2);
  ck_assert(pending::park(&d, &evicted) == park_outcome::parked);
  ck_assert(!pending::take(t, &out));
  ck_assert(pending::take(only_ticket(7), &out));
  ck_assert_int_eq(out.fd, fake_fd_base + 2);
  // A ticket beyond the pool.
  ck_assert(!pending::take(ticket{static_cast<uint32_t>(pending::pool_capacity), 0}, &out));
}
END_TEST

// A connection that cannot be watched (no readiness descriptor for its
// listener) is not parked.
START_TEST(unwatched_is_no_room) {
  connection evicted;
  connection c;
  c.listener = 12345;  // never given a readiness descriptor
  c.fd = real_fd(fake_fd_base + 3);
  c.deadline_ms = pending::now_ms() + 1000;
  ck_assert(pending::park(&c, &evicted) == park_outcome::no_room);
  ck_assert(!pending::anything_parked());
}
END_TEST

START_TEST(order_is_kept_across_parks) {
  connection evicted;
  connection a = make(3, fake_fd_base + 1);
  connection b = make(3, fake_fd_base + 2);
  ck_assert(pending::park(&a, &evicted) == park_outcome::parked);
  ck_assert(pending::park(&b, &evicted) == park_outcome::parked);
  ck_assert_uint_ne(a.order, 0);
  ck_assert_uint_gt(b.order, a.order);
  // Taken and parked again (its header still incomplete): same order.
  ticket tickets[4];
  int64_t next;
  ck_assert_uint_eq(pending::due(3, far_future, tickets, 4, &next), 2);
  connection out;
  ck_assert(pending::take(tickets[0], &out));
  const uint64_t first_order = out.order;
  ck_assert(first_order == a.order || first_order == b.order);
  ck_assert(pending::park(&out, &evicted) == park_outcome::parked);
  ck_assert_uint_eq(out.order, first_order);
}
END_TEST

// due(): the connections whose deadline has passed, up to the capacity;
// *next the time the listener's timer is next needed.
START_TEST(due_and_next) {
  connection evicted;
  const int64_t now = pending::now_ms();
  for (int i = 0; i < 6; ++i) {
    connection c = make(10 + i % 2, fake_fd_base + i, now + 1000 - i * 100);
    ck_assert(pending::park(&c, &evicted) == park_outcome::parked);
  }
  ticket tickets[8];
  int64_t next = 0;
  // Listener 10 holds i = 0, 2, 4: deadlines now+1000, +800, +600.
  ck_assert_uint_eq(pending::due(10, now, tickets, 8, &next), 0);
  ck_assert_int_eq(next, now + 600);
  ck_assert_uint_eq(pending::due(10, now + 700, tickets, 8, &next), 1);
  ck_assert_int_eq(next, now + 800);
  connection out;
  ck_assert(pending::take(tickets[0], &out));
  ck_assert_int_eq(out.deadline_ms, now + 600);
  // Beyond the capacity, a due one makes *next "now": the timer fires at once.
  ck_assert_uint_eq(pending::due(11, now + 5000, tickets, 2, &next), 2);
  ck_assert_int_le(next, now + 5000);
  // With nothing parked for it, no time is needed.
  ck_assert_uint_eq(pending::due(12, now, tickets, 8, &next), 0);
  ck_assert_int_eq(next, -1);
}
END_TEST

// A stalled connection (one whose readiness brought nothing new) is watched
// for hang-up only, and due stall_recheck_ms after it was parked.
START_TEST(stalled_is_rechecked_on_the_timer) {
  int a[2];
  unix_pair(a);
  connection evicted;
  connection c = make(4, a[0], pending::now_ms() + 10000);
  c.stalled = true;
  ck_assert(pending::park(&c, &evicted) == park_outcome::parked);
  pp_engine::send_all(a[1], "x", 1);
  uint64_t key;
  ck_assert_int_eq(readiness::next_ready(4, &key), 0);  // data alone: no report
  ticket tickets[2];
  int64_t next = 0;
  const int64_t now = pending::now_ms();
  ck_assert_uint_eq(pending::due(4, now, tickets, 2, &next), 0);
  ck_assert_int_le(next, now + pending::stall_recheck_ms);
  ck_assert_uint_eq(pending::due(4, now + pending::stall_recheck_ms + 1, tickets, 2, &next), 1);
  close(a[1]);  // a hang-up is reported
  ck_assert_int_eq(readiness::next_ready(4, &key), 1);
  ck_assert_uint_eq(key, pending::key_of(tickets[0]));
  connection out;
  ck_assert(pending::take(tickets[0], &out));
  close(a[0]);
}
END_TEST

// listener_capacity per listener: one more evicts that listener's oldest;
// other listeners are not touched.
START_TEST(eviction_at_listener_capacity) {
  connection evicted;
  for (size_t i = 0; i < pending::listener_capacity; ++i) {
    connection c = make(20, fake_fd_base + static_cast<int>(i));
    ck_assert(pending::park(&c, &evicted) == park_outcome::parked);
  }
  connection other = make(21, fake_fd_base + 500);
  ck_assert(pending::park(&other, &evicted) == park_outcome::parked);
  ck_assert_uint_eq(pending::parked_for(20), pending::listener_capacity);

  connection extra = make(20, fake_fd_base + 900);
  evicted = connection{};
  ck_assert(pending::park(&extra, &evicted) == park_outcome::parked_evicting);
  ck_assert_int_eq(evicted.fd, fake_fd_base);  // the oldest
  ck_assert_int_eq(evicted.listener, 20);
  ck_assert_uint_eq(pending::parked_for(20), pending::listener_capacity);
  ck_assert_uint_eq(pending::parked_for(21), 1);

  // Parked again with its first order (the caller settles it, say, by
  // parking it once more), the evicted one is again the oldest.
  connection second;
  ck_assert(pending::park(&evicted, &second) == park_outcome::parked_evicting);
  ck_assert_int_eq(second.fd, fake_fd_base + 1);
  connection next;
  connection again = make(20, fake_fd_base + 901);
  ck_assert(pending::park(&again, &next) == park_outcome::parked_evicting);
  ck_assert_int_eq(next.fd, fake_fd_base);
  connection third;
  connection more = make(20, fake_fd_base + 902);
  ck_assert(pending::park(&more, &third) == park_outcome::parked_evicting);
  ck_assert_int_eq(third.fd, fake_fd_base + 2);
}
END_TEST

// A pool full of other listeners' connections has no room for a new
// listener's; a listener that has some there evicts its own oldest.
START_TEST(no_room_in_a_full_pool) {
  connection evicted;
  const size_t listeners = pending::pool_capacity / pending::listener_capacity;
  int fd = fake_fd_base;
  for (size_t l = 0; l < listeners; ++l)
    for (size_t i = 0; i < pending::listener_capacity; ++i) {
      connection c = make(30 + static_cast<int>(l), fd++);
      ck_assert(pending::park(&c, &evicted) == park_outcome::parked);
    }
  connection stranger = make(99, fd++);
  ck_assert(pending::park(&stranger, &evicted) == park_outcome::no_room);
  ck_assert_uint_eq(pending::parked_for(99), 0);
  connection own = make(30, fd++);
  ck_assert(pending::park(&own, &evicted) == park_outcome::parked_evicting);
  ck_assert_int_eq(evicted.fd, fake_fd_base);
  ck_assert_int_eq(evicted.listener, 30);
}
END_TEST

// close() of a parked descriptor forgets it (it is closed already); close()
// of a listener closes its parked connections, which nobody will accept.
START_TEST(forget_descriptors) {
  int a[2], b[2], lst[2];
  unix_pair(a);
  unix_pair(b);
  unix_pair(lst);  // lst[0] and lst[1] stand for two listeners
  connection evicted;
  connection ca = make(lst[0], a[0]);
  connection cb = make(lst[1], b[0]);
  ck_assert(pending::park(&ca, &evicted) == park_outcome::parked);
  ck_assert(pending::park(&cb, &evicted) == park_outcome::parked);
  const ticket ta = only_ticket(lst[0]);
  const ticket tb = only_ticket(lst[1]);

  pending::forget_descriptor(a[0]);
  connection out;
  ck_assert(!pending::take(ta, &out));
  ck_assert(is_open(a[0]));  // not the pool's to close
  ck_assert_uint_eq(pending::parked_for(lst[1]), 1);

  pending::forget_descriptors(static_cast<unsigned>(lst[1]),
                              static_cast<unsigned>(lst[1]));
  ck_assert(!pending::take(tb, &out));
  ck_assert(!is_open(b[0]));  // the listener's parked connection is closed
  ck_assert(!pending::anything_parked());

  // A range that holds neither: nothing happens.
  int c[2];
  unix_pair(c);
  connection cc = make(lst[0], c[0]);
  ck_assert(pending::park(&cc, &evicted) == park_outcome::parked);
  pending::forget_descriptors(static_cast<unsigned>(c[1]) + 1, ~0U);
  pending::forget_descriptor(-1);
  ck_assert_uint_eq(pending::parked_for(lst[0]), 1);
  ck_assert(is_open(c[0]));
  // close_range over both.
  pending::forget_descriptors(0, ~0U);
  ck_assert(!pending::anything_parked());
}
END_TEST

// The child of fork() starts with an empty pool and closes its copies of
// the parked descriptors: the parent's accept() settles them.
START_TEST(child_of_fork_starts_empty) {
  int a[2];
  unix_pair(a);
  connection evicted;
  connection c = make(6, a[0]);
  ck_assert(pending::park(&c, &evicted) == park_outcome::parked);
  const pid_t pid = fork();
  ck_assert_int_ge(pid, 0);
  if (pid == 0) {
    alarm(5);
    int code = 0;
    if (pending::anything_parked()) code = 1;
    if (is_open(a[0])) code = 2;
    connection d = make(6, a[1]);
    connection ev;
    if (pending::park(&d, &ev) != park_outcome::parked) code = 3;  // lock works
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

Suite *make_pending_pool_suite(void) {
  Suite *s = suite_create("pending_pool");
  TCase *tc = tcase_create("pool");
  tcase_add_test(tc, park_take_and_keys);
  tcase_add_test(tc, unwatched_is_no_room);
  tcase_add_test(tc, order_is_kept_across_parks);
  tcase_add_test(tc, due_and_next);
  tcase_add_test(tc, stalled_is_rechecked_on_the_timer);
  tcase_add_test(tc, eviction_at_listener_capacity);
  tcase_add_test(tc, no_room_in_a_full_pool);
  tcase_add_test(tc, forget_descriptors);
  tcase_add_test(tc, child_of_fork_starts_empty);
  suite_add_tcase(s, tc);
  return s;
}
