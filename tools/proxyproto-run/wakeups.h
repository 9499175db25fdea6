// Wake-up connections: the supervisor's way of telling a program whose
// non-blocking accept() got EAGAIN that a connection is now ready for it.
// It connects to the listener itself, the program's poll/epoll sees the
// listener readable and calls accept() again; the supervisor accepts its
// own connection first, recognises it (TCP: by its source address; AF_UNIX:
// by SO_PEERCRED, the supervisor's own pid) and closes both ends. A
// wake-up is never handed to the program.
#pragma once

#include <sys/socket.h>

#include <cstdint>

namespace proxyproto::run {

// Connects to the listener `listener_fd` (a copy of the program's); false
// when its address cannot be reached.
bool send_wakeup(int listener_fd) noexcept;

// Whether the connection just accepted is one of the supervisor's
// wake-ups: if so, its other end is closed (the caller closes `fd`).
bool is_wakeup(int fd, const sockaddr_storage &peer, socklen_t peer_len) noexcept;

// Closes the wake-ups no accept() took within a few seconds.
void expire_wakeups(int64_t now) noexcept;
bool wakeups_pending() noexcept;

}  // namespace proxyproto::run
