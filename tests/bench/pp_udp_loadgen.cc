// The UDP load generator of make bench: the proxy's side. It keeps
// --window datagrams in flight to a UDP echo server and counts the answers.
//
//   pp_udp_loadgen --port N [--header none|v2] [--clients K]
//                  (--seconds S [--window W] | --count N)
//
// Each datagram is 32 bytes of payload, after a v2 header (UDP over IPv4,
// with a checksum-free 28 bytes) claiming one of K clients 127.0.0.2.. in
// turn (ports new for each run), as a proxy would, when --header v2. --count sends N datagrams one
// at a time, each after the previous answer (for strace and callgrind).
// Prints "rate=R sent=S received=N lost=L" (rate in answers per second).
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

namespace {

[[noreturn]] void die(const char *what) {
  fprintf(stderr, "pp_udp_loadgen: %s: %s\n", what, strerror(errno));
  exit(1);
}

double now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

const unsigned char signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                     0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

// The claimed clients' first port: new for each run (from the generator's
// own port), as new clients are. go-mmproxy keeps a client's upstream
// socket, bound to the proxy it first came from, for a minute: a client
// claimed again by a later run's socket would get its answers sent there.
unsigned client_base = 20000;

size_t datagram(unsigned char *out, bool header, unsigned long i, unsigned clients,
                unsigned port) {
  size_t n = 0;
  if (header) {
    memcpy(out, signature, 12);
    out[12] = 0x21;
    out[13] = 0x12;
    out[14] = 0;
    out[15] = 12;
    const unsigned c = static_cast<unsigned>(i % clients);
    const unsigned char src[4] = {127, 0, static_cast<unsigned char>((2 + c) >> 8),
                                  static_cast<unsigned char>(2 + c)};
    const unsigned char dst[4] = {127, 0, 0, 1};
    memcpy(out + 16, src, 4);
    memcpy(out + 20, dst, 4);
    const unsigned sport = client_base + c;
    out[24] = static_cast<unsigned char>(sport >> 8);
    out[25] = static_cast<unsigned char>(sport);
    out[26] = static_cast<unsigned char>(port >> 8);
    out[27] = static_cast<unsigned char>(port);
    n = 28;
  }
  memset(out + n, 'p', 32);
  return n + 32;
}

}  // namespace

int main(int argc, char **argv) {
  unsigned port = 0, clients = 256, window = 16;
  bool header = false;
  double seconds = -1;
  long count = -1;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) port = static_cast<unsigned>(atoi(argv[++i]));
    else if (strcmp(argv[i], "--header") == 0 && i + 1 < argc) header = strcmp(argv[++i], "v2") == 0;
    else if (strcmp(argv[i], "--clients") == 0 && i + 1 < argc) clients = static_cast<unsigned>(atoi(argv[++i]));
    else if (strcmp(argv[i], "--window") == 0 && i + 1 < argc) window = static_cast<unsigned>(atoi(argv[++i]));
    else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) seconds = atof(argv[++i]);
    else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) count = atol(argv[++i]);
    else {
      fprintf(stderr, "usage: pp_udp_loadgen --port N [--header none|v2] "
                      "[--clients K] (--seconds S [--window W] | --count N)\n");
      return 2;
    }
  }
  if (port == 0 || clients == 0 || (seconds < 0 && count < 0)) return 2;
  if (count >= 0) window = 1;
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) die("socket");
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr *>(&to), sizeof to) != 0) die("connect");
  sockaddr_in self{};
  socklen_t self_len = sizeof self;
  if (getsockname(fd, reinterpret_cast<sockaddr *>(&self), &self_len) != 0) die("getsockname");
  client_base = 1024 + (ntohs(self.sin_port) * 257u) % (64000u - clients);

  unsigned char out[128], in[2048];
  unsigned long sent = 0, received = 0, lost = 0, outstanding = 0;
  auto send_one = [&] {
    const size_t n = datagram(out, header, sent, clients, port);
    if (send(fd, out, n, 0) >= 0) {
      ++sent;
      ++outstanding;
    }
  };
  const double start = now();
  const double end = seconds >= 0 ? start + seconds : 0;
  while (outstanding < window && (count < 0 || static_cast<long>(sent) < count)) send_one();
  for (;;) {
    if (count >= 0 && static_cast<long>(received + lost) >= count) break;
    if (seconds >= 0 && now() >= end) break;
    pollfd p{fd, POLLIN, 0};
    const int r = poll(&p, 1, 200);
    if (r == 0) {  // the window was lost: refill it
      lost += outstanding;
      outstanding = 0;
      while (outstanding < window && (count < 0 || static_cast<long>(sent) < count)) send_one();
      continue;
    }
    const ssize_t n = recv(fd, in, sizeof in, MSG_DONTWAIT);
    if (n < 0) continue;
    ++received;
    if (outstanding > 0) --outstanding;
    if (count < 0 || static_cast<long>(sent) < count) send_one();
  }
  const double took = now() - start;
  printf("rate=%.1f sent=%lu received=%lu lost=%lu\n",
         static_cast<double>(received) / took, sent, received, lost);
  return 0;
}
