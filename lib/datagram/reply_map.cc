// An open-addressing table with a probe window of `window` slots, under one
// spin lock (every operation is a few comparisons and copies, never a
// system call). Time is CLOCK_MONOTONIC_COARSE in milliseconds, read
// through the vDSO: no system call per datagram either, and a lifetime of
// one second means one second, not "until the next second begins".
#include "datagram/reply_map.h"

#include <netinet/in.h>
#include <pthread.h>
#include <sys/mman.h>

#include <atomic>
#include <cstddef>
#include <cstring>
#include <ctime>

#include "runtime/log.h"
#include "settings/server_settings.h"

namespace proxyproto::reply_map {

namespace {

// The client as three 64-bit words: compared and hashed without memcmp.
// Word 0: family (4 or 6; 0 = empty slot), port (network order, as in the
// sockaddr) and the first four address bytes; words 1 and 2: the rest of
// an IPv6 address (zero for IPv4).
struct client_key {
  uint64_t w[3];
};

bool operator==(const client_key &a, const client_key &b) noexcept {
  return ((a.w[0] ^ b.w[0]) | (a.w[1] ^ b.w[1]) | (a.w[2] ^ b.w[2])) == 0;
}

struct slot {
  client_key key;
  uint64_t last_seen;  // ms, for the lifetime
  uint32_t recency;    // the map's counter at the last datagram: the
                       // least recent of a full window is replaced
  sockaddr_in6 proxy;  // or a sockaddr_in in its first bytes; the family
                       // says which
};
static_assert(sizeof(slot) == 64, "one cache line a client");

constexpr size_t window = 8;

enum : int { unknown = 0, on = 1, off = 2 };

constinit slot *slots = nullptr;
constinit size_t mask = 0;  // capacity - 1
constinit uint64_t lifetime = 0;  // ms
constinit std::atomic<int> status{unknown};
constinit pthread_once_t init_once = PTHREAD_ONCE_INIT;
constinit std::atomic_flag lock = ATOMIC_FLAG_INIT;
constinit uint32_t counter = 0;  // under the lock

void release_after_fork() noexcept { lock.clear(std::memory_order_relaxed); }

void init() noexcept {
  const server_config &config = server_settings();
  lifetime = uint64_t{config.udp_reply_seconds} * 1000;
  if (config.udp_reply_entries == 0 || lifetime == 0) {
    status.store(off, std::memory_order_release);
    return;
  }
  size_t capacity = window;
  while (capacity < config.udp_reply_entries) capacity <<= 1;
  void *map = mmap(nullptr, capacity * sizeof(slot), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) {
    PP_DEBUG("no memory for the UDP reply map: replies go where they are sent");
    status.store(off, std::memory_order_release);
    return;
  }
  pthread_atfork(nullptr, nullptr, release_after_fork);
  mask = capacity - 1;
  slots = static_cast<slot *>(map);
  status.store(on, std::memory_order_release);
}

// One load once the map is set up (pthread_once is a call each time).
bool ready() noexcept {
  int s = status.load(std::memory_order_acquire);
  if (s == unknown) [[unlikely]] {
    pthread_once(&init_once, init);
    s = status.load(std::memory_order_acquire);
  }
  return s == on;
}

// The fields are copied out byte-wise, not read through a sockaddr_in
// pointer: `sa` is only as aligned as a sockaddr (2 bytes), and targets
// that trap on unaligned loads (armel, and -Wcast-align there) would see
// a 4-byte read of a 2-byte-aligned address.
template <typename T>
T field_at(const sockaddr *sa, size_t offset) noexcept {
  T v;
  std::memcpy(&v, reinterpret_cast<const unsigned char *>(sa) + offset, sizeof v);
  return v;
}

bool key_of(const sockaddr *sa, socklen_t len, client_key *key) noexcept {
  if (sa == nullptr) return false;
  if (sa->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
    const auto port = field_at<in_port_t>(sa, offsetof(sockaddr_in, sin_port));
    const auto address = field_at<uint32_t>(sa, offsetof(sockaddr_in, sin_addr));
    key->w[0] = 4 | uint64_t{port} << 16 | uint64_t{address} << 32;
    key->w[1] = 0;
    key->w[2] = 0;
    return true;
  }
  if (sa->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    const auto port = field_at<in_port_t>(sa, offsetof(sockaddr_in6, sin6_port));
    const auto *addr = reinterpret_cast<const unsigned char *>(sa) +
                       offsetof(sockaddr_in6, sin6_addr);
    uint32_t head;
    std::memcpy(&head, addr, 4);
    key->w[0] = 6 | uint64_t{port} << 16 | uint64_t{head} << 32;
    std::memcpy(&key->w[1], addr + 4, 8);
    std::memcpy(&key->w[2], addr + 8, 4);
    std::memcpy(reinterpret_cast<uint8_t *>(&key->w[2]) + 4, addr + 12, 4);
    return true;
  }
  return false;
}

// One multiplication a word, folded: every bit of the address and port
// reaches the high half of the products, and the fold brings it to the
// index bits.
size_t hash(const client_key &key) noexcept {
  uint64_t h = key.w[0] * 0x9E3779B97F4A7C15ull ^ key.w[1] * 0xC2B2AE3D27D4EB4Full ^
               key.w[2] * 0x165667B19E3779F9ull;
  h ^= h >> 32;
  return static_cast<size_t>(h);
}

bool alive(const slot &s, uint64_t t) noexcept {
  return s.key.w[0] != 0 && t - s.last_seen < lifetime;
}

socklen_t proxy_length(const slot &s) noexcept {
  return s.proxy.sin6_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

class locked {
 public:
  locked() noexcept {
    while (lock.test_and_set(std::memory_order_acquire)) {
    }
  }
  ~locked() { lock.clear(std::memory_order_release); }
  locked(const locked &) = delete;
  locked &operator=(const locked &) = delete;
};

}  // namespace

uint64_t now_ms() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 +
         static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

size_t capacity() noexcept {
  return status.load(std::memory_order_acquire) == on ? mask + 1 : 0;
}

void remember_at(uint64_t t, const sockaddr *client, socklen_t client_len,
                 const sockaddr_storage &proxy, socklen_t proxy_len) noexcept {
  client_key key;
  // The proxy is the kernel's sender of a UDP socket: AF_INET or AF_INET6.
  const bool proxy_ok =
      (proxy.ss_family == AF_INET && proxy_len >= sizeof(sockaddr_in)) ||
      (proxy.ss_family == AF_INET6 && proxy_len >= sizeof(sockaddr_in6));
  if (!proxy_ok || !key_of(client, client_len, &key) || !ready()) return;
  const size_t start = hash(key);
  locked guard;
  slot *chosen = nullptr;
  bool chosen_alive = false;
  for (size_t i = 0; i < window; ++i) {
    slot &s = slots[(start + i) & mask];
    if (s.key == key) {
      chosen = &s;
      break;
    }
    // A slot is never emptied once used, and a client takes the first
    // slot of its window that is not alive: so the client cannot be
    // further on than an empty slot, and the empty one is as good a place
    // as any other free one.
    if (s.key.w[0] == 0) {
      if (chosen == nullptr || chosen_alive) chosen = &s;
      break;
    }
    // Otherwise the first expired slot, else the least recent.
    const bool s_alive = alive(s, t);
    if (chosen == nullptr || (chosen_alive && !s_alive) ||
        (chosen_alive && s_alive &&
         counter - s.recency > counter - chosen->recency)) {
      chosen = &s;
      chosen_alive = s_alive;
    }
  }
  chosen->key = key;
  chosen->last_seen = t;
  chosen->recency = ++counter;
  // Fixed size: sockaddr_storage holds it, and a sockaddr_in's tail is
  // never read (proxy_length()).
  std::memcpy(&chosen->proxy, &proxy, sizeof chosen->proxy);
}

bool lookup_at(uint64_t t, const sockaddr *client, socklen_t client_len,
               sockaddr_storage *proxy, socklen_t *proxy_len) noexcept {
  client_key key;
  if (!key_of(client, client_len, &key) || !ready()) return false;
  const size_t start = hash(key);
  locked guard;
  for (size_t i = 0; i < window; ++i) {
    const slot &s = slots[(start + i) & mask];
    if (s.key == key) {
      if (!alive(s, t)) return false;
      std::memcpy(proxy, &s.proxy, sizeof s.proxy);
      *proxy_len = proxy_length(s);
      return true;
    }
    if (s.key.w[0] == 0) return false;  // not further on (see remember_at)
  }
  return false;
}

}  // namespace proxyproto::reply_map
