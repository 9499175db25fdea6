// Descriptor bookkeeping under libproxyproto.so, checked from inside one
// process: the getpeername() record of a proxied descriptor must go when the
// descriptor goes (close, dup2, dup3, close_range), stay when it stays
// (close_range with CLOSE_RANGE_CLOEXEC), follow a copy to any number, and
// survive fork() in child and parent alike.
//
// The process connects to its own loopback listener with plain socket()/
// connect() (not interposed) and writes v2 headers itself. A record that
// outlives its descriptor shows when the number is reused by a socket() that
// the library never saw: getpeername() must then tell that socket's real peer.
//
// Prints one "ok - ..." or "not ok - ..." line per check and exits 0 only if
// every check passed.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace {

int listener = -1;        // proxied clients connect here; accept()ed
unsigned listen_port = 0;
int plain_listener = -1;  // plain clients connect here; never accepted
unsigned plain_port = 0;
int failures = 0;

void check(bool good, const char *what, const char *detail = "") {
  std::printf("%s - %s%s%s\n", good ? "ok" : "not ok", what,
              *detail ? ": " : "", detail);
  std::fflush(stdout);
  if (!good) failures++;
}

// "inet A P" for what getpeername() reports on fd, or "error N".
void peer_text(int fd, char *out, size_t size) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getpeername(fd, reinterpret_cast<sockaddr *>(&ss), &len) != 0) {
    std::snprintf(out, size, "error %d", errno);
    return;
  }
  char a[INET6_ADDRSTRLEN] = "?";
  if (ss.ss_family == AF_INET) {
    const auto &s = reinterpret_cast<const sockaddr_in &>(ss);
    inet_ntop(AF_INET, &s.sin_addr, a, sizeof a);
    std::snprintf(out, size, "inet %s %u", a, ntohs(s.sin_port));
  } else {
    std::snprintf(out, size, "family %d", ss.ss_family);
  }
}

// A client socket connected to `port` on the loopback.
int connect_to(unsigned port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) return -1;
  return fd;
}

// A socket the library never saw: a client of the plain listener, whose
// connection is left in that listener's backlog.
int plain_client() { return connect_to(plain_port); }

// The real peer a plain client must report: the plain listener.
void listener_text(char *out, size_t size) {
  std::snprintf(out, size, "inet 127.0.0.1 %u", plain_port);
}

// Accepts one connection that carried a v2 header claiming 203.0.113.N:port.
// The client end is returned through *client (kept open so that the
// server end stays a live connection).
int proxied(unsigned n, unsigned port, int *client) {
  *client = connect_to(listen_port);
  unsigned char h[28] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51,
                         0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0x00, 12,
                         203,  0,    113,  static_cast<unsigned char>(n),
                         127,  0,    0,    1,
                         static_cast<unsigned char>(port >> 8),
                         static_cast<unsigned char>(port & 0xff), 0, 80};
  if (send(*client, h, sizeof h, 0) != static_cast<ssize_t>(sizeof h)) return -1;
  return accept(listener, nullptr, nullptr);
}

void claim_text(unsigned n, unsigned port, char *out, size_t size) {
  std::snprintf(out, size, "inet 203.0.113.%u %u", n, port);
}

bool peer_is(int fd, const char *want, char *got, size_t size) {
  peer_text(fd, got, size);
  return std::strcmp(got, want) == 0;
}

// After `fd` was closed by some call: reuse its number with a socket the
// library never saw, and check that its real peer is reported. socket()
// takes the lowest free number; if that is not fd, fcntl(F_DUPFD) (not
// interposed) takes the lowest free number from fd on, which is fd itself.
//
// Before that, while the number is free, getpeername() must fail with EBADF
// as the kernel says: a stale record would answer for a closed descriptor.
// This half needs no reuse, so no interposed call can mask a stale record.
void expect_forgotten(int fd, const char *what) {
  char want[64], got[64] = "", msg[200];
  char closed[64];
  peer_text(fd, closed, sizeof closed);
  std::snprintf(msg, sizeof msg, "getpeername(%d) on the closed number: %s",
                fd, closed);
  check(std::strcmp(closed, "error 9") == 0, what, msg);
  listener_text(want, sizeof want);
  const int plain = plain_client();
  const int reused = plain == fd ? plain : fcntl(plain, F_DUPFD, fd);
  const bool same = reused == fd;
  const bool good = same && peer_is(reused, want, got, sizeof got);
  std::snprintf(msg, sizeof msg, "number %d reused (got %d) reports %s, want %s",
                fd, reused, got, want);
  check(good, what, msg);
  // Drop the reusing sockets without going through close()'s forgetting:
  // they have no record anyway.
  close(reused);
  if (plain != reused) close(plain);
}

void test_close() {
  int client;
  const int fd = proxied(1, 1001, &client);
  char want[64], got[64];
  claim_text(1, 1001, want, sizeof want);
  check(peer_is(fd, want, got, sizeof got), "proxied connection reports its header",
        got);
  close(fd);
  expect_forgotten(fd, "close() forgets the record");
  close(client);
}

void test_dup2_dup3(bool use_dup3) {
  int client;
  const int fd = proxied(2, 1002, &client);
  const int plain = plain_client();
  char want[64], got[64];
  listener_text(want, sizeof want);
  // dup2/dup3 replace fd by a socket without a record.
  const int r = use_dup3 ? dup3(plain, fd, O_CLOEXEC) : dup2(plain, fd);
  check(r == fd && peer_is(fd, want, got, sizeof got),
        use_dup3 ? "dup3() over a proxied descriptor forgets its record"
                 : "dup2() over a proxied descriptor forgets its record",
        got);
  close(fd);
  close(plain);
  close(client);
}

void test_close_range(bool cloexec) {
  int client[3];
  int fds[3];
  for (unsigned i = 0; i < 3; ++i) fds[i] = proxied(10 + i, 1010 + i, &client[i]);
  // The accepted descriptors are consecutive only by luck: move them, with
  // their records (dup2), to three consecutive numbers for close_range.
  const int base = 900;
  for (int i = 0; i < 3; ++i) {
    dup2(fds[i], base + i);
    close(fds[i]);
  }
  char want[64], got[64];
  claim_text(11, 1011, want, sizeof want);
  check(peer_is(base + 1, want, got, sizeof got),
        "dup2() to a chosen number carries the record", got);
  if (cloexec) {
    const int r = close_range(base, base + 2, CLOSE_RANGE_CLOEXEC);
    check(r == 0 && peer_is(base + 1, want, got, sizeof got),
          "close_range(CLOSE_RANGE_CLOEXEC) keeps the records of open descriptors",
          got);
    for (int i = 0; i < 3; ++i) close(base + i);
  } else {
    const int r = close_range(base, base + 2, 0);
    check(r == 0, "close_range() succeeds");
    for (int i = 0; i < 3; ++i)
      expect_forgotten(base + i, "close_range() forgets the records it closes");
  }
  for (int i = 0; i < 3; ++i) close(client[i]);
}

void test_high_number() {
  rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  int high = 60000;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max <= static_cast<rlim_t>(high))
    high = static_cast<int>(rl.rlim_max) - 1;
  rl.rlim_cur = static_cast<rlim_t>(high) + 1;
  setrlimit(RLIMIT_NOFILE, &rl);
  int client;
  const int fd = proxied(20, 1020, &client);
  char want[64], got[64];
  claim_text(20, 1020, want, sizeof want);
  const int r = dup2(fd, high);
  check(r == high && peer_is(high, want, got, sizeof got),
        "a record follows dup2() to a high descriptor number", got);
  close(high);
  expect_forgotten(high, "close() of a high number forgets its record");
  close(fd);
  close(client);
}

void test_fork() {
  int client;
  const int fd = proxied(30, 1030, &client);
  char want[64], got[64];
  claim_text(30, 1030, want, sizeof want);
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid == 0) {
    failures = 0;
    check(peer_is(fd, want, got, sizeof got), "fork: child sees the record",
          got);
    // A connection the child accepts itself.
    int c2;
    const int fd2 = proxied(31, 1031, &c2);
    char want2[64];
    claim_text(31, 1031, want2, sizeof want2);
    check(peer_is(fd2, want2, got, sizeof got),
          "fork: child's own accept() records its header", got);
    close(fd);
    expect_forgotten(fd, "fork: child's close() forgets the child's record");
    std::fflush(stdout);
    _exit(failures == 0 ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
        "fork: the child's checks passed");
  check(peer_is(fd, want, got, sizeof got),
        "fork: parent keeps its record after the child closed its copy", got);
  int c3;
  const int fd3 = proxied(32, 1032, &c3);
  char want3[64];
  claim_text(32, 1032, want3, sizeof want3);
  check(peer_is(fd3, want3, got, sizeof got),
        "fork: parent's accept() after fork records its header", got);
  close(fd3);
  close(c3);
  close(fd);
  close(client);
}

}  // namespace

int main() {
  listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 ||
      listen(listener, 64) != 0) {
    std::perror("fd_bookkeeping: listen");
    return 2;
  }
  socklen_t len = sizeof a;
  getsockname(listener, reinterpret_cast<sockaddr *>(&a), &len);
  listen_port = ntohs(a.sin_port);
  plain_listener = socket(AF_INET, SOCK_STREAM, 0);
  a.sin_port = 0;
  if (bind(plain_listener, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 ||
      listen(plain_listener, 64) != 0) {
    std::perror("fd_bookkeeping: listen");
    return 2;
  }
  len = sizeof a;
  getsockname(plain_listener, reinterpret_cast<sockaddr *>(&a), &len);
  plain_port = ntohs(a.sin_port);

  test_close();
  test_dup2_dup3(false);
  test_dup2_dup3(true);
  test_close_range(true);
  test_close_range(false);
  test_high_number();
  test_fork();
  std::printf("%d failed\n", failures);
  return failures == 0 ? 0 : 1;
}
