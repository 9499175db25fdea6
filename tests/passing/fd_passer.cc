// Passes accepted connections from one process to another over an AF_UNIX
// socket (SCM_RIGHTS), as Node.js's cluster module and pm2 do, for
// tests/passing/passing.sh. Run under libproxyproto.so.
//
//   fd_passer send CHANNEL COUNT BATCH [back]
//     listens on 127.0.0.1 (prints "port P"), connects to the receiver's
//     named socket CHANNEL, accepts COUNT connections and sends them BATCH
//     descriptors to a message, closing its own copies; then one end of a
//     socketpair (a descriptor with no record). With `back`, receives each
//     proxied connection back and prints "back PEER".
//   fd_passer receive CHANNEL COUNT [mmsg] [cloexec] [back]
//     listens on CHANNEL (prints "unix CHANNEL"), takes COUNT connections
//     and the extra descriptor, with recvmsg() or recvmmsg(), and with
//     MSG_CMSG_CLOEXEC if asked; prints "conn PEER cloexec=C data=D" for
//     each connection (D: the first bytes it reads) and "plain PEER" for the
//     extra one, whose number was a proxied connection's before. With `back`,
//     sends each connection back before closing it.
//   fd_passer fork COUNT BATCH
//     the same in one process forked before any accept: the child receives
//     over a socketpair.
// PEER is what getpeername() reports: "inet ADDR PORT", or "family N".
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

[[noreturn]] void die(const char *what) {
  std::fprintf(stderr, "fd_passer: %s: %s\n", what, std::strerror(errno));
  std::exit(2);
}

std::string peer_of(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getpeername(fd, reinterpret_cast<sockaddr *>(&ss), &len) != 0)
    return "error " + std::to_string(errno);
  char a[INET6_ADDRSTRLEN] = "?";
  if (ss.ss_family == AF_INET) {
    const auto &s = reinterpret_cast<const sockaddr_in &>(ss);
    inet_ntop(AF_INET, &s.sin_addr, a, sizeof a);
    return std::string("inet ") + a + " " + std::to_string(ntohs(s.sin_port));
  }
  if (ss.ss_family == AF_INET6) {
    const auto &s = reinterpret_cast<const sockaddr_in6 &>(ss);
    inet_ntop(AF_INET6, &s.sin6_addr, a, sizeof a);
    return std::string("inet6 ") + a + " " + std::to_string(ntohs(s.sin6_port));
  }
  return "family " + std::to_string(ss.ss_family);
}

void send_fds(int channel, const std::vector<int> &fds) {
  std::vector<char> control(CMSG_SPACE(sizeof(int) * fds.size()));
  char byte = 'F';
  iovec iov{&byte, 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (c == nullptr) die("CMSG_FIRSTHDR");
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  if (sendmsg(channel, &msg, 0) != 1) die("sendmsg");
}

// The descriptors of the SCM_RIGHTS message of one received message.
void collect(const msghdr &msg, std::vector<int> *out) {
  for (cmsghdr *c = CMSG_FIRSTHDR(&msg); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr *>(&msg), c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      out->push_back(fd);
    }
  }
}

// Receives at least one message; its descriptors go to *out. False at the
// end of the stream.
bool receive_fds(int channel, bool batch, int flags, std::vector<int> *out) {
  constexpr int slots = 4;
  char bytes[slots];
  alignas(cmsghdr) char control[slots][CMSG_SPACE(sizeof(int) * 16)];
  iovec iov[slots];
  mmsghdr msgs[slots] = {};
  for (int i = 0; i < slots; ++i) {
    iov[i] = {&bytes[i], 1};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_control = control[i];
    msgs[i].msg_hdr.msg_controllen = sizeof control[i];
  }
  if (!batch) {
    const ssize_t n = recvmsg(channel, &msgs[0].msg_hdr, flags);
    if (n < 0) die("recvmsg");
    if (n == 0) return false;
    collect(msgs[0].msg_hdr, out);
    return true;
  }
  // Without MSG_WAITFORONE a stream socket may give fewer messages; one is
  // enough to go on.
  const int n = recvmmsg(channel, msgs, slots, flags | MSG_WAITFORONE, nullptr);
  if (n < 0) die("recvmmsg");
  // The end of the stream may follow the last messages in the same call:
  // what came before it is still this call's.
  for (int i = 0; i < n; ++i) {
    if (msgs[i].msg_len == 0) return !out->empty();
    collect(msgs[i].msg_hdr, out);
  }
  return n > 0;
}

std::string first_bytes(int fd) {
  char buf[64];
  size_t got = 0;
  while (got < 5) {
    const ssize_t n = read(fd, buf + got, sizeof buf - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  return std::string(buf, got);
}

int sender(int channel, int count, int batch, bool back) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sin;
  if (bind(listener, reinterpret_cast<sockaddr *>(&sin), sizeof sin) != 0 ||
      listen(listener, 64) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr *>(&sin), &len) != 0)
    die("listen");
  std::printf("port %u\n", ntohs(sin.sin_port));
  std::fflush(stdout);
  for (int done = 0; done < count;) {
    std::vector<int> fds;
    while (static_cast<int>(fds.size()) < batch && done + static_cast<int>(fds.size()) < count) {
      const int fd = accept(listener, nullptr, nullptr);
      if (fd < 0) die("accept");
      fds.push_back(fd);
    }
    send_fds(channel, fds);
    for (int fd : fds) close(fd);
    done += static_cast<int>(fds.size());
  }
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) die("socketpair");
  send_fds(channel, {pair[0]});
  close(pair[0]);
  for (int got = 0; back && got < count;) {
    std::vector<int> fds;
    if (!receive_fds(channel, false, 0, &fds)) break;
    for (int fd : fds) {
      std::printf("back %s\n", peer_of(fd).c_str());
      close(fd);
      ++got;
    }
  }
  std::fflush(stdout);
  return 0;
}

int receiver(int channel, int count, bool batch, bool cloexec, bool back) {
  int seen = 0;
  std::vector<int> fds;
  while (seen <= count) {
    fds.clear();
    if (!receive_fds(channel, batch, cloexec ? MSG_CMSG_CLOEXEC : 0, &fds)) break;
    for (int fd : fds) {
      if (seen++ == count) {
        std::printf("plain %s fd=%d\n", peer_of(fd).c_str(), fd);
      } else {
        const int cl = (fcntl(fd, F_GETFD) & FD_CLOEXEC) ? 1 : 0;
        const std::string peer = peer_of(fd);
        std::printf("conn %s cloexec=%d data=%s fd=%d\n", peer.c_str(), cl,
                    first_bytes(fd).c_str(), fd);
        if (back) send_fds(channel, {fd});
      }
      std::fflush(stdout);
      close(fd);
    }
  }
  return seen == count + 1 ? 0 : 1;
}

}  // namespace

int main(int argc, char **argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (argc < 2) return 2;
  const std::string mode = argv[1];
  auto has = [&](const char *word) {
    for (int i = 2; i < argc; ++i)
      if (std::strcmp(argv[i], word) == 0) return true;
    return false;
  };
  if (mode == "fork" && argc >= 4) {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) die("socketpair");
    const pid_t child = fork();
    if (child < 0) die("fork");
    if (child == 0) {
      close(pair[0]);
      _exit(receiver(pair[1], std::atoi(argv[2]), false, false, false));
    }
    close(pair[1]);
    sender(pair[0], std::atoi(argv[2]), std::atoi(argv[3]), false);
    close(pair[0]);
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  }
  if (argc < 4) return 2;
  sockaddr_un where{};
  where.sun_family = AF_UNIX;
  std::snprintf(where.sun_path, sizeof where.sun_path, "%s", argv[2]);
  const int channel = socket(AF_UNIX, SOCK_STREAM, 0);
  if (mode == "send") {
    if (connect(channel, reinterpret_cast<sockaddr *>(&where), sizeof where) != 0)
      die("connect");
    return sender(channel, std::atoi(argv[3]), argc > 4 ? std::atoi(argv[4]) : 1,
                  has("back"));
  }
  if (mode == "receive") {
    if (bind(channel, reinterpret_cast<sockaddr *>(&where), sizeof where) != 0 ||
        listen(channel, 1) != 0)
      die("listen");
    chmod(argv[2], 0777);
    std::printf("unix %s\n", argv[2]);
    std::fflush(stdout);
    const int c = accept(channel, nullptr, nullptr);
    if (c < 0) die("accept");
    return receiver(c, std::atoi(argv[3]), has("mmsg"), has("cloexec"), has("back"));
  }
  return 2;
}
