#include "program_access.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include "pidfd_calls.h"
#include <poll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <unordered_map>

namespace proxyproto::run {

namespace {

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

// Thread number -> pidfd. With PIDFD_THREAD the pidfd is the thread's own;
// without (kernels before 6.9), a thread other than the leader is reached
// through its process's pidfd, opened per call and not kept: the thread's
// number alone would not prove, on a later call, that it is the same
// process's.
std::unordered_map<pid_t, int> pidfds;
bool thread_pidfds = true;  // until the kernel says otherwise

pid_t thread_group_of(pid_t tid) noexcept {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(tid));
  FILE *f = fopen(path, "re");
  if (f == nullptr) return -1;
  char line[256];
  pid_t tgid = -1;
  while (fgets(line, sizeof line, f) != nullptr)
    if (std::strncmp(line, "Tgid:", 5) == 0) {
      tgid = static_cast<pid_t>(atoi(line + 5));
      break;
    }
  fclose(f);
  return tgid;
}

// A pidfd for the caller of `call`, checked against the notification;
// *keep says whether it may be kept for the thread's next calls.
int open_pidfd(int notify_fd, const trapped_call &call, bool *keep) noexcept {
  int pidfd = -1;
  *keep = false;
  if (thread_pidfds) {
    pidfd = open_pidfd_of(call.tid, PIDFD_THREAD);
    if (pidfd >= 0) *keep = true;
    else if (errno == EINVAL) thread_pidfds = false;
  }
  if (pidfd < 0) {
    pidfd = open_pidfd_of(call.tid, 0);  // the thread group's leader
    if (pidfd >= 0) *keep = true;     // a process pidfd: dies with it
  }
  if (pidfd < 0 && errno == EINVAL) {
    const pid_t tgid = thread_group_of(call.tid);
    if (tgid > 0) pidfd = open_pidfd_of(tgid, 0);
  }
  if (pidfd < 0) return -1;
  if (!still_waiting(notify_fd, call.id)) {
    close(pidfd);
    errno = ESRCH;
    return -1;
  }
  return pidfd;
}

}  // namespace

namespace {

// Whether the program's address fits this launcher's pointers: a 32-bit
// launcher cannot reach above 4 GiB of a 64-bit program (which its filter
// does not admit anyway; this keeps a bad pointer from being truncated
// into a good one).
bool reachable(uint64_t where, size_t len) noexcept {
  return where <= UINTPTR_MAX && len <= UINTPTR_MAX - where;
}

}  // namespace

access read_program(int notify_fd, const trapped_call &call, uint64_t where, void *to,
                    size_t len) noexcept {
  if (!reachable(where, len)) return access::fault;
  iovec local{to, len};
  iovec remote{reinterpret_cast<void *>(static_cast<uintptr_t>(where)), len};
  const ssize_t n = process_vm_readv(call.tid, &local, 1, &remote, 1, 0);
  // Still waiting: the thread read was the caller, not a reused number.
  if (!still_waiting(notify_fd, call.id)) return access::gone;
  return n == static_cast<ssize_t>(len) ? access::ok : access::fault;
}

namespace {

// Writes the pieces, in order, to a caller checked just before.
access write_checked(const trapped_call &call, const iovec *local, const iovec *remote,
                     unsigned long count) noexcept {
  size_t len = 0;
  for (unsigned long i = 0; i < count; ++i) len += local[i].iov_len;
  const ssize_t n = process_vm_writev(call.tid, local, count, remote, count, 0);
  return n == static_cast<ssize_t>(len) ? access::ok : access::fault;
}

}  // namespace

access write_address(int notify_fd, const trapped_call &call, const sockaddr_storage &address,
                     socklen_t address_len, int *error) noexcept {
  *error = 0;
  // accept(fd, NULL, ...) and the like: nothing asked (the kernel looks at
  // addr first for accept, and faults on a NULL addrlen otherwise).
  if (call.kind == call_kind::accept && call.addr == 0) return access::ok;
  int32_t room = 0;
  // The read is checked after, which is also the check before the write:
  // one ID_VALID for the whole exchange.
  const access a = read_program(notify_fd, call, call.addrlen, &room, sizeof room);
  if (a != access::ok) return a;
  if (room < 0) {
    *error = EINVAL;
    return access::ok;
  }
  const size_t copied =
      static_cast<size_t>(room) < address_len ? static_cast<size_t>(room) : address_len;
  int32_t full = static_cast<int32_t>(address_len);
  if (!reachable(call.addr, copied)) return access::fault;
  // addr first, then *addrlen, as the kernel writes them.
  iovec local[2] = {{const_cast<sockaddr_storage *>(&address), copied}, {&full, sizeof full}};
  iovec remote[2] = {{reinterpret_cast<void *>(static_cast<uintptr_t>(call.addr)), copied},
                     {reinterpret_cast<void *>(static_cast<uintptr_t>(call.addrlen)), sizeof full}};
  return copied > 0 ? write_checked(call, local, remote, 2)
                    : write_checked(call, local + 1, remote + 1, 1);
}

int program_descriptor(int notify_fd, const trapped_call &call, int fd) noexcept {
  for (int attempt = 0; attempt < 2; ++attempt) {
    int pidfd = -1;
    bool kept = false;
    auto it = pidfds.find(call.tid);
    if (it != pidfds.end()) {
      pidfd = it->second;
      kept = true;
    } else {
      bool keep = false;
      pidfd = open_pidfd(notify_fd, call, &keep);
      if (pidfd < 0) return -1;
      if (keep) {
        pidfds.emplace(call.tid, pidfd);
        kept = true;
      }
    }
    const int copy = copy_descriptor(pidfd, fd);
    const int saved = errno;
    if (!kept) close(pidfd);
    if (copy >= 0) return copy;
    if (saved == ESRCH && kept) {
      // The kept pidfd's thread is gone: the number names another now.
      close(pidfd);
      pidfds.erase(call.tid);
      continue;
    }
    errno = saved;
    return -1;
  }
  errno = ESRCH;
  return -1;
}

void forget_gone_threads() noexcept {
  for (auto it = pidfds.begin(); it != pidfds.end();) {
    // A pidfd of a thread (or process) that has exited polls readable.
    pollfd p{it->second, POLLIN, 0};
    if (poll(&p, 1, 0) > 0) {
      close(it->second);
      it = pidfds.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace proxyproto::run
