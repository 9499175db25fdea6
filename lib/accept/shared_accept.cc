// One non-blocking accept on a shared blocking listener (see shared_accept.h).
#include "accept/shared_accept.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <atomic>
#include <cstddef>

#include "runtime/real_calls.h"
#include "runtime/shared_atomics.h"

namespace proxyproto::shared_accept {

namespace {

// Lock-free atomics work across processes in shared memory. A fresh page
// is zero-filled: everything starts unlocked, at 0, with no listener.
constexpr size_t listener_slots = 32;
struct listener_slot {
  uint64_t inode;   // 0: free; the socket's own (numbers differ or repeat
                    // between processes, SO_REUSEPORT groups among them)
  int count;        // calls in progress on it
  int original;     // its flags before the first of them
};
struct shared_page : detail::counters {
  listener_slot slots[listener_slots];
};

// A spin lock held for two fcntl() calls at most. A process killed while
// holding it must not stop the others: after a bounded wait it is broken.
void lock(shared_page *p) noexcept {
  for (int i = 0; i < 10000; ++i) {
    uint32_t expected = 0;
    if (p->lock.compare_exchange_weak(expected, 1, std::memory_order_acquire)) return;
    sched_yield();
  }
  p->lock.store(1, std::memory_order_seq_cst);
}

void unlock(shared_page *p) noexcept { p->lock.store(0, std::memory_order_release); }

listener_slot *slot_for(shared_page *p, uint64_t inode) noexcept {
  listener_slot *free_slot = nullptr;
  for (listener_slot &s : p->slots) {
    if (s.inode == inode) return &s;
    if (s.inode == 0 && free_slot == nullptr) free_slot = &s;
  }
  return free_slot;
}

shared_page *shared() noexcept {
  return static_cast<shared_page *>(detail::page.load(std::memory_order_acquire));
}

}  // namespace

constinit std::atomic<detail::counters *> detail::page{nullptr};

void prepare() noexcept {
  if (detail::page.load(std::memory_order_acquire) != nullptr) return;
  // Without a page, accept_once() takes the risk of blocking: better than
  // a lock that only this process sees.
  if (!atomics_shareable<uint32_t, detail::activity_word>()) return;
  const int saved_errno = errno;
  void *mem = mmap(nullptr, sizeof(shared_page), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  errno = saved_errno;
  if (mem == MAP_FAILED) return;
  detail::counters *expected = nullptr;
  // A fresh mapping is zero-filled: the shared word starts at 0.
  if (!detail::page.compare_exchange_strong(expected, static_cast<shared_page *>(mem),
                                            std::memory_order_acq_rel))
    munmap(mem, sizeof(shared_page));
}

int accept_once(int listener, sockaddr *addr, socklen_t *addrlen, int flags) noexcept {
  prepare();
  shared_page *p = shared();
  if (p == nullptr) {
    // Alone: only this process tree's own calls could be disturbed, and
    // there is no way to tell them. Take the risk of blocking instead.
    return real::accept4(listener, addr, addrlen, flags);
  }
  // The first call in progress on this listener makes it non-blocking, the
  // last one puts its flags back; concurrent ones, in any process of the
  // tree, find it so.
  struct stat st;
  if (real::fstat(listener, &st) != 0 || st.st_ino == 0)
    return real::accept4(listener, addr, addrlen, flags);
  lock(p);
  listener_slot *s = slot_for(p, st.st_ino);
  if (s == nullptr) {
    unlock(p);
    return real::accept4(listener, addr, addrlen, flags);
  }
  // Counted before the flags change, uncounted after they are restored: a
  // sibling whose accept() meets the non-blocking moment always sees it in
  // eagain_was_ours(), whichever side of its snapshot the change fell.
  p->activity.fetch_add(detail::one_begun | 1, std::memory_order_acq_rel);
  if (s->count == 0) {
    s->inode = st.st_ino;
    s->original = fcntl(listener, F_GETFL);
    if (s->original >= 0 && !(s->original & O_NONBLOCK))
      fcntl(listener, F_SETFL, s->original | O_NONBLOCK);
  }
  ++s->count;
  unlock(p);

  const int fd = real::accept4(listener, addr, addrlen, flags);
  const int saved_errno = errno;

  lock(p);
  if (--s->count == 0) {
    if (s->original >= 0 && !(s->original & O_NONBLOCK))
      fcntl(listener, F_SETFL, s->original);
    s->inode = 0;
  }
  p->activity.fetch_sub(1, std::memory_order_acq_rel);
  unlock(p);
  errno = saved_errno;
  return fd;
}

}  // namespace proxyproto::shared_accept
