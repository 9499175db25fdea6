// The send side of UDP: a datagram the application sends on a socket in
// scope to a client it learnt from a header goes to the proxy that sent
// that header (see reply_map.h), payload unchanged. send() and write() on a
// connected socket, and every other destination, are left alone.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

namespace proxyproto::datagram {

ssize_t send_to(int fd, const void *buf, size_t len, int flags,
                const sockaddr *to, socklen_t to_len) noexcept;
ssize_t send_message(int fd, const msghdr *msg, int flags) noexcept;
int send_batch(int fd, mmsghdr *msgs, unsigned vlen, int flags) noexcept;

}  // namespace proxyproto::datagram
