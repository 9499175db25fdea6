// A datagram as the kernel put it into an application's iovecs: one logical
// buffer over several pieces. Used to look at the first bytes, to remove a
// header from the front, and to move a datagram between two messages of a
// recvmmsg() batch. No allocation.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

namespace proxyproto {

struct iov_span {
  const iovec *iov;
  size_t count;
};

size_t iov_capacity(iov_span s) noexcept;

// Copies the first min(len, capacity) bytes into out; returns how many.
size_t iov_gather(iov_span s, uint8_t *out, size_t len) noexcept;

// Moves bytes [skip, have) to [0, have - skip): the payload after a header.
void iov_drop_front(iov_span s, size_t skip, size_t have) noexcept;

// Copies the first `len` bytes of `from` into `to`, as many as fit;
// returns how many were copied.
size_t iov_copy(iov_span to, iov_span from, size_t len) noexcept;

}  // namespace proxyproto
