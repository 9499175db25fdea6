// The pool of parked connections (see pending_pool.h).
//
// Slots: chunks of chunk_slots, each mapped (zero-filled) the first time
// the free list is empty, never unmapped: memory follows the peak of parked
// connections, not their number over time. A slot is named by its number
// (chunk * chunk_slots + position); the links between slots hold number + 1,
// so that zero, the state of a fresh chunk, means "none". A slot's
// generation changes whenever it is freed, so a ticket taken by one thread
// cannot reach a slot that has meanwhile been given to another connection.
//
// Each listener with parked connections has a queue: two intrusive lists of
// its slots, both in the order their times come due.
//  - The deadline list. Every connection of a process gets the same
//    timeout, so parking order is deadline order: a new one goes at the
//    tail (or a step or two before it, when threads computed their deadlines
//    in another order than they took the lock), and a connection looked at
//    again keeps its place, since a claim leaves it in the list. The due
//    scan looks at the head; a timer wheel or a heap would buy nothing here
//    and cost a log or a sweep.
//  - The stall list: stalled connections, each looked at again
//    stall_recheck_ms after its last look; that delay is the same for all,
//    so again order of insertion is order of due times.
// Claimed connections stay in both lists; the scans step over them (at
// most one per thread inside accept()).
//
// Two indexes make the other operations O(1): descriptor number -> slot
// (close() of a parked descriptor, and close_range(), which walks the index
// over its range, never past the highest descriptor ever parked), and
// listener number -> queue (parked_for(), without a lock).
//
// fork(): the mutex is taken before fork() and released after it in the
// parent; the child starts with a fresh mutex and an empty pool, and closes
// its copies of the parked descriptors: those connections belong to the
// parent, whose accept() will settle them (closing a copy leaves the
// parent's connection open and watched). No lock is held across fork().
#include "accept/pending_pool.h"

#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

#include "accept/listener_readiness.h"
#include "records/any_record.h"
#include "records/descriptor_table.h"
#include "runtime/mutex_guard.h"

namespace proxyproto::pending {

namespace {

// A link: a slot's number + 1, or none.
using link = uint32_t;
constexpr link none = 0;

struct slot {
  connection conn;
  uint32_t generation;
  link prev, next;              // the deadline list (next: also the free list)
  link stall_prev, stall_next;  // the stall list
  int64_t recheck_ms;           // in the stall list: when it is due
  uint8_t queue;                // its listener's queue + 1
  bool used;
  bool claimed;                 // a thread is looking at it
  bool in_stall_list;
  bool forgotten;               // left the pool while claimed: the claimer
  bool close_when_released;     // ends it, closing it if this is set
};

struct listener_queue {
  int listener;
  bool in_use;
  std::atomic<uint32_t> count;  // parked, claimed ones included
  link head, tail;              // the deadline list
  link stall_head, stall_tail;  // the stall list
};

struct parked_ref {
  std::atomic<link> slot_link;
};
struct listener_ref {
  std::atomic<uint8_t> queue;  // + 1
};

constinit pthread_mutex_t pool_mutex = PTHREAD_MUTEX_INITIALIZER;
constinit pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
constinit slot *chunks[max_chunks] = {};
constinit size_t chunk_count = 0;  // under pool_mutex, like all below
constinit link free_head = none;
constinit listener_queue queues[max_listeners] = {};
constinit std::atomic<size_t> parked_total{0};
constinit std::atomic<int> highest_fd{-1};
constinit descriptor_table<parked_ref> parked_refs;
constinit descriptor_table<listener_ref> listener_refs;

slot &at(link l) noexcept {
  const uint32_t n = l - 1;
  return chunks[n / chunk_slots][n % chunk_slots];
}

link link_of(uint32_t index) noexcept { return index + 1; }

// A free slot, mapping a chunk when none is left; none when the ceiling or
// memory is reached.
link allocate_locked() noexcept {
  if (free_head == none) {
    if (chunk_count >= max_chunks) return none;
    void *mem = mmap(nullptr, sizeof(slot) * chunk_slots, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return none;
    slot *chunk = static_cast<slot *>(mem);
    const uint32_t first = static_cast<uint32_t>(chunk_count * chunk_slots);
    chunks[chunk_count++] = chunk;
    // Threaded in order, the lowest first.
    for (size_t i = chunk_slots; i-- > 0;) {
      chunk[i].next = free_head;
      free_head = link_of(first + static_cast<uint32_t>(i));
    }
  }
  const link l = free_head;
  free_head = at(l).next;
  return l;
}

void free_locked(link l) noexcept {
  slot &s = at(l);
  s.used = false;
  s.claimed = false;
  s.forgotten = false;
  s.close_when_released = false;
  s.in_stall_list = false;
  ++s.generation;
  s.prev = s.stall_prev = s.stall_next = none;
  s.next = free_head;
  free_head = l;
}

listener_queue *queue_of(const slot &s) noexcept {
  return s.queue == 0 ? nullptr : &queues[s.queue - 1];
}

listener_queue *find_queue_locked(int listener) noexcept {
  const listener_ref *r = listener_refs.find(listener);
  const uint8_t q = r == nullptr ? 0 : r->queue.load(std::memory_order_relaxed);
  return q == 0 ? nullptr : &queues[q - 1];
}

listener_queue *queue_for_locked(int listener, listener_ref *ref) noexcept {
  if (listener_queue *q = find_queue_locked(listener)) return q;
  for (size_t i = 0; i < max_listeners; ++i) {
    listener_queue &q = queues[i];
    if (q.in_use) continue;
    q.in_use = true;
    q.listener = listener;
    q.count.store(0, std::memory_order_relaxed);
    q.head = q.tail = q.stall_head = q.stall_tail = none;
    ref->queue.store(static_cast<uint8_t>(i + 1), std::memory_order_relaxed);
    return &q;
  }
  return nullptr;
}

// A queue with nothing parked goes back, so that listeners that come and
// go never exhaust them.
void release_queue_if_empty_locked(listener_queue &q) noexcept {
  if (q.count.load(std::memory_order_relaxed) != 0) return;
  if (listener_ref *r = listener_refs.find(q.listener))
    r->queue.store(0, std::memory_order_relaxed);
  q.in_use = false;
}

void append_to_stall_list(listener_queue &q, link l, int64_t now) noexcept {
  slot &s = at(l);
  s.recheck_ms = now + stall_recheck_ms;
  s.stall_next = none;
  s.stall_prev = q.stall_tail;
  if (q.stall_tail != none) at(q.stall_tail).stall_next = l; else q.stall_head = l;
  q.stall_tail = l;
  s.in_stall_list = true;
}

void unlink_from_stall_list(listener_queue &q, link l) noexcept {
  slot &s = at(l);
  if (!s.in_stall_list) return;
  if (s.stall_prev != none) at(s.stall_prev).stall_next = s.stall_next;
  else q.stall_head = s.stall_next;
  if (s.stall_next != none) at(s.stall_next).stall_prev = s.stall_prev;
  else q.stall_tail = s.stall_prev;
  s.stall_prev = s.stall_next = none;
  s.in_stall_list = false;
}

// In deadline order. Threads that computed their deadlines in one order and
// took the lock in another are a step or two apart; the walk back is
// bounded, and beyond it a connection goes at the tail, where it is due no
// earlier than its own deadline (the scan stops at the first not due).
constexpr int max_walk_back = 16;

void insert_in_deadline_list(listener_queue &q, link l) noexcept {
  slot &s = at(l);
  link after = q.tail;
  for (int i = 0; i < max_walk_back && after != none &&
                  at(after).conn.deadline_ms > s.conn.deadline_ms;
       ++i)
    after = at(after).prev;
  if (after != none && at(after).conn.deadline_ms > s.conn.deadline_ms) after = q.tail;
  s.prev = after;
  s.next = after == none ? q.head : at(after).next;
  if (s.prev != none) at(s.prev).next = l; else q.head = l;
  if (s.next != none) at(s.next).prev = l; else q.tail = l;
}

void unlink_from_deadline_list(listener_queue &q, link l) noexcept {
  slot &s = at(l);
  if (s.prev != none) at(s.prev).next = s.next; else q.head = s.next;
  if (s.next != none) at(s.next).prev = s.prev; else q.tail = s.prev;
  s.prev = s.next = none;
}

// The index no longer names slot l for fd (and close() no longer looks
// fd up), unless it names another slot by now.
void clear_index(int fd, link l) noexcept {
  if (parked_ref *r = parked_refs.find(fd)) {
    link expected = l;
    if (r->slot_link.compare_exchange_strong(expected, none, std::memory_order_relaxed))
      readiness::note_parked(fd, false);
  }
}

// Out of its queue's lists and the index: no longer parked.
void leave_queue_locked(link l) noexcept {
  slot &s = at(l);
  if (listener_queue *q = queue_of(s)) {
    unlink_from_stall_list(*q, l);
    unlink_from_deadline_list(*q, l);
    q->count.fetch_sub(1, std::memory_order_relaxed);
    release_queue_if_empty_locked(*q);
  }
  s.queue = 0;
  clear_index(s.conn.fd, l);
  parked_total.fetch_sub(1, std::memory_order_relaxed);
}

// Its descriptor was closed by someone else (fd_closed) or its listener
// was, and it is to be closed.
void forget_locked(link l, bool fd_closed) noexcept {
  slot &s = at(l);
  // Its number is about to be closed (close() and close_range() come here
  // first), which would drop the watch, unless the descriptor lives on
  // elsewhere; the watch must not outlive the parking either way.
  if (fd_closed) readiness::unwatch(s.conn.listener, s.conn.fd);
  leave_queue_locked(l);
  if (s.claimed) {
    // Its claimer is looking at it: it ends the claim and the slot.
    s.forgotten = true;
    s.close_when_released = !fd_closed;
    return;
  }
  if (!fd_closed) syscall(SYS_close, s.conn.fd);
  free_locked(l);
}

slot *claimable(ticket t) noexcept {
  const size_t n = t.index;
  if (n >= chunk_count * chunk_slots) return nullptr;
  slot &s = at(link_of(t.index));
  if (!s.used || s.forgotten || s.generation != t.generation) return nullptr;
  return &s;
}

// The first unclaimed slot from `l` on, along the deadline or stall list.
link first_unclaimed(link l, bool stall) noexcept {
  while (l != none && at(l).claimed) l = stall ? at(l).stall_next : at(l).next;
  return l;
}

// Ends a claim on a forgotten slot.
claim_end end_forgotten_locked(link l) noexcept {
  slot &s = at(l);
  if (s.close_when_released) syscall(SYS_close, s.conn.fd);
  free_locked(l);
  return claim_end::gone;
}

void before_fork() noexcept { pthread_mutex_lock(&pool_mutex); }
void after_fork_parent() noexcept { pthread_mutex_unlock(&pool_mutex); }

// Every slot ever mapped is walked: a fork is rare, and a slot claimed by
// a thread of the parent (which the child does not have) is in no list.
void after_fork_child() noexcept {
  free_head = none;
  for (size_t c = chunk_count; c-- > 0;) {
    for (size_t i = chunk_slots; i-- > 0;) {
      slot &s = chunks[c][i];
      const link l = link_of(static_cast<uint32_t>(c * chunk_slots + i));
      if (s.used) {
        if (!s.forgotten || s.close_when_released) syscall(SYS_close, s.conn.fd);
        if (!s.forgotten) clear_index(s.conn.fd, l);
        s.used = false;
        ++s.generation;
      }
      s.claimed = s.forgotten = s.close_when_released = s.in_stall_list = false;
      s.queue = 0;
      s.prev = s.stall_prev = s.stall_next = none;
      s.next = free_head;
      free_head = l;
    }
  }
  for (listener_queue &q : queues) {
    if (q.in_use)
      if (listener_ref *r = listener_refs.find(q.listener))
        r->queue.store(0, std::memory_order_relaxed);
    q.in_use = false;
    q.count.store(0, std::memory_order_relaxed);
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
  const listener_ref *r = listener_refs.find(listener);
  const uint8_t q = r == nullptr ? 0 : r->queue.load(std::memory_order_relaxed);
  return q == 0 ? 0 : queues[q - 1].count.load(std::memory_order_relaxed);
}

park_outcome park(const connection &c) noexcept {
  // close() must hear of parked connections (records/any_record.h).
  records::note_recording(records::parked_kind);
  pthread_once(&atfork_once, register_atfork);
  // The index entries first, outside the lock: they may map a page.
  parked_ref *ref = parked_refs.find_or_map(c.fd);
  listener_ref *lref = listener_refs.find_or_map(c.listener);
  if (ref == nullptr || lref == nullptr) return park_outcome::no_room;
  mutex_guard lock(pool_mutex);
  listener_queue *q = queue_for_locked(c.listener, lref);
  if (q == nullptr) return park_outcome::no_room;
  const link l = allocate_locked();
  if (l == none) {
    release_queue_if_empty_locked(*q);
    return park_outcome::no_room;
  }
  slot &s = at(l);
  const ticket t{l - 1, s.generation};
  if (!readiness::watch(c.listener, c.fd, key_of(t), c.stalled)) {
    free_locked(l);
    release_queue_if_empty_locked(*q);
    return park_outcome::no_room;
  }
  s.conn = c;
  s.used = true;
  s.claimed = false;
  s.queue = static_cast<uint8_t>(q - queues + 1);
  insert_in_deadline_list(*q, l);
  if (c.stalled) append_to_stall_list(*q, l, now_ms());
  q->count.fetch_add(1, std::memory_order_relaxed);
  ref->slot_link.store(l, std::memory_order_relaxed);
  readiness::note_parked(c.fd, true);
  int high = highest_fd.load(std::memory_order_relaxed);
  while (c.fd > high &&
         !highest_fd.compare_exchange_weak(high, c.fd, std::memory_order_relaxed)) {
  }
  parked_total.fetch_add(1, std::memory_order_relaxed);
  return park_outcome::parked;
}

uint64_t key_of(ticket t) noexcept {
  return (static_cast<uint64_t>(t.generation) << 32) | t.index;
}

ticket ticket_of(uint64_t key) noexcept {
  return ticket{static_cast<uint32_t>(key), static_cast<uint32_t>(key >> 32)};
}

bool claim(ticket t, connection *out) noexcept {
  mutex_guard lock(pool_mutex);
  slot *s = claimable(t);
  if (s == nullptr || s->claimed) return false;
  s->claimed = true;
  *out = s->conn;
  return true;
}

bool claim_due(int listener, int64_t now, ticket *t, connection *out) noexcept {
  if (!anything_parked()) return false;
  mutex_guard lock(pool_mutex);
  listener_queue *q = find_queue_locked(listener);
  if (q == nullptr) return false;
  link l = first_unclaimed(q->head, false);
  if (l == none || at(l).conn.deadline_ms > now) {
    l = first_unclaimed(q->stall_head, true);
    if (l != none && at(l).recheck_ms > now) l = none;
  }
  if (l == none) return false;
  slot &s = at(l);
  s.claimed = true;
  *t = ticket{l - 1, s.generation};
  *out = s.conn;
  return true;
}

int64_t next_due(int listener) noexcept {
  if (!anything_parked()) return -1;
  mutex_guard lock(pool_mutex);
  const listener_queue *q = find_queue_locked(listener);
  if (q == nullptr) return -1;
  int64_t next = -1;
  const link d = first_unclaimed(q->head, false);
  if (d != none) next = at(d).conn.deadline_ms;
  const link r = first_unclaimed(q->stall_head, true);
  if (r != none && (next < 0 || at(r).recheck_ms < next)) next = at(r).recheck_ms;
  return next;
}

claim_end claimed_waits(ticket t, const connection &c) noexcept {
  mutex_guard lock(pool_mutex);
  if (t.index >= chunk_count * chunk_slots) return claim_end::gone;
  const link l = link_of(t.index);
  slot &s = at(l);
  if (!s.used || s.generation != t.generation) return claim_end::gone;
  if (s.forgotten) return end_forgotten_locked(l);
  s.conn.seen = c.seen;
  s.conn.stalled = c.stalled;
  s.conn.saved_low_water = c.saved_low_water;
  listener_queue *q = queue_of(s);
  if (q != nullptr) {
    unlink_from_stall_list(*q, l);
    if (c.stalled) append_to_stall_list(*q, l, now_ms());
  }
  s.claimed = false;
  // Armed again (a report while it was claimed disarmed it). Should that
  // fail, its deadline still stands: the timer settles it then.
  readiness::rewatch(s.conn.listener, s.conn.fd, key_of(t), c.stalled);
  return claim_end::kept;
}

claim_end claimed_settled(ticket t) noexcept {
  mutex_guard lock(pool_mutex);
  if (t.index >= chunk_count * chunk_slots) return claim_end::gone;
  const link l = link_of(t.index);
  slot &s = at(l);
  if (!s.used || s.generation != t.generation) return claim_end::gone;
  if (s.forgotten) return end_forgotten_locked(l);
  readiness::unwatch(s.conn.listener, s.conn.fd);
  leave_queue_locked(l);
  free_locked(l);
  return claim_end::settled;
}

void forget_parked_descriptor(int fd) noexcept {
  const parked_ref *r = parked_refs.find(fd);
  if (r == nullptr || r->slot_link.load(std::memory_order_relaxed) == none) return;
  mutex_guard lock(pool_mutex);
  const link l = r->slot_link.load(std::memory_order_relaxed);
  // The index and the slots change together under the lock; a slot that is
  // not this descriptor's would be a defect, never a reason to close it.
  if (l == none || !at(l).used || at(l).conn.fd != fd) return;
  forget_locked(l, true);
}

void forget_descriptors(unsigned low, unsigned high) noexcept {
  if (!anything_parked()) return;
  mutex_guard lock(pool_mutex);
  // Parked descriptors among them first: closed by the caller, not here.
  const int top = highest_fd.load(std::memory_order_relaxed);
  if (top >= 0 && low <= static_cast<unsigned>(top)) {
    const unsigned last = high < static_cast<unsigned>(top) ? high : static_cast<unsigned>(top);
    parked_refs.for_range(low, last, [](int fd, parked_ref &r) {
      const link l = r.slot_link.load(std::memory_order_relaxed);
      if (l != none && at(l).used && at(l).conn.fd == fd) forget_locked(l, true);
    });
  }
  // A listener among them: its other parked connections go with it.
  for (listener_queue &q : queues) {
    if (!q.in_use || q.listener < 0) continue;
    const unsigned listener = static_cast<unsigned>(q.listener);
    if (listener < low || listener > high) continue;
    for (link l = q.head; l != none && q.in_use;) {
      const link next = at(l).next;
      forget_locked(l, false);
      l = next;
    }
  }
}

size_t bytes_per_parked() noexcept { return sizeof(slot) + sizeof(parked_ref); }

}  // namespace proxyproto::pending
