// The test client's UDP mode (LIBPROXYPROTO_UDP): every datagram sent on an
// AF_INET or AF_INET6 UDP socket goes out with a v2 header in front, whose
// destination is the datagram's own (sendto/sendmsg's address, or the
// connected peer for send/write). Received datagrams are left alone.
//
// The header is one more iovec before the application's: no copy of the
// payload, one system call per call as before. What the caller is told is
// the payload's length, never the header's bytes.
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <atomic>

#include "build_header.h"
#include "connect_config.h"
#include "core/setting_values.h"
#include "runtime/environment.h"
#include "runtime/export.h"
#include "runtime/log.h"
#include "runtime/next_symbol.h"
#include "runtime/real_datagram_calls.h"
#include "runtime/time_layouts.h"

namespace proxyproto {

namespace {

// LIBPROXYPROTO_UDP alone, read without connect_settings(): write() is
// interposed, and the settings' own warnings are written to stderr, so the
// first write must not need the settings to be loaded.
constinit std::atomic<int> udp_mode{-1};

bool udp_mode_on() noexcept {
  int mode = udp_mode.load(std::memory_order_relaxed);
  if (mode < 0) {
    mode = setting_is_on(environment_setting("LIBPROXYPROTO_UDP")) ? 1 : 0;
    udp_mode.store(mode, std::memory_order_relaxed);
  }
  return mode == 1;
}

bool is_inet_udp_socket(int fd) noexcept {
  int value = 0;
  socklen_t len = sizeof value;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &value, &len) != 0 ||
      value != SOCK_DGRAM)
    return false;
  len = sizeof value;
  if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &value, &len) != 0 ||
      value != IPPROTO_UDP)
    return false;
  len = sizeof value;
  return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &value, &len) == 0 &&
         (value == AF_INET || value == AF_INET6);
}

// The settings, when this descriptor's datagrams get a header.
const connect_config *datagram_settings(int fd) noexcept {
  if (!udp_mode_on()) return nullptr;
  const int saved = errno;
  const bool udp = is_inet_udp_socket(fd);
  errno = saved;
  if (!udp) return nullptr;
  const connect_config &config = connect_settings();
  if (config.version == 0 || !config.source_ok) return nullptr;
  return &config;
}

// The header for a datagram to `to` (or to the connected peer when `to` is
// null). 0 when none can be made: the datagram then goes out as it is.
size_t header_for(const connect_config &config, int fd, const sockaddr *to,
                  socklen_t to_len, uint8_t *out, size_t capacity) noexcept {
  sockaddr_storage peer;
  if (to == nullptr) {
    socklen_t len = sizeof peer;
    const int saved = errno;
    const bool connected =
        getpeername(fd, reinterpret_cast<sockaddr *>(&peer), &len) == 0;
    errno = saved;
    if (!connected) return 0;
    to = reinterpret_cast<const sockaddr *>(&peer);
    to_len = len;
  }
  return build_header(config, to, to_len, true, out, capacity);
}

// Room for the header's iovec and the application's (UIO_MAXIOV).
constexpr size_t max_iov = 1024;

// One message with its header; `out` and `iov` are the caller's storage.
bool prefix_message(const connect_config &config, int fd, const msghdr &in,
                    msghdr *out, iovec *iov, uint8_t *header,
                    size_t *header_len) noexcept {
  if (in.msg_iovlen >= max_iov) return false;
  *header_len = header_for(config, fd, static_cast<const sockaddr *>(in.msg_name),
                           in.msg_namelen, header, connect_header_capacity);
  if (*header_len == 0) return false;
  iov[0] = iovec{header, *header_len};
  for (size_t i = 0; i < in.msg_iovlen; ++i) iov[i + 1] = in.msg_iov[i];
  *out = in;
  out->msg_iov = iov;
  out->msg_iovlen = in.msg_iovlen + 1;
  return true;
}

ssize_t payload_length(ssize_t sent, size_t header_len) noexcept {
  if (sent < 0) return sent;
  const size_t n = static_cast<size_t>(sent);
  return n >= header_len ? static_cast<ssize_t>(n - header_len) : 0;
}

ssize_t sendmsg_with_header(const connect_config &config, int fd,
                            const msghdr *msg, int flags) noexcept {
  msghdr out;
  iovec iov[max_iov];
  uint8_t header[connect_header_capacity];
  size_t header_len = 0;
  if (msg == nullptr ||
      !prefix_message(config, fd, *msg, &out, iov, header, &header_len))
    return real::sendmsg(fd, msg, flags);
  return payload_length(real::sendmsg(fd, &out, flags), header_len);
}

ssize_t sendto_with_header(const connect_config &config, int fd,
                           const void *buf, size_t len, int flags,
                           const sockaddr *to, socklen_t to_len) noexcept {
  msghdr msg{};
  iovec payload{const_cast<void *>(buf), len};
  msg.msg_name = const_cast<sockaddr *>(to);
  msg.msg_namelen = to == nullptr ? 0 : to_len;
  msg.msg_iov = &payload;
  msg.msg_iovlen = 1;
  return sendmsg_with_header(config, fd, &msg, flags);
}

// sendmmsg in batches whose headers and iovecs fit on the stack; a message
// with many iovecs goes alone through sendmsg.
constexpr unsigned batch = 16;
constexpr size_t batch_iov = 16;

int sendmmsg_with_header(const connect_config &config, int fd, mmsghdr *msgs,
                         unsigned vlen, int flags) noexcept {
  unsigned done = 0;
  while (done < vlen) {
    mmsghdr out[batch];
    iovec iov[batch][batch_iov];
    uint8_t header[batch][v2_fixed_length + 36 + 7];
    size_t header_len[batch];
    unsigned n = 0;
    bool header_fits = config.tlvs_length == 0;
    while (header_fits && n < batch && done + n < vlen &&
           msgs[done + n].msg_hdr.msg_iovlen < batch_iov) {
      const msghdr &in = msgs[done + n].msg_hdr;
      header_len[n] = header_for(config, fd, static_cast<const sockaddr *>(in.msg_name),
                                 in.msg_namelen, header[n], sizeof header[n]);
      if (header_len[n] == 0) break;
      iov[n][0] = iovec{header[n], header_len[n]};
      for (size_t i = 0; i < in.msg_iovlen; ++i) iov[n][i + 1] = in.msg_iov[i];
      out[n].msg_hdr = in;
      out[n].msg_hdr.msg_iov = iov[n];
      out[n].msg_hdr.msg_iovlen = in.msg_iovlen + 1;
      out[n].msg_len = 0;
      ++n;
    }
    if (n == 0) {
      // One message that needs the general path (TLVs, many iovecs).
      const ssize_t sent = sendmsg_with_header(config, fd, &msgs[done].msg_hdr, flags);
      if (sent < 0) return done > 0 ? static_cast<int>(done) : -1;
      msgs[done].msg_len = static_cast<unsigned>(sent);
      ++done;
      continue;
    }
    const int sent = real::sendmmsg(fd, out, n, flags);
    if (sent < 0) return done > 0 ? static_cast<int>(done) : -1;
    for (int i = 0; i < sent; ++i)
      msgs[done + static_cast<unsigned>(i)].msg_len = static_cast<unsigned>(
          payload_length(static_cast<ssize_t>(out[i].msg_len), header_len[i]));
    done += static_cast<unsigned>(sent);
    if (static_cast<unsigned>(sent) < n) break;  // the kernel stopped early
  }
  return static_cast<int>(done);
}

}  // namespace

}  // namespace proxyproto

using proxyproto::datagram_settings;

extern "C" {

PROXYPROTO_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
                                 const sockaddr *to, socklen_t to_len) {
  if (const auto *config = datagram_settings(fd))
    return proxyproto::sendto_with_header(*config, fd, buf, len, flags, to, to_len);
  return proxyproto::real::sendto(fd, buf, len, flags, to, to_len);
}

PROXYPROTO_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags) {
  if (const auto *config = datagram_settings(fd))
    return proxyproto::sendto_with_header(*config, fd, buf, len, flags, nullptr, 0);
  return proxyproto::real::send(fd, buf, len, flags);
}

PROXYPROTO_EXPORT ssize_t write(int fd, const void *buf, size_t len) {
  if (const auto *config = datagram_settings(fd))
    return proxyproto::sendto_with_header(*config, fd, buf, len, 0, nullptr, 0);
  return proxyproto::real::write(fd, buf, len);
}

PROXYPROTO_EXPORT ssize_t sendmsg(int fd, const msghdr *msg, int flags) {
  if (const auto *config = datagram_settings(fd))
    return proxyproto::sendmsg_with_header(*config, fd, msg, flags);
  return proxyproto::real::sendmsg(fd, msg, flags);
}

PROXYPROTO_EXPORT int sendmmsg(int fd, mmsghdr *msgs, unsigned vlen, int flags) {
  if (const auto *config = datagram_settings(fd))
    return proxyproto::sendmmsg_with_header(*config, fd, msgs, vlen, flags);
  return proxyproto::real::sendmmsg(fd, msgs, vlen, flags);
}

}  // extern "C"

// sendmsg and sendmmsg under glibc's other name, where it has two: the old
// one and __sendmsg64 on a target whose time_t was 32 bits
// (runtime/time_layouts.h). The definitions above have the name of the
// layout this library is compiled with; a program built with the other
// calls these, which pass its message on unchanged.
#if defined(__TIMESIZE) && __TIMESIZE == 32
namespace {
using sendmsg_fn = ssize_t(int, const msghdr *, int);
using sendmmsg_fn = int(int, mmsghdr *, unsigned, int);
constinit proxyproto::real::next_symbol<sendmsg_fn> other_sendmsg{
    PP_OTHER_TIME_NAME("sendmsg", "__sendmsg64")};
constinit proxyproto::real::next_symbol<sendmmsg_fn> other_sendmmsg{
    PP_OTHER_TIME_NAME("sendmmsg", "__sendmmsg64")};
}  // namespace

extern "C" {

PROXYPROTO_EXPORT ssize_t pp_other_sendmsg(int fd, const msghdr *msg, int flags)
    __asm__(PP_OTHER_TIME_NAME("sendmsg", "__sendmsg64"));
PROXYPROTO_EXPORT int pp_other_sendmmsg(int fd, mmsghdr *msgs, unsigned vlen,
                                        int flags)
    __asm__(PP_OTHER_TIME_NAME("sendmmsg", "__sendmmsg64"));

ssize_t pp_other_sendmsg(int fd, const msghdr *msg, int flags) {
  if (const auto *config = datagram_settings(fd))
    return proxyproto::sendmsg_with_header(*config, fd, msg, flags);
  if (auto *fn = other_sendmsg.get()) return fn(fd, msg, flags);
  return proxyproto::real::sendmsg(fd, msg, flags);
}

int pp_other_sendmmsg(int fd, mmsghdr *msgs, unsigned vlen, int flags) {
  if (const auto *config = datagram_settings(fd))
    return proxyproto::sendmmsg_with_header(*config, fd, msgs, vlen, flags);
  if (auto *fn = other_sendmmsg.get()) return fn(fd, msgs, vlen, flags);
  return proxyproto::real::sendmmsg(fd, msgs, vlen, flags);
}

}  // extern "C"
#endif
