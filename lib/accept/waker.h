// Makes a listener readable when one of its parked connections becomes
// ready, so that an event loop that got EAGAIN from accept() is woken up.
//
// The waker is one thread, started on the first park (never at load time),
// that polls every parked connection. When one completes its header, hangs
// up or reaches its deadline, the thread opens one connection to the
// listener's own address (for AF_UNIX, its path) and closes it after
// writing a v2 LOCAL header. The event loop sees the listener readable and
// calls accept(); the library recognises the wake-up connection by its
// source address, closes it, and returns the parked connection instead.
#pragma once

#include <sys/socket.h>

namespace proxyproto::waker {

// Starts the thread once; later calls cost one atomic load.
void ensure_running() noexcept;

// Tells a running waker thread that a connection was just parked, so that
// it watches it at once rather than at its next round.
void notice_parked() noexcept;

// True, and forgets it, when a connection from `peer` is one of this
// process's wake-up connections. Costs one relaxed load when none is
// outstanding.
bool is_wakeup(const sockaddr_storage &peer, socklen_t peer_len) noexcept;

}  // namespace proxyproto::waker
