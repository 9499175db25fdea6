// The calls that end or copy a descriptor, so that a record never outlives
// the connection it describes and a reused number reports its own peer.
//
// close() erases the record before the real close: once the number is free
// another thread's accept() may reuse it, and its record must not be erased
// by us afterwards. dup2()/dup3() copy the record after the kernel has
// replaced the target atomically; dup() gives the copy its record too.
#include <errno.h>
#include <unistd.h>

#include "fd_table.h"
#include "header_store.h"  // issue 7
#include "runtime/export.h"
#include "runtime/real_calls.h"

extern "C" {

PROXYPROTO_EXPORT int close(int fd) {
  proxyproto::fd_table::forget(fd);
  proxyproto::header_store::forget(fd);  // issue 7 hook
  return proxyproto::real::close(fd);
}

PROXYPROTO_EXPORT int dup(int oldfd) {
  const int fd = proxyproto::real::dup(oldfd);
  if (fd >= 0) proxyproto::fd_table::copy(oldfd, fd);
  return fd;
}

PROXYPROTO_EXPORT int dup2(int oldfd, int newfd) {
  const int fd = proxyproto::real::dup2(oldfd, newfd);
  if (fd >= 0 && oldfd != newfd) {
    proxyproto::fd_table::copy(oldfd, newfd);
    proxyproto::header_store::forget(newfd);  // issue 7 hook
  }
  return fd;
}

PROXYPROTO_EXPORT int dup3(int oldfd, int newfd, int flags) {
  const int fd = proxyproto::real::dup3(oldfd, newfd, flags);
  if (fd >= 0) {
    proxyproto::fd_table::copy(oldfd, newfd);
    proxyproto::header_store::forget(newfd);  // issue 7 hook
  }
  return fd;
}

}  // extern "C"
