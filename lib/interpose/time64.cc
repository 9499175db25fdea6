// The interposed calls whose arguments hold a time_t, under their other
// name, on a target where glibc has two (runtime/time_layouts.h): the old
// one (ppoll) and the 64-bit one (__ppoll64). The shims of wait.cc, recv.cc
// and send.cc define the name of the layout this library is compiled with;
// these define the other, so that a program built either way is
// interposed. Each goes straight to the C library's function of the same
// name when the library has nothing to do, passing every argument as it
// came; otherwise it converts the times to this library's layout and does
// what the shim of that layout does.
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/socket.h>

#include "runtime/time_layouts.h"

#if defined(__TIMESIZE) && __TIMESIZE == 32

#include "accept/listener_readiness.h"
#include "accept/wait_sets.h"
#include "datagram/receive.h"
#include "datagram/receive_entries.h"
#include "datagram/reply.h"
#include "datagram/socket_states.h"
#include "passing/descriptor_passing.h"
#include "runtime/export.h"
#include "runtime/next_symbol.h"
#include "runtime/real_calls.h"
#include "runtime/real_datagram_calls.h"

namespace {

using proxyproto::readiness::any;
using proxyproto::time_layouts::other_timespec;
using proxyproto::time_layouts::other_timeval;
using proxyproto::time_layouts::to_native;
using proxyproto::time_layouts::to_other;
namespace wait_sets = proxyproto::wait_sets;
namespace udp_sockets = proxyproto::udp_sockets;
namespace entries = proxyproto::receive_entries;
namespace passing = proxyproto::descriptor_passing;
template <typename Fn>
using next_symbol = proxyproto::real::next_symbol<Fn>;

using ppoll_fn = int(pollfd *, nfds_t, const other_timespec *, const sigset_t *);
using select_fn = int(int, fd_set *, fd_set *, fd_set *, other_timeval *);
using pselect_fn = int(int, fd_set *, fd_set *, fd_set *, const other_timespec *,
                       const sigset_t *);
using recvmsg_fn = ssize_t(int, msghdr *, int);
using recvmmsg_fn = int(int, mmsghdr *, unsigned, int, other_timespec *);
using sendmsg_fn = ssize_t(int, const msghdr *, int);
using sendmmsg_fn = int(int, mmsghdr *, unsigned, int);

// The C library's functions of the other name. glibc before 2.34 has no
// __*64 names; no program calls them there either.
constinit next_symbol<ppoll_fn> other_ppoll{PP_OTHER_TIME_NAME("ppoll", "__ppoll64")};
constinit next_symbol<select_fn> other_select{PP_OTHER_TIME_NAME("select", "__select64")};
constinit next_symbol<pselect_fn> other_pselect{
    PP_OTHER_TIME_NAME("pselect", "__pselect64")};
constinit next_symbol<recvmsg_fn> other_recvmsg{
    PP_OTHER_TIME_NAME("recvmsg", "__recvmsg64")};
constinit next_symbol<recvmmsg_fn> other_recvmmsg{
    PP_OTHER_TIME_NAME("recvmmsg", "__recvmmsg64")};
constinit next_symbol<sendmsg_fn> other_sendmsg{
    PP_OTHER_TIME_NAME("sendmsg", "__sendmsg64")};
constinit next_symbol<sendmmsg_fn> other_sendmmsg{
    PP_OTHER_TIME_NAME("sendmmsg", "__sendmmsg64")};

// A receive the library has nothing to do with: no UDP socket in scope.
inline bool receive_untouched(int fd) noexcept {
  return !udp_sockets::in_use() || udp_sockets::of(fd) == udp_sockets::none;
}

inline bool replies_redirected(int fd) noexcept {
  return udp_sockets::in_use() &&
         proxyproto::datagram::in_scope(udp_sockets::of(fd));
}

}  // namespace

extern "C" {

PROXYPROTO_EXPORT int pp_other_ppoll(pollfd *fds, nfds_t nfds,
                                     const other_timespec *timeout,
                                     const sigset_t *sigmask)
    __asm__(PP_OTHER_TIME_NAME("ppoll", "__ppoll64"));
PROXYPROTO_EXPORT int pp_other_select(int nfds, fd_set *readfds, fd_set *writefds,
                                      fd_set *exceptfds, other_timeval *timeout)
    __asm__(PP_OTHER_TIME_NAME("select", "__select64"));
PROXYPROTO_EXPORT int pp_other_pselect(int nfds, fd_set *readfds, fd_set *writefds,
                                       fd_set *exceptfds,
                                       const other_timespec *timeout,
                                       const sigset_t *sigmask)
    __asm__(PP_OTHER_TIME_NAME("pselect", "__pselect64"));
PROXYPROTO_EXPORT ssize_t pp_other_recvmsg(int fd, msghdr *msg, int flags)
    __asm__(PP_OTHER_TIME_NAME("recvmsg", "__recvmsg64"));
PROXYPROTO_EXPORT int pp_other_recvmmsg(int fd, mmsghdr *msgs, unsigned vlen,
                                        int flags, other_timespec *timeout)
    __asm__(PP_OTHER_TIME_NAME("recvmmsg", "__recvmmsg64"));
PROXYPROTO_EXPORT ssize_t pp_other_sendmsg(int fd, const msghdr *msg, int flags)
    __asm__(PP_OTHER_TIME_NAME("sendmsg", "__sendmsg64"));
PROXYPROTO_EXPORT int pp_other_sendmmsg(int fd, mmsghdr *msgs, unsigned vlen,
                                        int flags)
    __asm__(PP_OTHER_TIME_NAME("sendmmsg", "__sendmmsg64"));

int pp_other_ppoll(pollfd *fds, nfds_t nfds, const other_timespec *timeout,
                   const sigset_t *sigmask) {
  if (!any()) {
    if (auto *fn = other_ppoll.get()) return fn(fds, nfds, timeout, sigmask);
  }
  const timespec ts = timeout ? to_native(*timeout) : timespec{};
  if (!any())
    return proxyproto::real::ppoll(fds, nfds, timeout ? &ts : nullptr, sigmask);
  return wait_sets::poll_with_listeners(fds, nfds, false, 0, timeout ? &ts : nullptr,
                                        sigmask);
}

int pp_other_select(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
                    other_timeval *timeout) {
  if (!any()) {
    if (auto *fn = other_select.get())
      return fn(nfds, readfds, writefds, exceptfds, timeout);
  }
  timeval tv = timeout ? to_native(*timeout) : timeval{};
  const int rc =
      !any() ? proxyproto::real::select(nfds, readfds, writefds, exceptfds,
                                        timeout ? &tv : nullptr)
             : wait_sets::select_with_listeners(nfds, readfds, writefds, exceptfds,
                                                timeout ? &tv : nullptr, true,
                                                nullptr, nullptr);
  // select() reports the time left in *timeout, on Linux.
  if (timeout != nullptr) *timeout = to_other(tv);
  return rc;
}

int pp_other_pselect(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
                     const other_timespec *timeout, const sigset_t *sigmask) {
  if (!any()) {
    if (auto *fn = other_pselect.get())
      return fn(nfds, readfds, writefds, exceptfds, timeout, sigmask);
  }
  const timespec ts = timeout ? to_native(*timeout) : timespec{};
  if (!any())
    return proxyproto::real::pselect(nfds, readfds, writefds, exceptfds,
                                     timeout ? &ts : nullptr, sigmask);
  return wait_sets::select_with_listeners(nfds, readfds, writefds, exceptfds,
                                          nullptr, false, timeout ? &ts : nullptr,
                                          sigmask);
}

// A UDP socket the library handles is read by the library, through the
// function of its own layout: a timestamp control message then comes in
// that layout (the kernel's choice for SO_TIMESTAMP_OLD/NEW, which glibc
// converts only on kernels older than 5.1).
ssize_t pp_other_recvmsg(int fd, msghdr *msg, int flags) {
  auto *fn = receive_untouched(fd) ? other_recvmsg.get() : nullptr;
  const ssize_t n = fn != nullptr ? fn(fd, msg, flags)
                                  : entries::recvmsg_entry.get()(fd, msg, flags);
  // As recv.cc's recvmsg(): passed descriptors get their records.
  if (n >= 0 && msg->msg_controllen != 0) [[unlikely]] passing::after_receive(msg);
  return n;
}

int pp_other_recvmmsg(int fd, mmsghdr *msgs, unsigned vlen, int flags,
                      other_timespec *timeout) {
  int rc;
  auto *fn = receive_untouched(fd) ? other_recvmmsg.get() : nullptr;
  if (fn != nullptr) {
    rc = fn(fd, msgs, vlen, flags, timeout);
  } else {
    timespec ts = timeout ? to_native(*timeout) : timespec{};
    rc = entries::recvmmsg_entry.get()(fd, msgs, vlen, flags, timeout ? &ts : nullptr);
    if (timeout != nullptr) *timeout = to_other(ts);
  }
  for (int i = 0; i < rc; ++i)
    if (msgs[i].msg_hdr.msg_controllen != 0) [[unlikely]]
      passing::after_receive(&msgs[i].msg_hdr);
  return rc;
}

ssize_t pp_other_sendmsg(int fd, const msghdr *msg, int flags) {
  if (!replies_redirected(fd)) {
    if (passing::may_send_records() && msg != nullptr) [[unlikely]]
      passing::before_send(msg);
    if (auto *fn = other_sendmsg.get()) return fn(fd, msg, flags);
    return proxyproto::real::sendmsg(fd, msg, flags);
  }
  return proxyproto::datagram::send_message(fd, msg, flags);
}

int pp_other_sendmmsg(int fd, mmsghdr *msgs, unsigned vlen, int flags) {
  if (!replies_redirected(fd)) {
    if (passing::may_send_records() && msgs != nullptr) [[unlikely]]
      for (unsigned i = 0; i < vlen; ++i) passing::before_send(&msgs[i].msg_hdr);
    if (auto *fn = other_sendmmsg.get()) return fn(fd, msgs, vlen, flags);
    return proxyproto::real::sendmmsg(fd, msgs, vlen, flags);
  }
  return proxyproto::datagram::send_batch(fd, msgs, vlen, flags);
}

}  // extern "C"

#endif  // __TIMESIZE == 32
