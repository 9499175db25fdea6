// The client side of tests/fuzz/hostile.sh: opens one connection after the
// other to a pp_server running under libproxyproto.so, each carrying random
// bytes or a mutation of a valid header followed by a unique marker, and
// writes what the application must have seen, according to the core parser
// (the oracle), one line per connection that must reach it:
//
//   data=HEX peer=ADDR|*        (* : peer not predicted, IPv6 source)
//
// Usage: hostile_client PORT SEED COUNT MUST_USE(0|1) EXPECTED_FILE
// Prints a summary line of the outcomes. A connection whose server side
// neither closes nor answers within the timeout counts as a hang: exit 1.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/header_writer.h"
#include "core/proxy_header.h"

using namespace proxyproto;

namespace {

using bytes = std::vector<uint8_t>;

// xorshift64*: the same sequence for the same seed on every machine.
struct rng {
  uint64_t s;
  uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ull;
  }
  size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(next() % n); }
};

bytes v1_line(const char *text) {
  return bytes(text, text + std::strlen(text));
}

bytes v2_header(rng &r) {
  header_fields f;
  std::memset(&f, 0, sizeof f);
  const size_t kind = r.below(4);
  f.cmd = kind == 0 ? command::local : command::proxy;
  f.family = kind == 1 ? address_family::inet6
             : kind == 2 ? address_family::unspec
                         : address_family::inet;
  for (auto &b : f.source.address) b = static_cast<uint8_t>(r.next());
  for (auto &b : f.destination.address) b = static_cast<uint8_t>(r.next());
  f.source.port = static_cast<uint16_t>(r.next());
  f.destination.port = static_cast<uint16_t>(r.next());
  // Some TLVs: ALPN, an SSL TLV with a sub-TLV, a custom one, maybe a CRC.
  static const uint8_t tlvs[] = {0x01, 0, 2, 'h', '2', 0x20, 0, 12, 1, 0, 0, 0, 0,
                                 0x21, 0, 4, 'T', 'L', 'S', '3', 0xE0, 0, 1, 0x7F};
  if (r.below(2)) {
    f.tlvs = tlvs;
    f.tlvs_length = sizeof tlvs;
  }
  f.add_crc32c = r.below(2) == 0;
  uint8_t out[256];
  const size_t n = write_v2(f, out, sizeof out);
  return bytes(out, out + n);
}

bytes valid_header(rng &r) {
  static const char *const lines[] = {
      "PROXY TCP4 192.0.2.1 198.51.100.2 4321 443\r\n",
      "PROXY TCP4 0.0.0.0 255.255.255.255 65535 0\r\n",
      "PROXY TCP6 2001:db8::1 ::ffff:1.2.3.4 1 2\r\n",
      "PROXY UNKNOWN\r\n",
      "PROXY UNKNOWN 1.2.3.4 5.6.7.8 1 2\r\n",
  };
  if (r.below(2)) return v1_line(lines[r.below(sizeof lines / sizeof lines[0])]);
  return v2_header(r);
}

void mutate(bytes &b, rng &r) {
  const size_t rounds = 1 + r.below(3);
  for (size_t i = 0; i < rounds; ++i) {
    const size_t at = r.below(b.size() + 1);
    switch (r.below(6)) {
      case 0:  // flip one bit
        if (!b.empty()) b[r.below(b.size())] ^= static_cast<uint8_t>(1u << r.below(8));
        break;
      case 1:  // overwrite a byte, favouring the interesting ones
        if (!b.empty()) {
          static const uint8_t special[] = {' ', '\r', '\n', 0, '0', '9', ':', '.', 0xFF};
          b[r.below(b.size())] = r.below(2) ? special[r.below(sizeof special)]
                                            : static_cast<uint8_t>(r.next());
        }
        break;
      case 2:  // truncate
        b.resize(r.below(b.size() + 1));
        break;
      case 3:  // insert a byte
        b.insert(b.begin() + static_cast<long>(at), static_cast<uint8_t>(r.next()));
        break;
      case 4:  // delete a byte
        if (at < b.size()) b.erase(b.begin() + static_cast<long>(at));
        break;
      case 5:  // v2 length field: any value
        if (b.size() >= 16 && b[0] == 0x0D) {
          b[14] = static_cast<uint8_t>(r.next());
          b[15] = static_cast<uint8_t>(r.next());
        }
        break;
    }
  }
}

std::string hex(const uint8_t *p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += digits[p[i] >> 4];
    s += digits[p[i] & 0xF];
  }
  return s;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: hostile_client PORT SEED COUNT MUST_USE EXPECTED\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  rng r{std::strtoull(argv[2], nullptr, 10) | 1};
  const long count = std::atol(argv[3]);
  const bool must_use = std::atoi(argv[4]) != 0;
  std::FILE *expected = std::fopen(argv[5], "w");
  if (expected == nullptr) return 2;
  const char *scale_text = std::getenv("PP_TIME_SCALE");
  const long scale = scale_text != nullptr && std::atol(scale_text) > 0 ? std::atol(scale_text) : 1;

  long served = 0, dropped = 0, hangs = 0, failures = 0;
  for (long i = 0; i < count; ++i) {
    bytes input;
    const size_t kind = r.below(4);
    if (kind == 0) {  // random bytes, sometimes behind a real signature
      input.resize(r.below(200));
      for (auto &b : input) b = static_cast<uint8_t>(r.next());
      if (r.below(2) && !input.empty()) {
        static const char sig[] = "PROXY ";
        static const uint8_t sig2[] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                       0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x21};
        if (r.below(2)) input.insert(input.begin(), sig, sig + 6);
        else input.insert(input.begin(), sig2, sig2 + sizeof sig2);
      }
    } else {
      input = valid_header(r);
      if (kind != 3) mutate(input, r);  // one in four stays valid
    }
    char marker[32];
    const int mlen = std::snprintf(marker, sizeof marker, "<app %ld>", i);
    input.insert(input.end(), marker, marker + mlen);

    header h;
    const parse_result oracle = parse_header(input.data(), input.size(), accept_v1_v2, &h);
    bool reaches_app = false;
    size_t app_from = 0;
    if (oracle.status == parse_status::complete) {
      reaches_app = true;
      app_from = oracle.length;
    } else if (oracle.status == parse_status::not_proxy) {
      reaches_app = !must_use;
    }

    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{static_cast<time_t>(5 * scale), 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
      std::fprintf(stderr, "connection %ld: connect: %s\n", i, std::strerror(errno));
      return 1;
    }
    sockaddr_in local{};
    socklen_t local_len = sizeof local;
    getsockname(fd, reinterpret_cast<sockaddr *>(&local), &local_len);
    // All at once, then end of stream: the library decides on what it has.
    size_t sent = 0;
    while (sent < input.size()) {
      const ssize_t n = send(fd, input.data() + sent, input.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;  // a drop may reset the connection early
      sent += static_cast<size_t>(n);
    }
    shutdown(fd, SHUT_WR);
    // Wait for the server side to close: served (pp_server read to EOF) or
    // dropped (the library closed it). Either way, EOF or a reset.
    uint8_t sink[256];
    for (;;) {
      const ssize_t n = recv(fd, sink, sizeof sink, 0);
      if (n > 0) continue;
      if (n < 0 && errno == EAGAIN) {  // SO_RCVTIMEO expired
        std::fprintf(stderr, "connection %ld: hang (no close within %lds)\n", i, 5 * scale);
        ++hangs;
      }
      break;
    }
    close(fd);
    if (sent < input.size() && reaches_app) {
      std::fprintf(stderr, "connection %ld: server closed a connection it should serve\n", i);
      ++failures;
    }

    if (!reaches_app) {
      ++dropped;
      continue;
    }
    ++served;
    std::string peer = "*";
    char text[INET_ADDRSTRLEN];
    const bool proxied = oracle.status == parse_status::complete && h.cmd == command::proxy &&
                         h.proto == transport::stream;
    if (proxied && h.family == address_family::inet) {
      inet_ntop(AF_INET, h.source.address, text, sizeof text);
      peer = std::string("inet ") + text + " " + std::to_string(h.source.port);
    } else if (!proxied || h.family == address_family::unspec ||
               h.family == address_family::unix_domain) {
      inet_ntop(AF_INET, &local.sin_addr, text, sizeof text);
      peer = std::string("inet ") + text + " " + std::to_string(ntohs(local.sin_port));
    }
    std::fprintf(expected, "data=%s peer=%s\n",
                 hex(input.data() + app_from, input.size() - app_from).c_str(), peer.c_str());
  }
  std::fclose(expected);
  std::printf("hostile_client: %ld connections, %ld to the application, %ld dropped, "
              "%ld hangs, %ld failures\n", count, served, dropped, hangs, failures);
  return hangs == 0 && failures == 0 ? 0 : 1;
}
