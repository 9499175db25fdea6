// Kept headers, one private anonymous mapping per connection.
//
// Shape: a descriptor_table (descriptor_table.h) of record pointers. Each
// record is its own
// mapping, sized to its header (one page for usual headers, at most
// 16 + 65535 bytes plus the record's head, i.e. 17 pages), and unmapped when
// the descriptor is closed or replaced: memory is bounded by the number of
// open kept connections.
//
// Reuse of a number: the record carries the socket's st_dev/st_ino, taken
// when it was stored. A descriptor closed behind the library's back (a raw
// close system call) and reused for another socket has another inode, so a
// stale record is never returned for it.
//
// Concurrency: a record is replaced and read under one of 64 mutexes chosen
// by descriptor number, so a reader never sees a record being unmapped; the
// mapping and unmapping themselves happen outside the lock. After fork() the
// child re-initialises the mutexes (another thread may have held one).
#include "records/kept_headers.h"

#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <atomic>
#include <cstring>

#include "core/proxy_header.h"
#include "records/any_record.h"
#include "records/descriptor_table.h"
#include "runtime/mutex_guard.h"
#include "runtime/real_calls.h"

namespace proxyproto::kept_headers {

namespace {

struct record {
  dev_t device;
  ino_t inode;
  size_t mapped;  // bytes of this record's mapping
  size_t length;  // header bytes
  sockaddr_storage destination;
  socklen_t destination_length;
  bool for_api;  // bytes hold the header (else only the destination is kept)
  uint8_t bytes[];
};

constexpr size_t lock_count = 64;

constinit descriptor_table<std::atomic<record *>> table;
constinit pthread_mutex_t locks[lock_count] = {
#define PP_LOCK4 PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, \
                 PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER
#define PP_LOCK16 PP_LOCK4, PP_LOCK4, PP_LOCK4, PP_LOCK4
    PP_LOCK16, PP_LOCK16, PP_LOCK16, PP_LOCK16
#undef PP_LOCK16
#undef PP_LOCK4
};
constinit pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
// Whether a record was ever stored here: forget(), which runs on every
// accept and close, is then a load and a branch while nothing is kept.
constinit std::atomic<bool> ever_stored{false};

void reinit_locks_in_child() noexcept {
  for (auto &lock : locks) pthread_mutex_init(&lock, nullptr);
}

void register_atfork() noexcept {
  pthread_atfork(nullptr, nullptr, reinit_locks_in_child);
}

// The lock of fd's stripe.
pthread_mutex_t &stripe_of(int fd) noexcept {
  return locks[static_cast<size_t>(fd) % lock_count];
}

std::atomic<record *> *slot(int fd, bool create) noexcept {
  if (!create) return table.find(fd);
  std::atomic<record *> *s = table.find_in_use(fd);
  if (s != nullptr) return s;
  pthread_once(&atfork_once, register_atfork);
  return table.find_or_map(fd);
}

void release(record *r) noexcept {
  if (r != nullptr) munmap(r, r->mapped);
}

bool same_socket(const record *r, const struct stat &st) noexcept {
  return r->device == st.st_dev && r->inode == st.st_ino;
}

}  // namespace

bool store(int fd, const uint8_t *bytes, size_t length,
           const sockaddr_storage &destination,
           socklen_t destination_length, bool for_api) noexcept {
  if (length > v2_max_length) return false;
  if (!for_api) length = 0;
  struct stat st;
  if (real::fstat(fd, &st) != 0) return false;
  records::note_recording(records::other_kinds);
  if (!ever_stored.load(std::memory_order_relaxed))
    ever_stored.store(true, std::memory_order_relaxed);
  std::atomic<record *> *s = slot(fd, true);
  if (s == nullptr) return false;
  const size_t mapped = sizeof(record) + length;
  void *mem = mmap(nullptr, mapped, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return false;
  auto *r = static_cast<record *>(mem);
  r->device = st.st_dev;
  r->inode = st.st_ino;
  r->mapped = mapped;
  r->length = length;
  r->destination = destination;
  r->destination_length = destination_length;
  r->for_api = for_api;
  std::memcpy(r->bytes, bytes, length);
  record *old;
  {
    mutex_guard lock(stripe_of(fd));
    old = s->exchange(r, std::memory_order_acq_rel);
  }
  release(old);
  return true;
}

ssize_t copy(int fd, void *buf, size_t capacity) noexcept {
  struct stat st;
  if (real::fstat(fd, &st) != 0) {
    errno = EBADF;
    return -1;
  }
  std::atomic<record *> *s = slot(fd, false);
  if (s != nullptr && s->load(std::memory_order_relaxed) != nullptr) {
    mutex_guard lock(stripe_of(fd));
    const record *r = s->load(std::memory_order_acquire);
    if (r != nullptr && r->for_api && same_socket(r, st)) {
      if (r->length <= capacity && buf != nullptr)
        std::memcpy(buf, r->bytes, r->length);
      return static_cast<ssize_t>(r->length);
    }
  }
  errno = ENOENT;
  return -1;
}

bool destination(int fd, sockaddr_storage *addr, socklen_t *length) noexcept {
  std::atomic<record *> *s = slot(fd, false);
  if (s == nullptr || s->load(std::memory_order_relaxed) == nullptr) return false;
  struct stat st;
  if (real::fstat(fd, &st) != 0) return false;
  mutex_guard lock(stripe_of(fd));
  const record *r = s->load(std::memory_order_acquire);
  if (r == nullptr || !same_socket(r, st) || r->destination_length == 0)
    return false;
  *addr = r->destination;
  *length = r->destination_length;
  return true;
}

void forget(int fd) noexcept {
  if (!ever_stored.load(std::memory_order_relaxed)) return;
  std::atomic<record *> *s = slot(fd, false);
  if (s == nullptr || s->load(std::memory_order_relaxed) == nullptr) return;
  record *old;
  {
    mutex_guard lock(stripe_of(fd));
    old = s->exchange(nullptr, std::memory_order_acq_rel);
  }
  release(old);
}

void forget_range(unsigned first, unsigned last) noexcept {
  table.for_range(first, last, [](int fd, std::atomic<record *> &s) {
    if (s.load(std::memory_order_relaxed) != nullptr) forget(fd);
  });
}

}  // namespace proxyproto::kept_headers
