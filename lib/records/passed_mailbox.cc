#include "records/passed_mailbox.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstring>

#include "core/inet_text.h"
#include "runtime/real_calls.h"
#include "runtime/shared_atomics.h"

namespace proxyproto::passed_mailbox {

namespace {

// The layout's version is in the file's name, so that two versions of the
// library never read each other's slots.
constexpr char file_prefix[] = "libproxyproto-passed-1.";
constexpr uint32_t slot_count = 4096;  // a power of two
constexpr uint32_t neighbourhood = 8;  // slots probed from a cookie's own
constexpr size_t address_words = 7;    // 28 bytes: a sockaddr_in6

// Slots are shared between processes: see map_mailbox().
using word = std::atomic<uint32_t>;

struct slot {
  word sequence;  // odd while being written
  word cookie_low;
  word cookie_high;
  word lengths;  // the peer's in the low half, the destination's in the high
  word stamp;    // when it was posted, to find the oldest of a neighbourhood
  word peer[address_words];
  word destination[address_words];
};

struct layout {
  word next_stamp;
  word reserved[15];
  slot slots[slot_count];
};
static_assert(sizeof(slot) == 19 * 4 && sizeof(layout) == 64 + slot_count * sizeof(slot),
              "the same layout for 32- and 64-bit processes");

constinit const char *directory = "/dev/shm";
constinit std::atomic<layout *> writable_box{nullptr};  // this user's, to post
constinit std::atomic<layout *> own_box{nullptr};       // this user's, to read
constinit std::atomic<layout *> root_box{nullptr};      // root's, to read
// A mailbox this process cannot create or use (a squatted name, no
// /dev/shm) is tried again at most this often. A mailbox to read is looked
// for at every receive until it is there: a record may arrive in the very
// next message.
constexpr int64_t retry_ns = 1000000000;
constinit std::atomic<int64_t> next_try_writable{0};

int64_t coarse_now_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// "<directory>/libproxyproto-passed-1.<uid>" into path; false if too long.
bool mailbox_path(uid_t uid, char *path, size_t capacity) noexcept {
  char digits[16];
  const size_t n = format_decimal(uid, digits, sizeof digits);
  const size_t dir_len = std::strlen(directory);
  if (n == 0 || dir_len + 1 + sizeof file_prefix - 1 + n + 1 > capacity) return false;
  char *p = path;
  std::memcpy(p, directory, dir_len);
  p += dir_len;
  *p++ = '/';
  std::memcpy(p, file_prefix, sizeof file_prefix - 1);
  p += sizeof file_prefix - 1;
  std::memcpy(p, digits, n);
  p[n] = '\0';
  return true;
}

// Maps `uid`'s mailbox, believed only when it is a regular file of that
// user that nobody else may write. `writable`: opened, created if need be,
// and sized for posting, by its owner only.
layout *map_mailbox(uid_t uid, bool writable) noexcept {
  char path[256];
  if (!atomics_shareable<uint32_t>()) return nullptr;  // records do not pass
  if (!mailbox_path(uid, path, sizeof path)) return nullptr;
  const int saved_errno = errno;
  const int fd = writable ? open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                                 uid == 0 ? 0644 : 0600)
                          : open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  layout *box = nullptr;
  struct stat st;
  if (fd >= 0 && real::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == uid &&
      (st.st_mode & 022) == 0) {
    bool sized = st.st_size >= static_cast<off_t>(sizeof(layout));
    if (writable) {
      // Root's mailbox is read by every user; another user's by that user
      // alone, whatever the umask made of the mode.
      const mode_t wanted = uid == 0 ? 0644 : 0600;
      if ((st.st_mode & 07777) != wanted) fchmod(fd, wanted);
      if (!sized) sized = ftruncate(fd, sizeof(layout)) == 0;
    }
    if (sized) {
      void *p = mmap(nullptr, sizeof(layout),
                     writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
      if (p != MAP_FAILED) box = static_cast<layout *>(p);
    }
  }
  if (fd >= 0) real::close(fd);
  errno = saved_errno;
  return box;
}

// The mapping in `cache`, mapped now if it is not yet (and, with
// `next_try`, was not tried within retry_ns). Two threads may map it at
// once: one mapping is kept, the other unmapped.
layout *mailbox(std::atomic<layout *> &cache, uid_t uid, bool writable,
                std::atomic<int64_t> *next_try) noexcept {
  layout *box = cache.load(std::memory_order_acquire);
  if (box != nullptr) return box;
  const int64_t now = next_try != nullptr ? coarse_now_ns() : 0;
  if (next_try != nullptr && now < next_try->load(std::memory_order_relaxed))
    return nullptr;
  box = map_mailbox(uid, writable);
  if (box == nullptr) {
    if (next_try != nullptr) next_try->store(now + retry_ns, std::memory_order_relaxed);
    return nullptr;
  }
  layout *expected = nullptr;
  if (!cache.compare_exchange_strong(expected, box, std::memory_order_acq_rel)) {
    munmap(box, sizeof(layout));
    return expected;
  }
  return box;
}

uint32_t home_slot(uint64_t cookie) noexcept {
  // Cookies are handed out in sequence: Fibonacci hashing spreads them.
  return static_cast<uint32_t>((cookie * 0x9E3779B97F4A7C15ull) >> 52) & (slot_count - 1);
}

void store_words(word *to, const void *from, size_t bytes) noexcept {
  uint32_t w[address_words] = {};
  std::memcpy(w, from, bytes);
  for (size_t i = 0; i < address_words; ++i) to[i].store(w[i], std::memory_order_relaxed);
}

void load_words(const word *from, sockaddr_storage *to, socklen_t bytes) noexcept {
  uint32_t w[address_words];
  for (size_t i = 0; i < address_words; ++i) w[i] = from[i].load(std::memory_order_relaxed);
  std::memset(to, 0, sizeof *to);
  std::memcpy(to, w, bytes);
}

bool plausible_length(socklen_t len, bool may_be_empty) noexcept {
  if (len == 0) return may_be_empty;
  return len >= sizeof(sa_family_t) && len <= address_words * 4;
}

// The slot's record if it holds `cookie`, consistently read.
bool read_slot(const slot &s, uint64_t cookie, record *r) noexcept {
  for (int attempt = 0; attempt < 3; ++attempt) {
    const uint32_t before = s.sequence.load(std::memory_order_acquire);
    if (before & 1u) return false;  // being written, or abandoned mid-write
    const uint64_t found =
        (uint64_t{s.cookie_high.load(std::memory_order_relaxed)} << 32) |
        s.cookie_low.load(std::memory_order_relaxed);
    if (found != cookie) return false;
    const uint32_t lengths = s.lengths.load(std::memory_order_relaxed);
    const socklen_t peer_len = lengths & 0xFFFFu;
    const socklen_t destination_len = lengths >> 16;
    if (!plausible_length(peer_len, false) || !plausible_length(destination_len, true))
      return false;
    load_words(s.peer, &r->peer, peer_len);
    load_words(s.destination, &r->destination, destination_len);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (s.sequence.load(std::memory_order_relaxed) == before) {
      r->peer_len = peer_len;
      r->destination_len = destination_len;
      return true;
    }
  }
  return false;
}

bool find_in(const layout *box, uint64_t cookie, record *r) noexcept {
  const uint32_t home = home_slot(cookie);
  for (uint32_t i = 0; i < neighbourhood; ++i)
    if (read_slot(box->slots[(home + i) & (slot_count - 1)], cookie, r)) return true;
  return false;
}

}  // namespace

uint64_t cookie_of(int fd) noexcept {
  uint64_t cookie = 0;
  socklen_t len = sizeof cookie;
  const int saved_errno = errno;
  if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, &cookie, &len) != 0 || len != sizeof cookie)
    cookie = 0;
  errno = saved_errno;
  return cookie;
}

bool post(uint64_t cookie, const record &r) noexcept {
  if (cookie == 0 || !plausible_length(r.peer_len, false) ||
      !plausible_length(r.destination_len, true))
    return false;
  layout *box = mailbox(writable_box, geteuid(), true, &next_try_writable);
  if (box == nullptr) return false;
  // The cookie's own slot if it is there already, else an empty one, else
  // the oldest post of the neighbourhood: a slot is needed only until the
  // receiver has read it.
  const uint32_t home = home_slot(cookie);
  const uint32_t now = box->next_stamp.fetch_add(1, std::memory_order_relaxed);
  slot *target = nullptr;
  uint32_t oldest_age = 0;
  for (uint32_t i = 0; i < neighbourhood; ++i) {
    slot &s = box->slots[(home + i) & (slot_count - 1)];
    if (s.sequence.load(std::memory_order_relaxed) & 1u) continue;
    const uint64_t held = (uint64_t{s.cookie_high.load(std::memory_order_relaxed)} << 32) |
                          s.cookie_low.load(std::memory_order_relaxed);
    if (held == cookie || held == 0) {
      target = &s;
      break;
    }
    const uint32_t age = now - s.stamp.load(std::memory_order_relaxed);
    if (target == nullptr || age > oldest_age) {
      target = &s;
      oldest_age = age;
    }
  }
  if (target == nullptr) return false;
  uint32_t seq = target->sequence.load(std::memory_order_relaxed);
  // Never wait on a slot: another writer has it, or one died holding it.
  if ((seq & 1u) || !target->sequence.compare_exchange_strong(
                        seq, seq + 1, std::memory_order_acquire, std::memory_order_relaxed))
    return false;
  std::atomic_thread_fence(std::memory_order_release);
  target->cookie_low.store(static_cast<uint32_t>(cookie), std::memory_order_relaxed);
  target->cookie_high.store(static_cast<uint32_t>(cookie >> 32), std::memory_order_relaxed);
  target->lengths.store(r.peer_len | (r.destination_len << 16), std::memory_order_relaxed);
  target->stamp.store(now, std::memory_order_relaxed);
  store_words(target->peer, &r.peer, r.peer_len);
  store_words(target->destination, &r.destination, r.destination_len);
  target->sequence.store(seq + 2, std::memory_order_release);
  return true;
}

bool find(uint64_t cookie, record *r) noexcept {
  if (cookie == 0) return false;
  const uid_t me = geteuid();
  if (const layout *box = mailbox(own_box, me, false, nullptr))
    if (find_in(box, cookie, r)) return true;
  if (me == 0) return false;  // root's own mailbox was the one just read
  const layout *box = mailbox(root_box, 0, false, nullptr);
  return box != nullptr && find_in(box, cookie, r);
}

void use_directory(const char *dir) noexcept { directory = dir; }

}  // namespace proxyproto::passed_mailbox
