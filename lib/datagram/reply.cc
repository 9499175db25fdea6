#include "datagram/reply.h"

#include "datagram/reply_map.h"
#include "runtime/real_datagram_calls.h"

namespace proxyproto::datagram {

ssize_t send_to(int fd, const void *buf, size_t len, int flags,
                const sockaddr *to, socklen_t to_len) noexcept {
  sockaddr_storage proxy;
  socklen_t proxy_len = 0;
  if (to != nullptr && reply_map::lookup(to, to_len, &proxy, &proxy_len))
    return real::sendto(fd, buf, len, flags,
                        reinterpret_cast<const sockaddr *>(&proxy), proxy_len);
  return real::sendto(fd, buf, len, flags, to, to_len);
}

ssize_t send_message(int fd, const msghdr *msg, int flags) noexcept {
  sockaddr_storage proxy;
  socklen_t proxy_len = 0;
  if (msg == nullptr || msg->msg_name == nullptr ||
      !reply_map::lookup(static_cast<const sockaddr *>(msg->msg_name),
                         msg->msg_namelen, &proxy, &proxy_len))
    return real::sendmsg(fd, msg, flags);
  msghdr redirected = *msg;
  redirected.msg_name = &proxy;
  redirected.msg_namelen = proxy_len;
  return real::sendmsg(fd, &redirected, flags);
}

// The caller's own messages go to the kernel, each redirected one with
// the proxy's address for the call (and its own name given back after):
// one system call per batch of up to `chunk` redirections' addresses, as
// the application's own call would be for all but the largest batches.
int send_batch(int fd, mmsghdr *msgs, unsigned vlen, int flags) noexcept {
  if (msgs == nullptr) return real::sendmmsg(fd, msgs, vlen, flags);
  constexpr unsigned chunk = 64;
  unsigned done = 0;
  do {
    const unsigned want = vlen - done < chunk ? vlen - done : chunk;
    mmsghdr *slots = msgs + done;
    sockaddr_storage proxies[chunk];
    void *names[chunk];
    socklen_t name_lens[chunk];
    unsigned redirected = 0;  // how many of the first messages to give back
    for (unsigned i = 0; i < want; ++i) {
      msghdr &m = slots[i].msg_hdr;
      socklen_t proxy_len = 0;
      names[i] = m.msg_name;
      name_lens[i] = m.msg_namelen;
      if (m.msg_name != nullptr &&
          reply_map::lookup(static_cast<const sockaddr *>(m.msg_name),
                            m.msg_namelen, &proxies[i], &proxy_len)) {
        m.msg_name = &proxies[i];
        m.msg_namelen = proxy_len;
        redirected = i + 1;
      }
    }
    const int n = real::sendmmsg(fd, slots, want, flags);
    for (unsigned i = 0; i < redirected; ++i) {
      slots[i].msg_hdr.msg_name = names[i];
      slots[i].msg_hdr.msg_namelen = name_lens[i];
    }
    if (n < 0) return done > 0 ? static_cast<int>(done) : -1;
    done += static_cast<unsigned>(n);
    if (static_cast<unsigned>(n) < want) break;
  } while (done < vlen);
  return static_cast<int>(done);
}

}  // namespace proxyproto::datagram
