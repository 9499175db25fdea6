// The service a service manager or an inetd starts on an accepted
// connection, for tests/inherited/inherited.sh. Run under libproxyproto.so,
// which reads the connection's header when it loads. Usage:
//   inherited_reporter FD
// Reads one line from FD (at most 5 s), then writes to FD one line
//   report peer=ADDR:PORT remote_addr=.. remote_port=.. tcpremoteip=..
//          tcpremoteport=.. tcpremotehost=.. data=LINE eof=0|1
// (a variable that is not set shows as "-"), and appends the same line to
// the file REPORT_FILE names, if any, since a cut connection takes no reply.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

std::string peer_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getpeername(fd, reinterpret_cast<sockaddr *>(&ss), &len) != 0) return "error";
  char a[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (ss.ss_family == AF_INET) {
    const auto &s = reinterpret_cast<const sockaddr_in &>(ss);
    inet_ntop(AF_INET, &s.sin_addr, a, sizeof a);
    port = ntohs(s.sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto &s = reinterpret_cast<const sockaddr_in6 &>(ss);
    inet_ntop(AF_INET6, &s.sin6_addr, a, sizeof a);
    port = ntohs(s.sin6_port);
  } else {
    return "family" + std::to_string(ss.ss_family);
  }
  return std::string(a) + ":" + std::to_string(port);
}

std::string variable(const char *name) {
  const char *v = std::getenv(name);
  return v == nullptr ? "-" : v;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const int fd = std::atoi(argv[1]);
  const std::string peer = peer_of(fd);
  std::string line;
  bool eof = false;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 5000) <= 0) break;
    char c;
    const ssize_t n = read(fd, &c, 1);
    if (n <= 0) {
      eof = true;
      break;
    }
    if (c == '\n') break;
    if (c != '\r') line += c;
  }
  const std::string report = "report peer=" + peer + " remote_addr=" + variable("REMOTE_ADDR") +
                             " remote_port=" + variable("REMOTE_PORT") +
                             " tcpremoteip=" + variable("TCPREMOTEIP") +
                             " tcpremoteport=" + variable("TCPREMOTEPORT") +
                             " tcpremotehost=" + variable("TCPREMOTEHOST") + " data=" + line +
                             " eof=" + (eof ? "1" : "0") + "\n";
  if (const char *file = std::getenv("REPORT_FILE")) {
    if (std::FILE *f = std::fopen(file, "a")) {
      std::fputs(report.c_str(), f);
      std::fclose(f);
    }
  }
  (void)!write(fd, report.data(), report.size());
  // Read what the client sent after the line before closing: a close with
  // unread data sends a reset, which may overtake the report.
  shutdown(fd, SHUT_WR);
  char sink[256];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 2000) <= 0 || read(fd, sink, sizeof sink) <= 0) break;
  }
  return 0;
}
