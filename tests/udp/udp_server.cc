// A UDP server for the tests of tests/udp/: binds a loopback port, prints
// "port N", waits for a line on stdin ("go"), then receives COUNT datagrams
// with the receive call MODE and prints one line for each:
//   dgram from=ADDR:PORT len=N data=HEX [flags=trunc] [pktinfo=ADDR]
// and answers "echo:" + payload to the sender it was given (sendto,
// sendmsg or sendmmsg, as fits the mode; recv, read and readv learn no
// sender and do not answer). Usage: udp_server MODE COUNT [six]
// Modes: recvfrom recv read readv recvmsg recvmmsg recvmmsg-all
//        recvmmsg-reversed peek trunc nonblock namelen late collect
// (recvmmsg-reversed: as recvmmsg, with the name buffers in descending
// order and the first one a sockaddr_in6 long, exactly. The recvmmsg modes
// print "slot I changed" for a message not returned that does not look
// as it was given.)
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

bool six = false;

std::string address_text(const sockaddr_storage &sa, socklen_t len) {
  char text[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (sa.ss_family == AF_INET && len >= sizeof(sockaddr_in)) {
    const auto *sin = reinterpret_cast<const sockaddr_in *>(&sa);
    inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text);
    port = ntohs(sin->sin_port);
  } else if (sa.ss_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    const auto *sin6 = reinterpret_cast<const sockaddr_in6 *>(&sa);
    inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof text);
    port = ntohs(sin6->sin6_port);
  } else {
    return "none";
  }
  return std::string(six ? "[" : "") + text + (six ? "]" : "") + ":" +
         std::to_string(port);
}

std::string hex(const char *p, size_t n) {
  std::string s;
  char b[3];
  for (size_t i = 0; i < n; ++i) {
    std::snprintf(b, sizeof b, "%02x", static_cast<unsigned char>(p[i]));
    s += b;
  }
  return s;
}

void print(const char *from, size_t len, const char *data, size_t shown,
           const std::string &extra) {
  std::printf("dgram from=%s len=%zu data=%s%s\n", from, len,
              hex(data, shown).c_str(), extra.c_str());
  std::fflush(stdout);
}

std::string pktinfo_of(msghdr &m) {
  for (cmsghdr *c = CMSG_FIRSTHDR(&m); c != nullptr; c = CMSG_NXTHDR(&m, c)) {
    char text[INET6_ADDRSTRLEN] = "?";
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      in_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      inet_ntop(AF_INET, &info.ipi_addr, text, sizeof text);
      return std::string(" pktinfo=") + text;
    }
    if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      inet_ntop(AF_INET6, &info.ipi6_addr, text, sizeof text);
      return std::string(" pktinfo=") + text;
    }
  }
  return " pktinfo=none";
}

void reply(int fd, const sockaddr_storage &to, socklen_t len, const char *data,
           size_t n) {
  std::string out = "echo:" + std::string(data, n);
  if (sendto(fd, out.data(), out.size(), 0,
             reinterpret_cast<const sockaddr *>(&to), len) < 0)
    std::printf("sendto failed: %s\n", std::strerror(errno));
}

[[noreturn]] void die(const char *what) {
  std::printf("error %s: %s\n", what, std::strerror(errno));
  std::exit(2);
}

}  // namespace

namespace {

// One call of each receive function on a socket pair, before any UDP
// socket exists: under the library each is then bound to the C library's
// own function, and creating the UDP socket below must switch them all to
// the library's (lib/datagram/receive_entries.h).
void receive_once_through_every_call() {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_DGRAM, 0, pair) != 0) die("socketpair");
  char b[4];
  iovec iov{b, sizeof b};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  mmsghdr mm{};
  mm.msg_hdr = msg;
  for (int call = 0; call < 6; ++call) {
    if (write(pair[1], "x", 1) != 1) die("write");
    ssize_t n = -1;
    switch (call) {
      case 0: n = read(pair[0], b, sizeof b); break;
      case 1: n = readv(pair[0], &iov, 1); break;
      case 2: n = recv(pair[0], b, sizeof b, 0); break;
      case 3: n = recvfrom(pair[0], b, sizeof b, 0, nullptr, nullptr); break;
      case 4: n = recvmsg(pair[0], &msg, 0); break;
      case 5: n = recvmmsg(pair[0], &mm, 1, 0, nullptr); break;
    }
    if (n != 1) die("receive on the socket pair");
  }
  close(pair[0]);
  close(pair[1]);
}

}  // namespace

int main(int argc, char **argv) {
  receive_once_through_every_call();
  if (argc < 3) {
    std::fprintf(stderr, "usage: udp_server MODE COUNT [six]\n");
    return 2;
  }
  const std::string mode = argv[1];
  const int count = std::atoi(argv[2]);
  six = argc > 3 && std::strcmp(argv[3], "six") == 0;

  const int fd = socket(six ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) die("socket");
  sockaddr_storage local{};
  socklen_t local_len;
  if (six) {
    auto *sin6 = reinterpret_cast<sockaddr_in6 *>(&local);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_addr = in6addr_loopback;
    local_len = sizeof *sin6;
  } else {
    auto *sin = reinterpret_cast<sockaddr_in *>(&local);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    local_len = sizeof *sin;
  }
  if (bind(fd, reinterpret_cast<sockaddr *>(&local), local_len) != 0) die("bind");
  if (getsockname(fd, reinterpret_cast<sockaddr *>(&local), &local_len) != 0)
    die("getsockname");
  const int on = 1;
  if (six) setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
  else setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
  std::printf("port %u\n", six ? ntohs(reinterpret_cast<sockaddr_in6 *>(&local)->sin6_port)
                              : ntohs(reinterpret_cast<sockaddr_in *>(&local)->sin_port));
  std::fflush(stdout);
  char line[16];
  if (std::fgets(line, sizeof line, stdin) == nullptr) return 2;

  char buf[2048];
  int done = 0;
  while (done < count) {
    sockaddr_storage from{};
    socklen_t from_len = sizeof from;
    if (mode == "collect") {
      // Receives all COUNT datagrams first, then answers each in turn: the
      // reply map then holds whatever it kept of all of them.
      static char kept[64][512];
      static size_t kept_len[64];
      static sockaddr_storage kept_from[64];
      static socklen_t kept_from_len[64];
      const int n_max = count < 64 ? count : 64;
      for (int i = 0; i < n_max; ++i) {
        kept_from_len[i] = sizeof kept_from[i];
        const ssize_t n = recvfrom(fd, kept[i], sizeof kept[i], 0,
                                   reinterpret_cast<sockaddr *>(&kept_from[i]),
                                   &kept_from_len[i]);
        if (n < 0) die("recvfrom");
        kept_len[i] = static_cast<size_t>(n);
      }
      for (int i = 0; i < n_max; ++i)
        reply(fd, kept_from[i], kept_from_len[i], kept[i], kept_len[i]);
      done = count;
    } else if (mode == "late") {
      // Answers 2.5 s later: after a short reply-map lifetime has passed.
      const ssize_t n = recvfrom(fd, buf, sizeof buf, 0,
                                 reinterpret_cast<sockaddr *>(&from), &from_len);
      if (n < 0) die("recvfrom");
      print(address_text(from, from_len).c_str(), static_cast<size_t>(n), buf,
            static_cast<size_t>(n), "");
      usleep(2500 * 1000);
      reply(fd, from, from_len, buf, static_cast<size_t>(n));
      ++done;
    } else if (mode == "recvfrom" || mode == "peek") {
      if (mode == "peek") {
        char peeked[2048];
        const ssize_t p = recvfrom(fd, peeked, sizeof peeked, MSG_PEEK,
                                   reinterpret_cast<sockaddr *>(&from), &from_len);
        if (p < 0) die("recvfrom(MSG_PEEK)");
        print(address_text(from, from_len).c_str(), static_cast<size_t>(p),
              peeked, static_cast<size_t>(p), " peeked");
        from_len = sizeof from;
      }
      const ssize_t n = recvfrom(fd, buf, sizeof buf, 0,
                                 reinterpret_cast<sockaddr *>(&from), &from_len);
      if (n < 0) die("recvfrom");
      print(address_text(from, from_len).c_str(), static_cast<size_t>(n), buf,
            static_cast<size_t>(n), "");
      reply(fd, from, from_len, buf, static_cast<size_t>(n));
      ++done;
    } else if (mode == "recv" || mode == "read") {
      const ssize_t n = mode == "recv" ? recv(fd, buf, sizeof buf, 0)
                                       : read(fd, buf, sizeof buf);
      if (n < 0) die(mode.c_str());
      print("none", static_cast<size_t>(n), buf, static_cast<size_t>(n), "");
      ++done;
    } else if (mode == "readv") {
      char a[3], b[2048];
      iovec iov[2] = {{a, sizeof a}, {b, sizeof b}};
      const ssize_t n = readv(fd, iov, 2);
      if (n < 0) die("readv");
      std::string joined(a, n < 3 ? static_cast<size_t>(n) : 3);
      if (n > 3) joined.append(b, static_cast<size_t>(n) - 3);
      print("none", static_cast<size_t>(n), joined.data(), joined.size(), "");
      ++done;
    } else if (mode == "recvmsg" || mode == "trunc") {
      const bool small = mode == "trunc";
      iovec iov{buf, small ? 4 : sizeof buf};
      alignas(cmsghdr) char control[256];
      msghdr m{};
      m.msg_name = &from;
      m.msg_namelen = sizeof from;
      m.msg_iov = &iov;
      m.msg_iovlen = 1;
      m.msg_control = control;
      m.msg_controllen = sizeof control;
      const ssize_t n = recvmsg(fd, &m, small ? MSG_TRUNC : 0);
      if (n < 0) die("recvmsg");
      const size_t shown = static_cast<size_t>(n) < iov.iov_len ? static_cast<size_t>(n) : iov.iov_len;
      std::string extra = (m.msg_flags & MSG_TRUNC) ? " flags=trunc" : "";
      extra += pktinfo_of(m);
      print(address_text(from, m.msg_namelen).c_str(), static_cast<size_t>(n),
            buf, shown, extra);
      // Answer with sendmsg, to the sender as given.
      std::string out = "echo:" + std::string(buf, shown);
      iovec oiov{out.data(), out.size()};
      msghdr o{};
      o.msg_name = &from;
      o.msg_namelen = m.msg_namelen;
      o.msg_iov = &oiov;
      o.msg_iovlen = 1;
      if (sendmsg(fd, &o, 0) < 0) die("sendmsg");
      ++done;
    } else if (mode == "recvmmsg" || mode == "recvmmsg-all" ||
               mode == "recvmmsg-reversed") {
      // recvmmsg: MSG_WAITFORONE with 8 slots; recvmmsg-all: blocking for
      // all COUNT slots at once.
      constexpr unsigned slots = 16;
      const bool reversed = mode == "recvmmsg-reversed";
      const unsigned vlen = mode != "recvmmsg-all" ? 8 : static_cast<unsigned>(count - done);
      char bufs[slots][512];
      // Each slot has room for its IP_PKTINFO: a datagram moved into an
      // earlier slot (a discarded one before it) carries its own, and a
      // slot not returned keeps the capacity it was given.
      alignas(cmsghdr) char controls[slots][64];
      sockaddr_storage name_store[slots];
      sockaddr_storage *names[slots];
      socklen_t name_lens[slots];
      iovec iovs[slots];
      mmsghdr msgs[slots];
      for (unsigned i = 0; i < slots; ++i) {
        names[i] = &name_store[reversed ? slots - 1 - i : i];
        name_lens[i] = reversed && i == 0 ? sizeof(sockaddr_in6) : sizeof name_store[i];
        iovs[i] = {bufs[i], sizeof bufs[i]};
        msgs[i] = {};
        msgs[i].msg_hdr.msg_name = names[i];
        msgs[i].msg_hdr.msg_namelen = name_lens[i];
        msgs[i].msg_hdr.msg_iov = &iovs[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_control = controls[i];
        msgs[i].msg_hdr.msg_controllen = sizeof controls[i];
      }
      const unsigned asked = vlen < slots ? vlen : slots;
      const int n = recvmmsg(fd, msgs, asked,
                             mode != "recvmmsg-all" ? MSG_WAITFORONE : 0, nullptr);
      if (n < 0) die("recvmmsg");
      std::printf("batch n=%d\n", n);
      for (unsigned i = static_cast<unsigned>(n); i < asked; ++i)
        if (msgs[i].msg_hdr.msg_name != names[i] ||
            msgs[i].msg_hdr.msg_namelen != name_lens[i] ||
            msgs[i].msg_hdr.msg_control != controls[i] ||
            msgs[i].msg_hdr.msg_controllen != sizeof controls[i] ||
            msgs[i].msg_hdr.msg_iov != &iovs[i])
          std::printf("slot %u changed\n", i);
      mmsghdr out[slots];
      iovec oiov[slots];
      std::string texts[slots];
      for (int i = 0; i < n; ++i) {
        print(address_text(*names[i], msgs[i].msg_hdr.msg_namelen).c_str(),
              msgs[i].msg_len, bufs[i], msgs[i].msg_len, pktinfo_of(msgs[i].msg_hdr));
        texts[i] = "echo:" + std::string(bufs[i], msgs[i].msg_len);
        oiov[i] = {texts[i].data(), texts[i].size()};
        out[i] = {};
        out[i].msg_hdr.msg_name = names[i];
        out[i].msg_hdr.msg_namelen = msgs[i].msg_hdr.msg_namelen;
        out[i].msg_hdr.msg_iov = &oiov[i];
        out[i].msg_hdr.msg_iovlen = 1;
      }
      if (n > 0 && sendmmsg(fd, out, static_cast<unsigned>(n), 0) != n) die("sendmmsg");
      done += n;
    } else if (mode == "nonblock") {
      fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
      const ssize_t n = recvfrom(fd, buf, sizeof buf, 0,
                                 reinterpret_cast<sockaddr *>(&from), &from_len);
      if (n < 0 && errno == EAGAIN) {
        // Everything was sent before "go": EAGAIN means nothing good is left.
        std::printf("eagain after %d\n", done);
        std::fflush(stdout);
        break;
      }
      if (n < 0) die("recvfrom");
      print(address_text(from, from_len).c_str(), static_cast<size_t>(n), buf,
            static_cast<size_t>(n), "");
      reply(fd, from, from_len, buf, static_cast<size_t>(n));
      ++done;
    } else if (mode == "namelen") {
      from_len = 4;  // less than a sockaddr_in: the kernel copies 4 bytes
      std::memset(&from, 0xEE, sizeof from);
      const ssize_t n = recvfrom(fd, buf, sizeof buf, 0,
                                 reinterpret_cast<sockaddr *>(&from), &from_len);
      if (n < 0) die("recvfrom");
      const auto *bytes = reinterpret_cast<const unsigned char *>(&from);
      std::printf("namelen=%u port=%u byte4=%02x\n", from_len,
                  (bytes[2] << 8) | bytes[3], bytes[4]);
      std::fflush(stdout);
      ++done;
    } else {
      std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
      return 2;
    }
  }
  std::printf("done\n");
  std::fflush(stdout);
  return 0;
}
