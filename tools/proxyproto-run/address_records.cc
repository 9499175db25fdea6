#include "address_records.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "runtime/log.h"

#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wcast-align"

namespace proxyproto::run {

namespace {

std::unordered_map<uint64_t, claimed_addresses> claims;
size_t size_at_last_sweep = 0;
constexpr size_t min_sweep_size = 1024;

// Adds to `alive` the cookie of every TCP socket of `family` (all states):
// false when the kernel could not be asked.
bool dump_cookies(int family, std::unordered_set<uint64_t> *alive) noexcept {
  const int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (nl < 0) return false;
  struct {
    nlmsghdr nlh;
    inet_diag_req_v2 req;
  } request{};
  request.nlh.nlmsg_len = sizeof request;
  request.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  request.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.req.sdiag_family = static_cast<uint8_t>(family);
  request.req.sdiag_protocol = IPPROTO_TCP;
  request.req.idiag_states = ~0u;
  bool ok = send(nl, &request, sizeof request, 0) == static_cast<ssize_t>(sizeof request);
  alignas(nlmsghdr) static char buffer[32768];
  while (ok) {
    const ssize_t n = recv(nl, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { ok = false; break; }
    bool done = false;
    size_t left = static_cast<size_t>(n);
    for (auto *h = reinterpret_cast<nlmsghdr *>(buffer); NLMSG_OK(h, left);
         h = NLMSG_NEXT(h, left)) {
      if (h->nlmsg_type == NLMSG_DONE) { done = true; break; }
      if (h->nlmsg_type == NLMSG_ERROR) { ok = false; break; }
      const auto *msg = static_cast<const inet_diag_msg *>(NLMSG_DATA(h));
      uint64_t cookie = 0;
      cookie = static_cast<uint64_t>(msg->id.idiag_cookie[0]) |
               (static_cast<uint64_t>(msg->id.idiag_cookie[1]) << 32);
      alive->insert(cookie);
    }
    if (done) break;
  }
  close(nl);
  return ok;
}

}  // namespace

uint64_t socket_cookie(int fd) noexcept {
  uint64_t cookie = 0;
  socklen_t len = sizeof cookie;
  if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) != 0) return 0;
  return cookie;
}

void record_claim(uint64_t cookie, const claimed_addresses &claim) noexcept {
  if (cookie == 0) return;
  claims[cookie] = claim;
}

const claimed_addresses *find_claim(uint64_t cookie) noexcept {
  auto it = claims.find(cookie);
  return it == claims.end() ? nullptr : &it->second;
}

bool any_claims() noexcept { return !claims.empty(); }

void forget_claim(uint64_t cookie) noexcept { claims.erase(cookie); }

size_t claim_count() noexcept { return claims.size(); }

void sweep_claims_if_due() noexcept {
  if (claims.size() < min_sweep_size || claims.size() < 2 * size_at_last_sweep) return;
  std::unordered_set<uint64_t> alive;
  alive.reserve(claims.size() * 2);
  if (!dump_cookies(AF_INET, &alive) || !dump_cookies(AF_INET6, &alive)) {
    PP_DEBUG("sock_diag unavailable: %zu records kept", claims.size());
    size_at_last_sweep = claims.size();
    return;
  }
  const size_t before = claims.size();
  for (auto it = claims.begin(); it != claims.end();) {
    // Only TCP sockets are looked for; the records of other sockets
    // (AF_UNIX connections, trusted with `allow = unix`) stay.
    const int family = it->second.peer.ss_family;
    if ((family == AF_INET || family == AF_INET6) && alive.count(it->first) == 0)
      it = claims.erase(it);
    else
      ++it;
  }
  size_at_last_sweep = claims.size();
  PP_DEBUG("records swept: %zu of %zu kept", claims.size(), before);
}

}  // namespace proxyproto::run
