// Check tests of per-process readiness (lib/accept/listener_readiness.h):
// a non-blocking accept4() with a late header never sleeps and says EAGAIN,
// and the wait calls under the library report the listener readable as soon
// as the header completes or the deadline passes, and not otherwise.
//
// The library is dlopen()ed (RTLD_LOCAL) into each test's own process
// (Check forks one per test) and its exported functions are called
// directly, as the application's calls would reach them under LD_PRELOAD;
// the test's own epoll_wait() is the plain one, which needs no translation.
#include <arpa/inet.h>
#include <check.h>
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "runtime/time_layouts.h"
#include <string>

namespace {

struct library {
  int (*accept4)(int, sockaddr *, socklen_t *, int);
  int (*listen)(int, int);
  int (*epoll_ctl)(int, int, int, epoll_event *);
  int (*poll)(pollfd *, nfds_t, int);
  int (*ppoll)(pollfd *, nfds_t, const timespec *, const sigset_t *);
  int (*select)(int, fd_set *, fd_set *, fd_set *, timeval *);
  int (*pselect)(int, fd_set *, fd_set *, fd_set *, const timespec *, const sigset_t *);
};

template <typename T>
void bind_symbol(void *handle, const char *name, T *out) {
  *out = reinterpret_cast<T>(dlsym(handle, name));
  ck_assert_msg(*out != nullptr, "%s not exported", name);
}

library open_library() {
  const char *path = std::getenv("LIBPROXYPROTO_SO");
  ck_assert_msg(path != nullptr, "LIBPROXYPROTO_SO is not set (run via make check)");
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  ck_assert_msg(handle != nullptr, "dlopen: %s", dlerror());
  library lib;
  bind_symbol(handle, "accept4", &lib.accept4);
  bind_symbol(handle, "listen", &lib.listen);
  bind_symbol(handle, "epoll_ctl", &lib.epoll_ctl);
  bind_symbol(handle, "poll", &lib.poll);
  // The names of this program's own timespec and timeval: with a 64-bit
  // time_t on a 32-bit target, glibc's __ppoll64 & co. (its headers call
  // ppoll so; dlsym does not).
  bind_symbol(handle, PP_NATIVE_TIME_NAME("ppoll", "__ppoll64"), &lib.ppoll);
  bind_symbol(handle, PP_NATIVE_TIME_NAME("select", "__select64"), &lib.select);
  bind_symbol(handle, PP_NATIVE_TIME_NAME("pselect", "__pselect64"), &lib.pselect);
  return lib;
}

// The same calls under glibc's other name, where it has two (a target whose
// time_t was 32 bits): the other size of time_t, which the library converts.
namespace layouts = proxyproto::time_layouts;
struct other_calls {
  int (*ppoll)(pollfd *, nfds_t, const layouts::other_timespec *, const sigset_t *);
  int (*select)(int, fd_set *, fd_set *, fd_set *, layouts::other_timeval *);
  int (*pselect)(int, fd_set *, fd_set *, fd_set *, const layouts::other_timespec *,
                 const sigset_t *);
};

other_calls open_other_names() {
  const char *path = std::getenv("LIBPROXYPROTO_SO");
  ck_assert_msg(path != nullptr, "LIBPROXYPROTO_SO is not set (run via make check)");
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  ck_assert_msg(handle != nullptr, "dlopen: %s", dlerror());
  other_calls other;
  bind_symbol(handle, PP_OTHER_TIME_NAME("ppoll", "__ppoll64"), &other.ppoll);
  bind_symbol(handle, PP_OTHER_TIME_NAME("select", "__select64"), &other.select);
  bind_symbol(handle, PP_OTHER_TIME_NAME("pselect", "__pselect64"), &other.pselect);
  return other;
}

int64_t monotonic_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// A non-blocking loopback listener; its port in *port. With `mark`, listen()
// goes through the library (as in a process that listened under it).
int listener(const library &lib, bool mark, int *port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(bind(fd, reinterpret_cast<sockaddr *>(&sin), sizeof sin), 0);
  ck_assert_int_eq(mark ? lib.listen(fd, 64) : listen(fd, 64), 0);
  socklen_t len = sizeof sin;
  getsockname(fd, reinterpret_cast<sockaddr *>(&sin), &len);
  *port = ntohs(sin.sin_port);
  return fd;
}

int connect_port(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(static_cast<uint16_t>(port));
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(connect(fd, reinterpret_cast<sockaddr *>(&sin), sizeof sin), 0);
  return fd;
}

void send_text(int fd, const std::string &s) {
  ck_assert_int_eq(send(fd, s.data(), s.size(), MSG_NOSIGNAL),
                   static_cast<ssize_t>(s.size()));
}

const std::string header = "PROXY TCP4 203.0.113.7 127.0.0.1 4711 80\r\n";

// accept4(SOCK_NONBLOCK) that must not sleep; returns its result.
int accept_now(const library &lib, int l, std::string *peer) {
  sockaddr_in sin{};
  socklen_t len = sizeof sin;
  const int64_t start = monotonic_ms();
  const int fd = lib.accept4(l, reinterpret_cast<sockaddr *>(&sin), &len, SOCK_NONBLOCK);
  const int saved = errno;
  const int64_t took = monotonic_ms() - start;
  ck_assert_msg(took < 50, "a non-blocking accept4 took %lld ms", static_cast<long long>(took));
  if (fd >= 0 && peer != nullptr) {
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sin.sin_addr, ip, sizeof ip);
    *peer = std::string(ip) + " " + std::to_string(ntohs(sin.sin_port));
  }
  errno = saved;
  return fd;
}

// Takes the client's connection while its header is missing: EAGAIN.
void park_one(const library &lib, int l) {
  pollfd p{l, POLLIN, 0};
  ck_assert_int_eq(poll(&p, 1, 2000), 1);  // the connection is queued
  ck_assert_int_lt(accept_now(lib, l, nullptr), 0);
  ck_assert_int_eq(errno, EAGAIN);
}

void expect_proxied(const library &lib, int l) {
  std::string peer;
  const int fd = accept_now(lib, l, &peer);
  ck_assert_msg(fd >= 0, "accept4 failed (errno %d) once the header was complete", errno);
  ck_assert_str_eq(peer.c_str(), "203.0.113.7 4711");
  close(fd);
  ck_assert_int_lt(accept_now(lib, l, nullptr), 0);
  ck_assert_int_eq(errno, EAGAIN);
}

// The epoll set reports the listener (its own data) once the header is
// complete, and nothing while it is not, nor after it was handed out.
void epoll_case(uint32_t mode, bool mark) {
  setenv("LIBPROXYPROTO_TIMEOUT", "5000", 1);
  const library lib = open_library();
  int port;
  const int l = listener(lib, mark, &port);
  const int ep = epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN | mode;
  ev.data.u64 = 0xfeed;
  ck_assert_int_eq(lib.epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev), 0);
  const int client = connect_port(port);
  epoll_event got[4];
  ck_assert_int_ge(epoll_wait(ep, got, 4, 2000), 1);  // the new connection
  ck_assert_int_lt(accept_now(lib, l, nullptr), 0);
  ck_assert_int_eq(errno, EAGAIN);
  ck_assert_int_eq(epoll_wait(ep, got, 4, 100), 0);  // parked, not ready
  send_text(client, header + "GET /\r\n");
  const int64_t sent = monotonic_ms();
  const int n = epoll_wait(ep, got, 4, 2000);
  ck_assert_int_ge(n, 1);
  ck_assert_int_lt(monotonic_ms() - sent, 500);
  for (int i = 0; i < n; ++i) ck_assert_uint_eq(got[i].data.u64, 0xfeed);
  expect_proxied(lib, l);
  ck_assert_int_eq(epoll_wait(ep, got, 4, 100), 0);  // nothing left to report
  close(client);
}

START_TEST(epoll_level_triggered_reports_a_completed_header) {
  epoll_case(0, true);
}
END_TEST

START_TEST(epoll_edge_triggered_exclusive_reports_a_completed_header) {
  // Not marked by listen(): EPOLLEXCLUSIVE makes the library look.
  epoll_case(EPOLLET | EPOLLEXCLUSIVE, false);
}
END_TEST

START_TEST(epoll_del_stops_the_reports) {
  setenv("LIBPROXYPROTO_TIMEOUT", "5000", 1);
  const library lib = open_library();
  int port;
  const int l = listener(lib, true, &port);
  const int ep = epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ck_assert_int_eq(lib.epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev), 0);
  const int client = connect_port(port);
  park_one(lib, l);
  ck_assert_int_eq(lib.epoll_ctl(ep, EPOLL_CTL_DEL, l, nullptr), 0);
  send_text(client, header);
  epoll_event got[2];
  ck_assert_int_eq(epoll_wait(ep, got, 2, 200), 0);
  expect_proxied(lib, l);
  close(client);
}
END_TEST

START_TEST(poll_and_ppoll_report_a_completed_header) {
  setenv("LIBPROXYPROTO_TIMEOUT", "5000", 1);
  const library lib = open_library();
  int port;
  const int l = listener(lib, true, &port);
  for (int round = 0; round < 2; ++round) {
    const int client = connect_port(port);
    park_one(lib, l);
    pollfd p[2] = {{-1, POLLIN, 0}, {l, POLLIN, 0}};
    timespec zero{0, 100 * 1000000};
    ck_assert_int_eq(round == 0 ? lib.poll(p, 2, 100) : lib.ppoll(p, 2, &zero, nullptr), 0);
    send_text(client, header);
    timespec two{2, 0};
    const int64_t sent = monotonic_ms();
    ck_assert_int_eq(round == 0 ? lib.poll(p, 2, 2000) : lib.ppoll(p, 2, &two, nullptr), 1);
    ck_assert_int_lt(monotonic_ms() - sent, 500);
    ck_assert(p[1].revents & POLLIN);
    ck_assert_int_eq(p[0].revents, 0);
    expect_proxied(lib, l);
    close(client);
  }
}
END_TEST

START_TEST(select_and_pselect_report_a_completed_header) {
  setenv("LIBPROXYPROTO_TIMEOUT", "5000", 1);
  const library lib = open_library();
  int port;
  const int l = listener(lib, true, &port);
  for (int round = 0; round < 2; ++round) {
    const int client = connect_port(port);
    park_one(lib, l);
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(l, &rd);
    timeval tv{0, 100000};
    timespec ts{0, 100 * 1000000};
    ck_assert_int_eq(round == 0 ? lib.select(l + 1, &rd, nullptr, nullptr, &tv)
                                : lib.pselect(l + 1, &rd, nullptr, nullptr, &ts, nullptr),
                     0);
    send_text(client, header);
    FD_ZERO(&rd);
    FD_SET(l, &rd);
    tv = timeval{2, 0};
    ts = timespec{2, 0};
    ck_assert_int_eq(round == 0 ? lib.select(l + 1, &rd, nullptr, nullptr, &tv)
                                : lib.pselect(l + 1, &rd, nullptr, nullptr, &ts, nullptr),
                     1);
    ck_assert(FD_ISSET(l, &rd));
    // Nothing of the library's own shows through.
    for (int fd = 0; fd < FD_SETSIZE; ++fd)
      if (fd != l) ck_assert_msg(!FD_ISSET(fd, &rd), "descriptor %d reported", fd);
    expect_proxied(lib, l);
    close(client);
  }
}
END_TEST

// ppoll, select and pselect under glibc's other name: the timeouts are read
// in the other layout (100 ms is waited, not 0 nor forever), select()
// writes the time left back in it, and a completed header is reported.
START_TEST(other_time_names_report_a_completed_header) {
  setenv("LIBPROXYPROTO_TIMEOUT", "5000", 1);
  const library lib = open_library();
  const other_calls other = open_other_names();
  int port;
  const int l = listener(lib, true, &port);
  for (int call = 0; call < 3; ++call) {
    const int client = connect_port(port);
    park_one(lib, l);
    layouts::other_timespec short_ts{};
    short_ts.tv_nsec = 100 * 1000000;
    layouts::other_timeval short_tv{};
    short_tv.tv_usec = 100 * 1000;
    pollfd p{l, POLLIN, 0};
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(l, &rd);
    int64_t start = monotonic_ms();
    const int none = call == 0   ? other.ppoll(&p, 1, &short_ts, nullptr)
                     : call == 1 ? other.select(l + 1, &rd, nullptr, nullptr, &short_tv)
                                 : other.pselect(l + 1, &rd, nullptr, nullptr, &short_ts,
                                                 nullptr);
    const int64_t waited = monotonic_ms() - start;
    ck_assert_int_eq(none, 0);
    ck_assert_msg(waited >= 80 && waited < 1500, "call %d: waited %lld ms for 100", call,
                  static_cast<long long>(waited));
    send_text(client, header);
    layouts::other_timespec long_ts{};
    long_ts.tv_sec = 2;
    layouts::other_timeval long_tv{};
    long_tv.tv_sec = 2;
    FD_ZERO(&rd);
    FD_SET(l, &rd);
    start = monotonic_ms();
    const int one = call == 0   ? other.ppoll(&p, 1, &long_ts, nullptr)
                    : call == 1 ? other.select(l + 1, &rd, nullptr, nullptr, &long_tv)
                                : other.pselect(l + 1, &rd, nullptr, nullptr, &long_ts,
                                                nullptr);
    ck_assert_int_eq(one, 1);
    ck_assert_int_lt(monotonic_ms() - start, 500);
    if (call == 0) ck_assert(p.revents & POLLIN);
    if (call != 0) ck_assert(FD_ISSET(l, &rd));
    // select(): the time left, in the caller's layout: under 2 s, over 1.
    if (call == 1)
      ck_assert_msg(long_tv.tv_sec == 1 && long_tv.tv_usec > 0,
                    "time left %lld s %lld us", static_cast<long long>(long_tv.tv_sec),
                    static_cast<long long>(long_tv.tv_usec));
    expect_proxied(lib, l);
    close(client);
  }
}
END_TEST

START_TEST(deadline_makes_the_listener_readable) {
  setenv("LIBPROXYPROTO_TIMEOUT", "300", 1);
  const library lib = open_library();
  int port;
  const int l = listener(lib, true, &port);
  const int client = connect_port(port);
  const int64_t start = monotonic_ms();
  park_one(lib, l);
  pollfd p{l, POLLIN, 0};
  ck_assert_int_eq(lib.poll(&p, 1, 3000), 1);
  const int64_t woke = monotonic_ms() - start;
  ck_assert_msg(woke >= 250 && woke < 1500, "woken after %lld ms for a 300 ms timeout",
                static_cast<long long>(woke));
  std::string peer;
  const int fd = accept_now(lib, l, &peer);
  ck_assert_int_ge(fd, 0);
  const std::string host = peer.substr(0, 10);  // no temporary in the macro
  ck_assert_str_eq(host.c_str(), "127.0.0.1 ");  // passed through
  close(fd);
  close(client);
}
END_TEST

Suite *readiness_suite() {
  Suite *s = suite_create("readiness");
  TCase *t = tcase_create("wait_calls");
  tcase_set_timeout(t, 30);
  tcase_add_test(t, epoll_level_triggered_reports_a_completed_header);
  tcase_add_test(t, epoll_edge_triggered_exclusive_reports_a_completed_header);
  tcase_add_test(t, epoll_del_stops_the_reports);
  tcase_add_test(t, poll_and_ppoll_report_a_completed_header);
  tcase_add_test(t, select_and_pselect_report_a_completed_header);
  tcase_add_test(t, deadline_makes_the_listener_readable);
  // Only where glibc has two names: elsewhere there is no other name.
  if (proxyproto::time_layouts::two_names)
    tcase_add_test(t, other_time_names_report_a_completed_header);
  suite_add_tcase(s, t);
  return s;
}

}  // namespace

int main() {
  SRunner *runner = srunner_create(readiness_suite());
  srunner_run_all(runner, CK_NORMAL);
  const int failed = srunner_ntests_failed(runner);
  srunner_free(runner);
  return failed == 0 ? 0 : 1;
}
