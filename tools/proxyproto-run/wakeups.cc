#include "wakeups.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "runtime/log.h"
#include "supervisor.h"

namespace proxyproto::run {

namespace {

struct wakeup {
  int fd;
  int family;
  sockaddr_storage local;  // its source address (TCP)
  socklen_t local_len;
  int64_t sent_ms;
};
std::vector<wakeup> pending;
constexpr int64_t wakeup_life_ms = 5000;

bool same_endpoint(const sockaddr_storage &a, const sockaddr_storage &b) noexcept {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    const auto &x = reinterpret_cast<const sockaddr_in &>(a);
    const auto &y = reinterpret_cast<const sockaddr_in &>(b);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  if (a.ss_family == AF_INET6) {
    const auto &x = reinterpret_cast<const sockaddr_in6 &>(a);
    const auto &y = reinterpret_cast<const sockaddr_in6 &>(b);
    return x.sin6_port == y.sin6_port &&
           std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0;
  }
  return false;
}

// The listener's address as a destination: a wildcard becomes the loopback.
bool destination_of(int listener_fd, sockaddr_storage *to, socklen_t *to_len) noexcept {
  *to_len = sizeof *to;
  if (getsockname(listener_fd, reinterpret_cast<sockaddr *>(to), to_len) != 0) return false;
  if (to->ss_family == AF_INET) {
    auto &sin = reinterpret_cast<sockaddr_in &>(*to);
    if (sin.sin_addr.s_addr == htonl(INADDR_ANY)) sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return true;
  }
  if (to->ss_family == AF_INET6) {
    auto &sin6 = reinterpret_cast<sockaddr_in6 &>(*to);
    if (IN6_IS_ADDR_UNSPECIFIED(&sin6.sin6_addr)) sin6.sin6_addr = in6addr_loopback;
    return true;
  }
  // An AF_UNIX listener is reachable by its name, or not at all.
  return to->ss_family == AF_UNIX && *to_len > sizeof(sa_family_t);
}

}  // namespace

bool send_wakeup(int listener_fd) noexcept {
  sockaddr_storage to;
  socklen_t to_len = 0;
  if (!destination_of(listener_fd, &to, &to_len)) return false;
  const int fd = socket(to.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  if (connect(fd, reinterpret_cast<sockaddr *>(&to), to_len) != 0 && errno != EINPROGRESS) {
    PP_DEBUG("wake-up connection failed: %s", strerror(errno));
    close(fd);
    return false;
  }
  wakeup w{fd, to.ss_family, {}, sizeof(sockaddr_storage), monotonic_ms()};
  if (to.ss_family != AF_UNIX &&
      getsockname(fd, reinterpret_cast<sockaddr *>(&w.local), &w.local_len) != 0) {
    close(fd);
    return false;
  }
  pending.push_back(w);
  return true;
}

bool is_wakeup(int fd, const sockaddr_storage &peer, socklen_t peer_len) noexcept {
  if (pending.empty()) return false;
  if (peer.ss_family == AF_UNIX || peer_len <= sizeof(sa_family_t)) {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.pid != getpid())
      return false;
    for (auto it = pending.begin(); it != pending.end(); ++it)
      if (it->family == AF_UNIX) {
        close(it->fd);
        pending.erase(it);
        return true;
      }
    return false;
  }
  // IPv4 clients of an AF_INET6 listener are shown v4-mapped: compare by
  // the wake-up's own view too.
  sockaddr_storage local_of_peer = peer;
  if (peer.ss_family == AF_INET6) {
    const auto &sin6 = reinterpret_cast<const sockaddr_in6 &>(peer);
    if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) {
      sockaddr_in sin{};
      sin.sin_family = AF_INET;
      sin.sin_port = sin6.sin6_port;
      std::memcpy(&sin.sin_addr, sin6.sin6_addr.s6_addr + 12, 4);
      std::memcpy(&local_of_peer, &sin, sizeof sin);
    }
  }
  for (auto it = pending.begin(); it != pending.end(); ++it)
    if (same_endpoint(it->local, peer) || same_endpoint(it->local, local_of_peer)) {
      close(it->fd);
      pending.erase(it);
      return true;
    }
  return false;
}

void expire_wakeups(int64_t now) noexcept {
  for (auto it = pending.begin(); it != pending.end();)
    if (now - it->sent_ms > wakeup_life_ms) {
      close(it->fd);
      it = pending.erase(it);
    } else {
      ++it;
    }
}

bool wakeups_pending() noexcept { return !pending.empty(); }

}  // namespace proxyproto::run
