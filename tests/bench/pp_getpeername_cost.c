/* The cost of one getpeername() on an accepted connection, for bench.py:
 * answered by the kernel (no proxy), in the process by libproxyproto.so
 * (LD_PRELOAD), or by proxyproto-run's supervisor, to which each call is
 * a round trip (the filter traps every getpeername(): it cannot tell the
 * descriptors apart).
 *
 *   pp_getpeername_cost N
 *
 * Listens on 127.0.0.1, connects to itself and sends a v2 PROXY header
 * claiming 192.0.2.1:4321 before it accepts, so that the library and the
 * launcher find the header there and record the claim; then calls
 * getpeername() N times on the accepted connection. Built twice: dynamic
 * (for LD_PRELOAD) and static (for the launcher, and for no proxy, so that
 * the launcher's figure is against the same binary).
 *
 * Prints "ns_per_op=X peer=IP:PORT" for bench.py: wall-clock time per call
 * (under the launcher most of it is spent outside this process, so its own
 * CPU time would miss it), and the address the last call gave, so that a
 * figure is known to come from the path it claims to. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* A v2 PROXY header, TCP over IPv4: 192.0.2.1:4321 -> 127.0.0.1:port. */
static size_t v2_header(unsigned char *out, unsigned short port) {
  static const unsigned char sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                        0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
  memcpy(out, sig, sizeof sig);
  out[12] = 0x21; /* version 2, PROXY */
  out[13] = 0x11; /* TCP over IPv4 */
  out[14] = 0;
  out[15] = 12;
  const unsigned char src[4] = {192, 0, 2, 1}, dst[4] = {127, 0, 0, 1};
  memcpy(out + 16, src, 4);
  memcpy(out + 20, dst, 4);
  const unsigned short sport = htons(4321), dport = htons(port);
  memcpy(out + 24, &sport, 2);
  memcpy(out + 26, &dport, 2);
  return 28;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: pp_getpeername_cost N\n");
    return 2;
  }
  const long n = atol(argv[1]);
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  const int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&a, len) != 0 ||
      listen(l, 1) != 0 || getsockname(l, (struct sockaddr *)&a, &len) != 0 ||
      connect(c, (struct sockaddr *)&a, len) != 0) {
    perror("pp_getpeername_cost: loopback connection");
    return 1;
  }
  unsigned char header[28];
  const size_t hlen = v2_header(header, ntohs(a.sin_port));
  if (send(c, header, hlen, 0) != (ssize_t)hlen) {
    perror("pp_getpeername_cost: send");
    return 1;
  }
  const int s = accept(l, NULL, NULL);
  if (s < 0) {
    perror("pp_getpeername_cost: accept");
    return 1;
  }
  struct sockaddr_in peer;
  const double t0 = now_ns();
  for (long i = 0; i < n; ++i) {
    socklen_t plen = sizeof peer;
    if (getpeername(s, (struct sockaddr *)&peer, &plen) != 0) {
      perror("pp_getpeername_cost: getpeername");
      return 1;
    }
  }
  const double t1 = now_ns();
  char ip[INET_ADDRSTRLEN] = "?";
  inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
  printf("ns_per_op=%.1f peer=%s:%u\n", n > 0 ? (t1 - t0) / (double)n : 0.0, ip,
         ntohs(peer.sin_port));
  return 0;
}
