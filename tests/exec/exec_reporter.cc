// The program the exec tests start on a connection: reports, on standard
// output and standard error, what it sees.
//   report gen=N secure=0|1 env=clean|seen [fdK=ADDR:PORT ...] [tcpremoteip=IP]
// fdK lists every descriptor 0-31 that is a connected socket, with what
// getpeername() says; env says whether LIBPROXYPROTO_HANDOVER is visible
// in the environment (getenv or environ). With --chain, after the report
// it puts /dev/null on 0 and 1 and executes itself again (gen N+1,
// reporting on standard error only): that program inherits no connection.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

std::string describe(const sockaddr_storage &ss) {
  char text[INET6_ADDRSTRLEN] = "?";
  if (ss.ss_family == AF_INET) {
    const auto *sin = reinterpret_cast<const sockaddr_in *>(&ss);
    inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
    return std::string(text) + ":" + std::to_string(ntohs(sin->sin_port));
  }
  if (ss.ss_family == AF_INET6) {
    const auto *sin6 = reinterpret_cast<const sockaddr_in6 *>(&ss);
    inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(ntohs(sin6->sin6_port));
  }
  return "family" + std::to_string(ss.ss_family);
}

bool handover_visible() {
  if (getenv("LIBPROXYPROTO_HANDOVER") != nullptr) return true;
  for (char **e = environ; *e != nullptr; ++e)
    if (std::strncmp(*e, "LIBPROXYPROTO_HANDOVER", 22) == 0) return true;
  return false;
}

}  // namespace

int main(int argc, char **argv) {
  int gen = 1;
  bool chain = false;
  bool stderr_only = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--chain") == 0) chain = true;
    else if (std::strcmp(argv[i], "--stderr-only") == 0) stderr_only = true;
    else if (std::strncmp(argv[i], "--gen=", 6) == 0) gen = std::atoi(argv[i] + 6);
  }
  std::string line = "report gen=" + std::to_string(gen) +
                     " secure=" + std::to_string(getauxval(AT_SECURE) != 0) +
                     " env=" + (handover_visible() ? "seen" : "clean");
  for (int fd = 0; fd < 32; ++fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (getpeername(fd, reinterpret_cast<sockaddr *>(&ss), &len) == 0)
      line += " fd" + std::to_string(fd) + "=" + describe(ss);
  }
  if (const char *ip = getenv("TCPREMOTEIP")) line += std::string(" tcpremoteip=") + ip;
  if (const char *port = getenv("TCPREMOTEPORT"))
    line += std::string(" tcpremoteport=") + port;
  line += "\n";
  // Read the client's line first: a socket closed with unread input is
  // reset, and the reset can discard the report on its way.
  struct stat st;
  if (!stderr_only && fstat(0, &st) == 0 && S_ISSOCK(st.st_mode)) {
    pollfd p{0, POLLIN, 0};
    char buf[4096];
    if (poll(&p, 1, 5000) > 0 && read(0, buf, sizeof buf) < 0) {
      // nothing to read: report anyway
    }
  }
  if (!stderr_only && write(1, line.data(), line.size()) < 0) {
    // the peer may be gone; standard error still gets the line
  }
  if (!stderr_only) shutdown(1, SHUT_WR);  // the report is complete
  if (write(2, line.data(), line.size()) < 0) return 1;
  if (!chain) return 0;
  const int null = open("/dev/null", O_RDWR);
  if (null < 0) return 1;
  dup2(null, 0);
  dup2(null, 1);
  close(null);
  const std::string next_gen = "--gen=" + std::to_string(gen + 1);
  char *args[] = {argv[0], const_cast<char *>(next_gen.c_str()),
                  const_cast<char *>("--stderr-only"), nullptr};
  execv("/proc/self/exe", args);
  perror("execv");
  return 1;
}
