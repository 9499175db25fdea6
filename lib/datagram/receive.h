// The receive side of UDP: each datagram that reaches the application from
// a socket in scope has had its v2 header removed and names the header's
// source as its sender (core/datagram.h decides; this file does it to the
// application's buffers). Datagrams that are discarded are never seen: the
// call goes on with the next one, blocking if the caller's call blocks,
// EAGAIN only when nothing good is queued.
//
// One system call per call, as without the library (the kernel's
// MSG_TRUNC tells the datagram's real length at no cost); more only after a
// datagram was discarded. No allocation, no sleep.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include "datagram/socket_states.h"

struct timespec;

namespace proxyproto::datagram {

// The state of a socket whose table entry is not none, its scope decided
// if it was still undecided: in_scope_* means the calls below apply.
udp_sockets::state scope(int fd, udp_sockets::state current) noexcept;

inline bool in_scope(udp_sockets::state s) noexcept {
  return s == udp_sockets::in_scope_inet || s == udp_sockets::in_scope_inet6;
}

// recvmsg(2) semantics, flags included (MSG_PEEK, MSG_TRUNC, MSG_DONTWAIT,
// MSG_WAITALL, MSG_CMSG_CLOEXEC, MSG_ERRQUEUE passes through untouched).
ssize_t receive(int fd, udp_sockets::state s, msghdr *msg, int flags) noexcept;

// recvfrom(2) semantics into one buffer (recvfrom, recv and read, with a
// null addr for the last two; addr non-null means addrlen is too): the
// same as receive() over one iovec, through recvfrom(2) itself, which is
// the kernel's cheaper path.
ssize_t receive_buffer(int fd, udp_sockets::state s, void *buf, size_t len,
                       int flags, sockaddr *addr, socklen_t *addrlen) noexcept;

// recvmmsg(2) semantics: the kept datagrams fill msgs[0..n), in order.
int receive_batch(int fd, udp_sockets::state s, mmsghdr *msgs, unsigned vlen,
                  int flags, timespec *timeout) noexcept;

}  // namespace proxyproto::datagram
