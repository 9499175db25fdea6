// A UDP echo server for make bench, in the two usual shapes:
//
//   pp_udp_echo [--batch] [--max N]
//
// binds 127.0.0.1 (port 0), prints "listening PORT", then answers every
// datagram to the sender it was given: recvfrom() + sendto() one at a
// time, or with --batch recvmmsg(MSG_WAITFORONE) of up to 32 + sendmmsg().
// With --max N it exits after N datagrams (for strace -c and callgrind).
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

[[noreturn]] void die(const char *what) {
  fprintf(stderr, "pp_udp_echo: %s: %s\n", what, strerror(errno));
  exit(1);
}

constexpr unsigned batch = 32;

}  // namespace

int main(int argc, char **argv) {
  bool batched = false;
  long max = -1;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--batch") == 0) {
      batched = true;
    } else if (strcmp(argv[i], "--max") == 0 && i + 1 < argc) {
      max = strtol(argv[++i], nullptr, 10);
    } else {
      fprintf(stderr, "usage: pp_udp_echo [--batch] [--max N]\n");
      return 2;
    }
  }
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) die("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr *>(&addr), len) != 0) die("bind");
  if (getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len) != 0)
    die("getsockname");
  const int size = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  printf("listening %u\n", ntohs(addr.sin_port));
  fflush(stdout);

  long done = 0;
  if (!batched) {
    char buf[2048];
    while (max < 0 || done < max) {
      sockaddr_storage from;
      socklen_t from_len = sizeof from;
      const ssize_t n = recvfrom(fd, buf, sizeof buf, 0,
                                 reinterpret_cast<sockaddr *>(&from), &from_len);
      if (n < 0) {
        if (errno == EINTR) continue;
        die("recvfrom");
      }
      sendto(fd, buf, static_cast<size_t>(n), 0,
             reinterpret_cast<sockaddr *>(&from), from_len);
      ++done;
    }
    return 0;
  }
  static char bufs[batch][2048];
  sockaddr_storage names[batch];
  iovec iov[batch];
  mmsghdr msgs[batch];
  while (max < 0 || done < max) {
    unsigned want = batch;
    if (max >= 0 && max - done < static_cast<long>(want))
      want = static_cast<unsigned>(max - done);
    for (unsigned i = 0; i < want; ++i) {
      iov[i] = {bufs[i], sizeof bufs[i]};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_name = &names[i];
      msgs[i].msg_hdr.msg_namelen = sizeof names[i];
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = recvmmsg(fd, msgs, want, MSG_WAITFORONE, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("recvmmsg");
    }
    for (int i = 0; i < n; ++i) iov[i].iov_len = msgs[i].msg_len;
    sendmmsg(fd, msgs, static_cast<unsigned>(n), 0);
    done += n;
  }
  return 0;
}
