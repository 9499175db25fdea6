// The headers kept for applications that asked for them (the public
// proxyproto_get_header(), and getsockname() under LIBPROXYPROTO_GETSOCKNAME).
// Nothing is kept, mapped or locked unless keeping is on.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace proxyproto::kept_headers {

// Keeps, for `fd`, the destination address to report from getsockname()
// (destination_length 0: none) and, when `for_api`, a copy of the header
// bytes for proxyproto_get_header(). Replaces any earlier record. Returns false when nothing could be kept (fd out of range,
// fstat or mmap failed).
bool store(int fd, const uint8_t *bytes, size_t length,
           const sockaddr_storage &destination,
           socklen_t destination_length, bool for_api) noexcept;

// Copies fd's header into buf when it fits; returns its length, or -1 with
// errno ENOENT (no record, a record without the header's bytes, or one that
// belongs to an earlier connection that had the same number) or EBADF.
ssize_t copy(int fd, void *buf, size_t capacity) noexcept;

// fd's recorded destination; false when it has none.
bool destination(int fd, sockaddr_storage *addr, socklen_t *length) noexcept;

// Drops and unmaps fd's record: close(), and dup2()/dup3() targets. Costs
// two loads when fd has none.
void forget(int fd) noexcept;

// forget() for every descriptor from first to last: close_range().
void forget_range(unsigned first, unsigned last) noexcept;

}  // namespace proxyproto::kept_headers
