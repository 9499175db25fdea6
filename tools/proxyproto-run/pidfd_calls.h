// pidfd_open(2) and pidfd_getfd(2) as system calls: glibc has wrappers only
// since 2.36, and its <sys/pidfd.h> there lacks C++ linkage.
#pragma once

#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

namespace proxyproto::run {

inline int open_pidfd_of(pid_t pid, unsigned flags) noexcept {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, flags));
}

inline int copy_descriptor(int pidfd, int fd) noexcept {
  return static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, fd, 0u));
}

}  // namespace proxyproto::run
