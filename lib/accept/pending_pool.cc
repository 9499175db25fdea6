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
// parent, whose accept() will settle them (closing a copy leaves the
// parent's connection open and watched). No lock is held across fork().
#include "accept/pending_pool.h"

#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

#include "accept/listener_readiness.h"
#include "records/any_record.h"
#include "runtime/mutex_guard.h"


namespace proxyproto::pending {

namespace {

struct slot {
  connection conn;
  bool used = false;
  uint32_t generation = 0;
};

constinit pthread_mutex_t pool_mutex = PTHREAD_MUTEX_INITIALIZER;
constinit pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
constinit slot slots[pool_capacity];
constinit std::atomic<size_t> parked_total{0};
constinit uint64_t next_order = 1;  // under pool_mutex

void empty_slot(slot &s) noexcept {
  s.used = false;
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
      ++s.generation;
    }
  }
  parked_total.store(0, std::memory_order_relaxed);
  pthread_mutex_init(&pool_mutex, nullptr);
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
  mutex_guard lock(pool_mutex);
  size_t n = 0;
  for (const slot &s : slots)
    if (s.used && s.conn.listener == listener) ++n;
  return n;
}

park_outcome park(connection *c, connection *evicted) noexcept {
  // close() must hear of parked connections (records/any_record.h).
  records::note_recording(records::other_kinds);
  pthread_once(&atfork_once, register_atfork);
  mutex_guard lock(pool_mutex);
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
    readiness::unwatch(oldest->conn.listener, oldest->conn.fd);
    *evicted = oldest->conn;
    empty_slot(*oldest);
    free_slot = oldest;
    outcome = park_outcome::parked_evicting;
  }
  const ticket t{static_cast<uint32_t>(free_slot - slots), free_slot->generation};
  if (!readiness::watch(c->listener, c->fd, key_of(t), c->stalled)) {
    return outcome == park_outcome::parked ? park_outcome::no_room
                                           : park_outcome::no_room_evicting;
  }
  if (c->order == 0) c->order = next_order++;
  c->parked_ms = now_ms();
  free_slot->conn = *c;
  free_slot->used = true;
  parked_total.fetch_add(1, std::memory_order_relaxed);
  return outcome;
}

uint64_t key_of(ticket t) noexcept {
  return (static_cast<uint64_t>(t.generation) << 32) | t.index;
}

ticket ticket_of(uint64_t key) noexcept {
  return ticket{static_cast<uint32_t>(key), static_cast<uint32_t>(key >> 32)};
}

size_t due(int listener, int64_t now, ticket *tickets, size_t capacity,
           int64_t *next) noexcept {
  *next = -1;
  if (!anything_parked()) return 0;
  mutex_guard lock(pool_mutex);
  size_t n = 0;
  for (uint32_t i = 0; i < pool_capacity; ++i) {
    const slot &s = slots[i];
    if (!s.used || s.conn.listener != listener) continue;
    int64_t when = s.conn.deadline_ms;
    if (s.conn.stalled && s.conn.parked_ms + stall_recheck_ms < when)
      when = s.conn.parked_ms + stall_recheck_ms;
    if (when <= now && n < capacity) {
      tickets[n++] = ticket{i, s.generation};
      continue;
    }
    if (*next < 0 || when < *next) *next = when;
  }
  return n;
}

bool take(ticket t, connection *out) noexcept {
  mutex_guard lock(pool_mutex);
  slot *s = slot_of(t);
  if (s == nullptr) return false;
  readiness::unwatch(s->conn.listener, s->conn.fd);
  *out = s->conn;
  empty_slot(*s);
  return true;
}

void forget_descriptors(unsigned low, unsigned high) noexcept {
  if (!anything_parked()) return;
  mutex_guard lock(pool_mutex);
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

}  // namespace proxyproto::pending
