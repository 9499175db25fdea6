// The calls that end or copy a descriptor, so that a record never outlives
// the connection it describes and a reused number reports its own peer.
//
// close() erases the record before the real close: once the number is free
// another thread's accept() may reuse it, and its record must not be erased
// by us afterwards. dup2()/dup3() copy the record after the kernel has
// replaced the target atomically; dup() gives the copy its record too. A
// closed or replaced descriptor also leaves the pending pool: as a listener,
// its parked connections are closed with it; as a parked connection, its
// slot is released. A process that never recorded anything (see
// records/any_record.h) skips all of that.
#include <errno.h>
#include <linux/close_range.h>
#include <unistd.h>

#include "accept/listener_readiness.h"
#include "accept/pending_pool.h"
#include "records/udp_marks.h"
#include "records/any_record.h"
#include "records/kept_headers.h"
#include "records/peer_addresses.h"
#include "runtime/export.h"
#include "runtime/real_calls.h"

namespace {

// The records other than addresses, listeners and parked connections: out
// of line, since a process that only accepts connections whose headers
// arrived whole has none of them.
__attribute__((noinline)) void forget_other_records(int fd) noexcept {
  proxyproto::kept_headers::forget(fd);
  proxyproto::udp_sockets::forget(fd);
}

// close() of a descriptor with more than an address record, one parked,
// or one the readiness table knows (a listener, an epoll set): out of line
// too.
__attribute__((noinline)) int close_with_other_records(int fd, uint32_t kinds) noexcept {
  if (kinds & proxyproto::records::parked_kind) proxyproto::pending::forget_descriptor(fd);
  if (kinds & proxyproto::records::other_kinds) forget_other_records(fd);
  proxyproto::readiness::forget(fd);
  return proxyproto::real::close(fd);
}

// Each kind of record only once something of that kind was recorded
// (records/any_record.h). The address record and the readiness table's
// bitmap (listeners, their epoll sets, the library's own descriptors and
// parked connections) are looked at inline, and every call out of here is
// a jump, so that the usual close() (an accepted connection's) has no
// frame of its own, connections parked or not.
__attribute__((always_inline)) inline int close_with_records(int fd,
                                                             uint32_t kinds) noexcept {
  if (kinds & proxyproto::records::address_kind) proxyproto::peer_addresses::forget(fd);
  if ((kinds & proxyproto::records::other_kinds) || proxyproto::readiness::may_know(fd))
      [[unlikely]]
    return close_with_other_records(fd, kinds);
  return proxyproto::real::close(fd);
}

// Every record of the descriptors in [first, last]: close_range, closefrom.
void forget_closed_range(unsigned first, unsigned last) noexcept {
  proxyproto::peer_addresses::forget_range(first, last);
  proxyproto::pending::forget_descriptors(first, last);
  proxyproto::kept_headers::forget_range(first, last);
  proxyproto::udp_sockets::forget_range(first, last);
  proxyproto::readiness::forget_range(first, last);
}

// `to` now names what `from` names (dup, dup2, dup3): it carries `from`'s
// records, and nothing of what it named before.
void copy_records(int from, int to, bool replaced) noexcept {
  if (replaced) {
    proxyproto::pending::forget_descriptor(to);
    proxyproto::kept_headers::forget(to);
    proxyproto::readiness::forget(to);
  }
  proxyproto::peer_addresses::copy(from, to);
  proxyproto::udp_sockets::copy(from, to);
  if (proxyproto::readiness::is_listener(from))
    proxyproto::readiness::note_listener(to);
}

}  // namespace

extern "C" {

PROXYPROTO_EXPORT int close(int fd) {
  const uint32_t kinds = proxyproto::records::kinds();
  if (kinds != 0) [[unlikely]] return close_with_records(fd, kinds);
  return proxyproto::real::close(fd);
}

PROXYPROTO_EXPORT int dup(int oldfd) {
  const int fd = proxyproto::real::dup(oldfd);
  if (fd >= 0 && proxyproto::records::anything()) copy_records(oldfd, fd, false);
  return fd;
}

PROXYPROTO_EXPORT int dup2(int oldfd, int newfd) {
  const int fd = proxyproto::real::dup2(oldfd, newfd);
  if (fd >= 0 && oldfd != newfd && proxyproto::records::anything()) {
    copy_records(oldfd, newfd, true);
  }
  return fd;
}

PROXYPROTO_EXPORT int dup3(int oldfd, int newfd, int flags) {
  const int fd = proxyproto::real::dup3(oldfd, newfd, flags);
  if (fd >= 0 && proxyproto::records::anything()) {
    copy_records(oldfd, newfd, true);
  }
  return fd;
}

// close_range(2) closes a whole range at once (daemons and spawners call
// close_range(3, ~0U, 0) before exec): the records and parked descriptors in
// it go first, for the same reason as in close(). With CLOSE_RANGE_CLOEXEC
// nothing is closed now, so nothing is forgotten; with CLOSE_RANGE_UNSHARE
// the table is unshared first, and this process's copy is still closed.
PROXYPROTO_EXPORT int close_range(unsigned first, unsigned last, int flags) {
  if (first <= last && !(static_cast<unsigned>(flags) & CLOSE_RANGE_CLOEXEC) &&
      proxyproto::records::anything()) {
    forget_closed_range(first, last);
  }
  return proxyproto::real::close_range(first, last, flags);
}

// closefrom(3) closes every descriptor from `lowest` on, without going
// through close() or close_range(): daemons call it before exec (sshd
// does), so the records above it go first, as with close_range.
PROXYPROTO_EXPORT void closefrom(int lowest) {
  if (proxyproto::records::anything()) {
    forget_closed_range(lowest < 0 ? 0u : static_cast<unsigned>(lowest), ~0u);
  }
  proxyproto::real::closefrom(lowest);
}

}  // extern "C"
