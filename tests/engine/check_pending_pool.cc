// accept/pending_pool: connections parked until their header arrives.
// Park, watch, take and peek with tickets that go stale; announcing once;
// stalled connections; eviction of a listener's oldest at
// listener_capacity and no_room when the pool is full of other listeners';
// forget_descriptors for closed connections and closed listeners; the
// child of fork(); waking the waker.
#include <check.h>
#include <poll.h>
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

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

// Descriptor numbers that nothing here opens, for tests in which the pool
// never makes a system call on the descriptors it holds.
constexpr int fake_fd_base = 100000;

connection make(int listener, int fd, int64_t deadline_ms = 0) {
  connection c;
  c.listener = listener;
  c.fd = fd;
  c.accept_flags = 0;
  c.listener_family = AF_INET;
  c.deadline_ms = deadline_ms != 0 ? deadline_ms : pending::now_ms() + 3000;
  c.peer = sin4("127.0.0.1", static_cast<uint16_t>(fd & 0xFFFF), &c.peer_len);
  return c;
}

// The one parked connection of `listener`, by watch().
ticket only_ticket(int listener) {
  pollfd fds[4];
  ticket tickets[4];
  int64_t earliest = 0;
  bool stalled = true;
  ck_assert_uint_eq(pending::watch(listener, false, fds, tickets, 4, &earliest,
                                   &stalled),
                    1);
  return tickets[0];
}

}  // namespace

START_TEST(park_watch_take) {
  ck_assert(!pending::anything_parked());
  connection evicted;
  connection c = make(7, fake_fd_base + 1, pending::now_ms() + 1234);
  ck_assert(pending::park(&c, &evicted) == park_outcome::parked);
  ck_assert(pending::anything_parked());
  ck_assert_uint_eq(pending::parked_for(7), 1);
  ck_assert_uint_eq(pending::parked_for(8), 0);

  pollfd fds[4];
  ticket tickets[4];
  int64_t earliest = 0;
  bool stalled = true;
  ck_assert_uint_eq(pending::watch(8, false, fds, tickets, 4, &earliest, &stalled), 0);
  ck_assert_uint_eq(pending::watch(7, false, fds, tickets, 4, &earliest, &stalled), 1);
  ck_assert_int_eq(fds[0].fd, fake_fd_base + 1);
  ck_assert_int_eq(fds[0].events, POLLIN | POLLRDHUP);
  ck_assert_int_eq(earliest, c.deadline_ms);
  ck_assert(!stalled);

  connection peeked, out;
  ck_assert(pending::peek(tickets[0], &peeked));
  ck_assert_int_eq(peeked.fd, c.fd);
  ck_assert_uint_eq(pending::parked_for(7), 1);  // peek does not take
  ck_assert(pending::take(tickets[0], &out));
  ck_assert_int_eq(out.fd, c.fd);
  ck_assert_int_eq(out.listener, 7);
  ck_assert_int_eq(out.deadline_ms, c.deadline_ms);
  ck_assert_uint_eq(out.peer_len, c.peer_len);
  ck_assert_int_eq(std::memcmp(&out.peer, &c.peer, c.peer_len), 0);
  // The ticket is stale now, also once its slot holds another connection.
  ck_assert(!pending::take(tickets[0], &out));
  ck_assert(!pending::peek(tickets[0], &out));
  ck_assert(!pending::anything_parked());
  connection d = make(7, fake_fd_base + 2);
  ck_assert(pending::park(&d, &evicted) == park_outcome::parked);
  ck_assert(!pending::take(tickets[0], &out));
  ck_assert(!pending::announce(tickets[0]));
  ck_assert(pending::take(only_ticket(7), &out));
  ck_assert_int_eq(out.fd, fake_fd_base + 2);
  // A ticket beyond the pool.
  ck_assert(!pending::take(ticket{static_cast<uint32_t>(pending::pool_capacity), 0}, &out));
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
  pollfd fds[4];
  ticket tickets[4];
  int64_t earliest;
  bool stalled;
  ck_assert_uint_eq(pending::watch(3, false, fds, tickets, 4, &earliest, &stalled), 2);
  connection out;
  const int i = fds[0].fd == a.fd ? 0 : 1;
  ck_assert(pending::take(tickets[i], &out));
  const uint64_t first_order = out.order;
  ck_assert_uint_eq(first_order, a.order);
  ck_assert(pending::park(&out, &evicted) == park_outcome::parked);
  ck_assert_uint_eq(out.order, first_order);
}
END_TEST

START_TEST(watch_capacity_and_all_listeners) {
  connection evicted;
  const int64_t now = pending::now_ms();
  for (int i = 0; i < 6; ++i) {
    connection c = make(10 + i % 2, fake_fd_base + i, now + 1000 - i * 100);
    ck_assert(pending::park(&c, &evicted) == park_outcome::parked);
  }
  pollfd fds[8];
  ticket tickets[8];
  int64_t earliest = 0;
  bool stalled;
  ck_assert_uint_eq(pending::watch(-1, false, fds, tickets, 8, &earliest, &stalled), 6);
  ck_assert_int_eq(earliest, now + 500);
  ck_assert_uint_eq(pending::watch(10, false, fds, tickets, 8, &earliest, &stalled), 3);
  ck_assert_int_eq(earliest, now + 600);  // i = 4, the latest of listener 10
  ck_assert_uint_eq(pending::watch(-1, false, fds, tickets, 4, &earliest, &stalled), 4);
}
END_TEST

START_TEST(announced_once_and_skipped) {
  connection evicted;
  connection a = make(5, fake_fd_base + 1);
  connection b = make(5, fake_fd_base + 2);
  ck_assert(pending::park(&a, &evicted) == park_outcome::parked);
  ck_assert(pending::park(&b, &evicted) == park_outcome::parked);
  pollfd fds[4];
  ticket tickets[4];
  int64_t earliest;
  bool stalled;
  ck_assert_uint_eq(pending::watch(-1, true, fds, tickets, 4, &earliest, &stalled), 2);
  const int announced_fd = fds[0].fd;
  ck_assert(pending::announce(tickets[0]));
  ck_assert(!pending::announce(tickets[0]));  // once only
  ck_assert_uint_eq(pending::watch(-1, true, fds, tickets, 4, &earliest, &stalled), 1);
  ck_assert_int_ne(fds[0].fd, announced_fd);
  // The accepting thread still watches it.
  ck_assert_uint_eq(pending::watch(5, false, fds, tickets, 4, &earliest, &stalled), 2);
}
END_TEST

// A look that brought no new byte marks the connection stalled: watched
// for hang-up only. A look with new bytes raises SO_RCVLOWAT past them.
START_TEST(stalled_and_low_water) {
  int accepted, peer;
  pp_engine::tcp_pair(&accepted, &peer, nullptr);
  connection evicted;
  connection c = make(4, accepted);
  ck_assert(pending::park(&c, &evicted) == park_outcome::parked);
  ticket t = only_ticket(4);
  pending::record_look(t, 0);  // nothing new (seen was 0)
  pollfd fds[2];
  ticket tickets[2];
  int64_t earliest;
  bool stalled = false;
  ck_assert_uint_eq(pending::watch(4, false, fds, tickets, 2, &earliest, &stalled), 1);
  ck_assert(stalled);
  ck_assert_int_eq(fds[0].events, POLLRDHUP);

  pending::record_look(t, 5);  // progress
  ck_assert_uint_eq(pending::watch(4, false, fds, tickets, 2, &earliest, &stalled), 1);
  ck_assert(!stalled);
  ck_assert_int_eq(fds[0].events, POLLIN | POLLRDHUP);
  int lowat = 0;
  socklen_t len = sizeof lowat;
  ck_assert_int_eq(getsockopt(accepted, SOL_SOCKET, SO_RCVLOWAT, &lowat, &len), 0);
  ck_assert_int_eq(lowat, 6);
  pending::record_look(t, 9);
  ck_assert_int_eq(getsockopt(accepted, SOL_SOCKET, SO_RCVLOWAT, &lowat, &len), 0);
  ck_assert_int_eq(lowat, 10);

  connection out;
  ck_assert(pending::take(t, &out));
  ck_assert_uint_eq(out.seen, 9);
  ck_assert(out.saved_low_water.changed);
  proxyproto::restore_low_water(out.fd, &out.saved_low_water);
  ck_assert_int_eq(getsockopt(accepted, SOL_SOCKET, SO_RCVLOWAT, &lowat, &len), 0);
  ck_assert_int_eq(lowat, 1);
  ck_assert(!out.saved_low_water.changed);
  // A stale ticket's look changes nothing.
  pending::record_look(t, 20);
  ck_assert_int_eq(getsockopt(accepted, SOL_SOCKET, SO_RCVLOWAT, &lowat, &len), 0);
  ck_assert_int_eq(lowat, 1);
  close(accepted);
  close(peer);
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
  connection other = make(21, fake_fd_base + 5000);
  ck_assert(pending::park(&other, &evicted) == park_outcome::parked);
  ck_assert_uint_eq(pending::parked_for(20), pending::listener_capacity);

  connection extra = make(20, fake_fd_base + 9000);
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
  connection again = make(20, fake_fd_base + 9001);
  ck_assert(pending::park(&again, &next) == park_outcome::parked_evicting);
  ck_assert_int_eq(next.fd, fake_fd_base);
  connection third;
  connection more = make(20, fake_fd_base + 9002);
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

namespace {

std::atomic<bool> woken{false};

void *waiter(void *) {
  pending::wait_until_parked();
  woken = true;
  return nullptr;
}

}  // namespace

START_TEST(wait_until_parked_wakes) {
  pthread_t t;
  ck_assert_int_eq(pthread_create(&t, nullptr, waiter, nullptr), 0);
  const timespec pause{0, 50 * 1000 * 1000};
  nanosleep(&pause, nullptr);
  ck_assert(!woken);  // nothing parked: still waiting
  connection evicted;
  connection c = make(2, fake_fd_base);
  ck_assert(pending::park(&c, &evicted) == park_outcome::parked);
  timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 5;
  ck_assert_int_eq(pthread_timedjoin_np(t, nullptr, &deadline), 0);
  ck_assert(woken);
}
END_TEST

Suite *make_pending_pool_suite(void) {
  Suite *s = suite_create("pending_pool");
  TCase *tc = tcase_create("pool");
  tcase_add_test(tc, park_watch_take);
  tcase_add_test(tc, order_is_kept_across_parks);
  tcase_add_test(tc, watch_capacity_and_all_listeners);
  tcase_add_test(tc, announced_once_and_skipped);
  tcase_add_test(tc, stalled_and_low_water);
  tcase_add_test(tc, eviction_at_listener_capacity);
  tcase_add_test(tc, no_room_in_a_full_pool);
  tcase_add_test(tc, forget_descriptors);
  tcase_add_test(tc, child_of_fork_starts_empty);
  tcase_add_test(tc, wait_until_parked_wakes);
  suite_add_tcase(s, tc);
  return s;
}
