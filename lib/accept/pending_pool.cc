// The pool of parked connections (see pending_pool.h).
//
// Slots are a static array, all zero while free (so it lies in .bss); a
// used slot has `used` set. A slot's generation
// changes whenever it is emptied, so a ticket taken by one thread cannot
// reach a slot that has meanwhile been given to another connection.
//
// fork(): the mutex is taken before fork() and released after it in the
// parent; the child starts with a fresh mutex and an empty pool, and closes
// its copies of the parked descriptors: those connections belong to the
// parent, whose accept() will settle them. No lock is held across fork().
#include "accept/pending_pool.h"

#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>


namespace proxyproto::pending {

namespace {

struct slot {
  connection conn;
  bool used = false;
  uint32_t generation = 0;
  int64_t announced_ms = 0;  // 0: not announced
};

constinit pthread_mutex_t pool_mutex = PTHREAD_MUTEX_INITIALIZER;
constinit pthread_cond_t parked_cond = PTHREAD_COND_INITIALIZER;
constinit pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
constinit slot slots[pool_capacity];
constinit std::atomic<size_t> parked_total{0};
constinit uint64_t next_order = 1;  // under pool_mutex

class pool_lock {
 public:
  pool_lock() noexcept { pthread_mutex_lock(&pool_mutex); }
  ~pool_lock() { pthread_mutex_unlock(&pool_mutex); }
  pool_lock(const pool_lock &) = delete;
  pool_lock &operator=(const pool_lock &) = delete;
};

void empty_slot(slot &s) noexcept {
  s.used = false;
  s.announced_ms = 0;
  ++s.generation;
  parked_total.fetch_sub(1, std::memory_order_relaxed);
}

slot *slot_of(ticket t) noexcept {
  if (t.index >= pool_capacity) return nullptr;
  slot &s = slots[t.index];
  if (!s.used || s.generation != t.generation) return nullptr;
  return &s;
}

void before_fork() noexcept { pthread_mutex_lock(&pool_mutex); }
void after_fork_parent() noexcept { pthread_mutex_unlock(&pool_mutex); }
void after_fork_child() noexcept {
  for (slot &s : slots) {
    if (s.used) {
      syscall(SYS_close, s.conn.fd);
      s.used = false;
      s.announced_ms = 0;
      ++s.generation;
    }
  }
  parked_total.store(0, std::memory_order_relaxed);
  pthread_mutex_init(&pool_mutex, nullptr);
  pthread_cond_init(&parked_cond, nullptr);
}

void register_atfork() noexcept {
  pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

}  // namespace

int64_t now_ms() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

bool anything_parked() noexcept {
  return parked_total.load(std::memory_order_relaxed) != 0;
}

size_t parked_for(int listener) noexcept {
  if (!anything_parked()) return 0;
  pool_lock lock;
  size_t n = 0;
  for (const slot &s : slots)
    if (s.used && s.conn.listener == listener) ++n;
  return n;
}

park_outcome park(connection *c, connection *evicted) noexcept {
  pthread_once(&atfork_once, register_atfork);
  pool_lock lock;
  slot *free_slot = nullptr;
  slot *oldest = nullptr;
  size_t mine = 0;
  for (slot &s : slots) {
    if (!s.used) {
      if (free_slot == nullptr) free_slot = &s;
    } else if (s.conn.listener == c->listener) {
      ++mine;
      if (oldest == nullptr || s.conn.order < oldest->conn.order) oldest = &s;
    }
  }
  park_outcome outcome = park_outcome::parked;
  if (mine >= listener_capacity || free_slot == nullptr) {
    if (oldest == nullptr) return park_outcome::no_room;
    *evicted = oldest->conn;
    empty_slot(*oldest);
    free_slot = oldest;
    outcome = park_outcome::parked_evicting;
  }
  if (c->order == 0) c->order = next_order++;
  free_slot->conn = *c;
  free_slot->used = true;
  free_slot->announced_ms = 0;
  parked_total.fetch_add(1, std::memory_order_relaxed);
  pthread_cond_signal(&parked_cond);
  return outcome;
}

size_t watch(int listener, bool skip_announced, pollfd *fds, ticket *tickets,
             size_t capacity, int64_t *earliest, bool *any_stalled) noexcept {
  *any_stalled = false;
  if (!anything_parked()) return 0;
  pool_lock lock;
  size_t n = 0;
  for (uint32_t i = 0; i < pool_capacity && n < capacity; ++i) {
    const slot &s = slots[i];
    if (!s.used) continue;
    if (listener >= 0 && s.conn.listener != listener) continue;
    if (skip_announced && s.announced_ms != 0) continue;
    fds[n] = pollfd{s.conn.fd,
                    static_cast<short>(s.conn.stalled ? POLLRDHUP
                                                      : POLLIN | POLLRDHUP),
                    0};
    tickets[n] = ticket{i, s.generation};
    if (n == 0 || s.conn.deadline_ms < *earliest) *earliest = s.conn.deadline_ms;
    if (s.conn.stalled) *any_stalled = true;
    ++n;
  }
  return n;
}

bool take(ticket t, connection *out) noexcept {
  pool_lock lock;
  slot *s = slot_of(t);
  if (s == nullptr) return false;
  *out = s->conn;
  empty_slot(*s);
  return true;
}

bool peek(ticket t, connection *out) noexcept {
  pool_lock lock;
  slot *s = slot_of(t);
  if (s == nullptr) return false;
  *out = s->conn;
  return true;
}

void record_look(ticket t, size_t seen) noexcept {
  pool_lock lock;
  slot *s = slot_of(t);
  if (s == nullptr) return;
  const bool progress = seen != s->conn.seen;
  if (progress) expect_more_than(s->conn.fd, seen, &s->conn.saved_low_water);
  s->conn.seen = seen;
  s->conn.stalled = !progress;
}

bool announce(ticket t) noexcept {
  const int64_t now = now_ms();
  pool_lock lock;
  slot *s = slot_of(t);
  if (s == nullptr) return false;
  if (s->announced_ms != 0) return false;  // readiness never goes away
  s->announced_ms = now;
  return true;
}

void forget_descriptors(unsigned low, unsigned high) noexcept {
  if (!anything_parked()) return;
  pool_lock lock;
  for (slot &s : slots) {
    if (!s.used) continue;
    const unsigned fd = static_cast<unsigned>(s.conn.fd);
    const unsigned listener = static_cast<unsigned>(s.conn.listener);
    if (fd >= low && fd <= high) {
      empty_slot(s);  // closed already by whoever closed the range
    } else if (listener >= low && listener <= high) {
      syscall(SYS_close, s.conn.fd);
      empty_slot(s);
    }
  }
}

void wait_until_parked() noexcept {
  pool_lock lock;
  while (parked_total.load(std::memory_order_relaxed) == 0)
    pthread_cond_wait(&parked_cond, &pool_mutex);
}

}  // namespace proxyproto::pending
