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

// A record and when it was made, in sweeps: a sweep forgets only the
// records made before its dump began (later ones may be missing from it).
struct claim_record {
  claimed_addresses claim;
  uint64_t made_in;
  int socket_family;
};
std::unordered_map<uint64_t, claim_record> claims;
uint64_t sweeps_begun = 0;
size_t size_at_last_sweep = 0;
// At least this many records before a sweep: the dump walks the kernel's
// whole table of TCP connections, TIME_WAIT included (it skips them, but
// still walks them), so a sweep is worth doing only for many records.
constexpr size_t min_sweep_size = 8192;
// Records per socket family, so that a family without any is not dumped.
size_t inet_records = 0, inet6_records = 0;

size_t &records_of(int family) noexcept {
  static size_t others = 0;
  return family == AF_INET ? inet_records : family == AF_INET6 ? inet6_records : others;
}

// The TCP states a socket some process still holds can be in, and that
// the kernel's tables list: the dump leaves out the listeners, the
// handshakes and, above all, TIME_WAIT, of which a busy server has tens
// of thousands, none of them anyone's descriptor. (A socket closed
// without TIME_WAIT, by a reset say, leaves the tables while its
// descriptor lives: the kernel answers getpeername() on it with
// ENOTCONN whatever the record said.)
constexpr uint32_t held_states = (1u << 1) /* ESTABLISHED */ | (1u << 4) /* FIN_WAIT1 */ |
                                 (1u << 5) /* FIN_WAIT2 */ | (1u << 8) /* CLOSE_WAIT */ |
                                 (1u << 9) /* LAST_ACK */ | (1u << 11) /* CLOSING */;

// Adds to `alive` the cookie of every TCP socket of `family` in one of the
// held states: false when the kernel could not be asked.
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
  request.req.idiag_states = held_states;
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

void record_claim(uint64_t cookie, const claimed_addresses &claim, int socket_family) noexcept {
  if (cookie == 0) return;
  auto [it, fresh] = claims.try_emplace(cookie, claim_record{claim, sweeps_begun, socket_family});
  if (!fresh) {
    --records_of(it->second.socket_family);
    it->second = claim_record{claim, sweeps_begun, socket_family};
  }
  ++records_of(socket_family);
}

const claimed_addresses *find_claim(uint64_t cookie) noexcept {
  auto it = claims.find(cookie);
  return it == claims.end() ? nullptr : &it->second.claim;
}

bool any_claims() noexcept { return !claims.empty(); }

void forget_claim(uint64_t cookie) noexcept {
  auto it = claims.find(cookie);
  if (it == claims.end()) return;
  --records_of(it->second.socket_family);
  claims.erase(it);
}

size_t claim_count() noexcept { return claims.size(); }

bool claims_sweep_due() noexcept {
  return claims.size() >= min_sweep_size && claims.size() >= 2 * size_at_last_sweep;
}

live_sockets begin_claims_sweep() noexcept {
  return live_sockets{++sweeps_begun, inet_records != 0, inet6_records != 0, {}, false};
}

void list_live_sockets(live_sockets *live) noexcept {
  live->cookies.reserve(size_at_last_sweep * 2 + 1024);
  live->complete = (!live->inet || dump_cookies(AF_INET, &live->cookies)) &&
                   (!live->inet6 || dump_cookies(AF_INET6, &live->cookies));
}

void finish_claims_sweep(const live_sockets &live) noexcept {
  if (!live.complete) {
    PP_DEBUG("sock_diag unavailable: %zu records kept", claims.size());
    size_at_last_sweep = claims.size();
    return;
  }
  const size_t before = claims.size();
  for (auto it = claims.begin(); it != claims.end();) {
    // Only TCP sockets are looked for; the records of other sockets
    // (AF_UNIX connections, trusted with `allow = unix`) stay.
    const int family = it->second.socket_family;
    if ((family == AF_INET || family == AF_INET6) && it->second.made_in < live.sweep &&
        live.cookies.count(it->first) == 0) {
      --records_of(family);
      it = claims.erase(it);
    } else {
      ++it;
    }
  }
  size_at_last_sweep = claims.size();
  PP_DEBUG("records swept: %zu of %zu kept", claims.size(), before);
}

}  // namespace proxyproto::run
