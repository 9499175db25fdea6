// An open-addressing table with a probe window of `window` slots, under one
// spin lock (every operation is a few comparisons and copies, never a
// system call). Time is CLOCK_MONOTONIC_COARSE, read through the vDSO: no
// system call per datagram either.
#include "datagram/reply_map.h"

#include <netinet/in.h>
#include <pthread.h>
#include <sys/mman.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <ctime>

#include "runtime/log.h"
#include "settings/server_settings.h"

namespace proxyproto::reply_map {

namespace {

struct client_key {
  uint8_t family;  // 4 or 6; 0 = empty slot
  uint8_t unused;
  uint16_t port;   // network order, as in the sockaddr
  uint8_t address[16];
  uint32_t padding;  // zero: the key is hashed as three 64-bit words
};
static_assert(sizeof(client_key) == 24);

struct slot {
  client_key key;
  uint32_t last_seen;  // seconds, for the lifetime
  uint32_t recency;    // the map's counter at the last datagram: the
                       // least recent of a full window is replaced
  socklen_t proxy_len;
  sockaddr_in6 proxy;  // or a sockaddr_in in its first bytes
};

constexpr size_t window = 8;

constinit slot *slots = nullptr;
constinit size_t mask = 0;  // capacity - 1
constinit uint32_t lifetime = 0;
constinit pthread_once_t init_once = PTHREAD_ONCE_INIT;
constinit std::atomic_flag lock = ATOMIC_FLAG_INIT;
constinit uint32_t counter = 0;  // under the lock

void release_after_fork() noexcept { lock.clear(std::memory_order_relaxed); }

void init() noexcept {
  const server_config &config = server_settings();
  lifetime = config.udp_reply_seconds;
  if (config.udp_reply_entries == 0 || lifetime == 0) return;
  size_t capacity = window;
  while (capacity < config.udp_reply_entries) capacity <<= 1;
  void *map = mmap(nullptr, capacity * sizeof(slot), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) {
    PP_DEBUG("no memory for the UDP reply map: replies go where they are sent");
    return;
  }
  pthread_atfork(nullptr, nullptr, release_after_fork);
  mask = capacity - 1;
  slots = static_cast<slot *>(map);
}

bool ready() noexcept {
  pthread_once(&init_once, init);
  return slots != nullptr;
}

uint32_t now() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<uint32_t>(ts.tv_sec);
}

bool key_of(const sockaddr *sa, socklen_t len, client_key *key) noexcept {
  std::memset(key, 0, sizeof *key);
  if (sa == nullptr) return false;
  if (sa->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
    const auto *sin = reinterpret_cast<const sockaddr_in *>(sa);
    key->family = 4;
    key->port = sin->sin_port;
    std::memcpy(key->address, &sin->sin_addr, 4);
    return true;
  }
  if (sa->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    const auto *sin6 = reinterpret_cast<const sockaddr_in6 *>(sa);
    key->family = 6;
    key->port = sin6->sin6_port;
    std::memcpy(key->address, &sin6->sin6_addr, 16);
    return true;
  }
  return false;
}

// Three multiply-and-fold rounds over the key's 24 bytes: a few
// instructions, and every bit of the address and port reaches the index.
size_t hash(const client_key &key) noexcept {
  uint64_t words[3];
  std::memcpy(words, &key, sizeof words);
  uint64_t h = 0x9E3779B97F4A7C15ull;
  for (uint64_t w : words) {
    h = (h ^ w) * 0xFF51AFD7ED558CCDull;
    h ^= h >> 32;
  }
  return static_cast<size_t>(h);
}

bool alive(const slot &s, uint32_t t) noexcept {
  return s.key.family != 0 && t - s.last_seen < lifetime;
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

void remember(const sockaddr *client, socklen_t client_len,
              const sockaddr_storage &proxy, socklen_t proxy_len) noexcept {
  client_key key;
  if (!key_of(client, client_len, &key) || proxy_len > sizeof(sockaddr_in6) ||
      !ready())
    return;
  const uint32_t t = now();
  const size_t start = hash(key);
  locked guard;
  slot *chosen = nullptr;
  for (size_t i = 0; i < window; ++i) {
    slot &s = slots[(start + i) & mask];
    if (s.key.family != 0 && std::memcmp(&s.key, &key, sizeof key) == 0) {
      chosen = &s;
      break;
    }
    // Otherwise the first free or expired slot, else the least recent.
    if (chosen == nullptr || (alive(*chosen, t) && !alive(s, t)) ||
        (alive(*chosen, t) && alive(s, t) &&
         counter - s.recency > counter - chosen->recency))
      chosen = &s;
  }
  chosen->key = key;
  chosen->last_seen = t;
  chosen->recency = ++counter;
  chosen->proxy_len = proxy_len;
  std::memcpy(&chosen->proxy, &proxy, proxy_len);
}

bool lookup(const sockaddr *client, socklen_t client_len,
            sockaddr_storage *proxy, socklen_t *proxy_len) noexcept {
  client_key key;
  if (!key_of(client, client_len, &key) || !ready()) return false;
  const uint32_t t = now();
  const size_t start = hash(key);
  locked guard;
  for (size_t i = 0; i < window; ++i) {
    const slot &s = slots[(start + i) & mask];
    if (alive(s, t) && std::memcmp(&s.key, &key, sizeof key) == 0) {
      std::memcpy(proxy, &s.proxy, s.proxy_len);
      *proxy_len = s.proxy_len;
      return true;
    }
  }
  return false;
}

}  // namespace proxyproto::reply_map
