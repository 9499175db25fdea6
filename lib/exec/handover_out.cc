// The executing side of the hand-over: which records go, and the new
// program's environment.
//
// A record goes when its descriptor is still open (a close that bypassed
// close() leaves a record behind: fcntl tells), is not close-on-exec, and is
// a socket, whose identity is taken now. At most handover_max_entries go
// (descriptors in increasing order, so 0 and 1 first); the rest keep no
// record in the new program.
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cstring>

#include "exec/handover.h"
#include "records/peer_addresses.h"
#include "runtime/real_calls.h"

namespace proxyproto::exec_handover {

namespace {

// Writes "LIBPROXYPROTO_HANDOVER=v1;..." into out; returns the number of
// entries.
size_t write_variable(char *out) noexcept {
  std::memcpy(out, variable_name, variable_name_len);
  out[variable_name_len] = '=';
  handover_writer writer(out + variable_name_len + 1);
  int fd = -1;
  handover_entry e{};
  while ((fd = peer_addresses::next(fd, &e.address, &e.length)) >= 0) {
    const int flags = fcntl(fd, F_GETFD);
    if (flags < 0 || (flags & FD_CLOEXEC)) continue;
    struct stat st;
    if (real::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    e.fd = fd;
    e.device = st.st_dev;
    e.inode = st.st_ino;
    if (!writer.add(e) && writer.entries() == handover_max_entries) break;
  }
  return writer.entries();
}

}  // namespace

child_environment::~child_environment() {
  if (mapped_ != nullptr) {
    const int saved_errno = errno;  // the failed exec's
    munmap(mapped_, mapped_bytes_);
    errno = saved_errno;
  }
}

char *const *child_environment::prepare(char *const *envp) noexcept {
  if (!peer_addresses::maybe_any()) return envp;
  const int saved_errno = errno;
  if (write_variable(variable_) == 0) {
    errno = saved_errno;
    return envp;
  }
  size_t count = 0;
  if (envp != nullptr)
    while (envp[count] != nullptr) ++count;
  char **slots = slots_;
  if (count + 2 > inline_slots) {
    mapped_bytes_ = (count + 2) * sizeof(char *);
    void *mem = mmap(nullptr, mapped_bytes_, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
      // Without room the program starts as it would have without us.
      mapped_bytes_ = 0;
      errno = saved_errno;
      return envp;
    }
    mapped_ = static_cast<char **>(mem);
    slots = mapped_;
  }
  size_t n = 0;
  for (size_t i = 0; i < count; ++i)
    if (!is_handover_entry(envp[i])) slots[n++] = envp[i];
  slots[n++] = variable_;
  slots[n] = nullptr;
  errno = saved_errno;
  return slots;
}

}  // namespace proxyproto::exec_handover
