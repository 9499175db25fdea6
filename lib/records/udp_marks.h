// Which descriptors are UDP sockets the library handles: one byte per
// descriptor number, so that every read(), recv*() and send*() of a
// program can tell at the cost of one load whether it has anything to do.
// A program with no UDP socket in scope (UDP is off by default) finds 0
// for every descriptor and goes straight to the C library. A record like
// the others: close(), dup*() and accept() keep it true of the number
// (lib/datagram/socket_states.h decides what a new UDP socket is).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "records/descriptor_table.h"

namespace proxyproto::udp_sockets {

enum state : uint8_t {
  none = 0,           // not a UDP socket the library handles
  undecided_inet,     // created under LIBPROXYPROTO_UDP, port not known yet
  undecided_inet6,
  in_scope_inet,      // bound to a port in `ports` (or any, without it)
  in_scope_inet6,
};

// The shared descriptor table of lib/records: a page of it is mapped only
// when a UDP socket is created under LIBPROXYPROTO_UDP.
extern descriptor_table<std::atomic<uint8_t>> table;

// Whether any UDP socket was ever marked: accept() and close() of a
// program without one skip the table altogether.
inline constinit std::atomic<bool> any_marked{false};

inline bool in_use() noexcept {
  return any_marked.load(std::memory_order_relaxed);
}

inline state of(int fd) noexcept {
  const std::atomic<uint8_t> *entry = table.find(fd);
  if (entry == nullptr) return none;
  return static_cast<state>(entry->load(std::memory_order_relaxed));
}

// Marks fd as a UDP socket in state `s` (socket_states.h decides which).
void mark(int fd, state s) noexcept;

// close, dup2/dup3 over a descriptor, close_range; dup*: the copy is the
// same socket. A load and a branch until a UDP socket was ever marked.
void forget_marked(int fd) noexcept;
void forget_range_marked(unsigned first, unsigned last) noexcept;
void copy_marked(int from, int to) noexcept;

inline void forget(int fd) noexcept {
  if (in_use()) [[unlikely]] forget_marked(fd);
}
inline void forget_range(unsigned first, unsigned last) noexcept {
  if (in_use()) [[unlikely]] forget_range_marked(first, last);
}
inline void copy(int from, int to) noexcept {
  if (in_use()) [[unlikely]] copy_marked(from, to);
}

}  // namespace proxyproto::udp_sockets
