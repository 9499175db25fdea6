// The table is in .bss: a page of it is touched only when a descriptor in
// it is a UDP socket created under LIBPROXYPROTO_UDP, so a program that
// never asks pays nothing but the load of a zero byte. fork() copies it
// with the descriptors; exec() starts a new one (a UDP socket inherited
// across exec is not recognised: see README, LIMITATIONS).
#include "datagram/socket_states.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include "core/port_list.h"
#include "runtime/log.h"
#include "runtime/real_calls.h"
#include "settings/server_settings.h"

namespace proxyproto::udp_sockets {

constinit std::atomic<uint8_t> table[table_size] = {};

namespace {

// The highest descriptor ever marked: close_range(3, ~0U) walks no further.
constinit std::atomic<unsigned> highest{0};

void set(int fd, state s) noexcept {
  if (static_cast<unsigned>(fd) >= table_size) return;
  unsigned seen = highest.load(std::memory_order_relaxed);
  while (seen < static_cast<unsigned>(fd) &&
         !highest.compare_exchange_weak(seen, static_cast<unsigned>(fd),
                                        std::memory_order_relaxed)) {
  }
  table[fd].store(s, std::memory_order_relaxed);
}

}  // namespace

void created(int fd, int domain) noexcept {
  set(fd, domain == AF_INET6 ? undecided_inet6 : undecided_inet);
}

state decide(int fd, state current) noexcept {
  const bool six = current == undecided_inet6;
  const server_config &config = server_settings();
  sockaddr_storage local;
  socklen_t len = sizeof local;
  uint16_t port = 0;
  if (real::getsockname(fd, reinterpret_cast<sockaddr *>(&local), &len) == 0) {
    if (local.ss_family == AF_INET && len >= sizeof(sockaddr_in))
      port = ntohs(reinterpret_cast<const sockaddr_in *>(&local)->sin_port);
    else if (local.ss_family == AF_INET6 && len >= sizeof(sockaddr_in6))
      port = ntohs(reinterpret_cast<const sockaddr_in6 *>(&local)->sin6_port);
  }
  if (port == 0) return current;  // unbound: not in scope until it is
  const bool in_scope =
      !config.ports_set || port_list_contains(config.ports, port);
  const state decided = !in_scope ? none : six ? in_scope_inet6 : in_scope_inet;
  PP_DEBUG("UDP socket %d on port %u: %s", fd, port,
           in_scope ? "headers are removed" : "not in ports, untouched");
  // Only if no close() or dup2() changed the descriptor meanwhile.
  if (static_cast<unsigned>(fd) < table_size) {
    uint8_t expected = current;
    table[fd].compare_exchange_strong(expected, decided,
                                      std::memory_order_relaxed);
  }
  return decided;
}

void forget(int fd) noexcept {
  if (static_cast<unsigned>(fd) < table_size &&
      table[fd].load(std::memory_order_relaxed) != none)
    table[fd].store(none, std::memory_order_relaxed);
}

void forget_range(unsigned first, unsigned last) noexcept {
  const unsigned top = highest.load(std::memory_order_relaxed);
  if (first > top) return;
  if (last > top) last = top;
  for (unsigned fd = first; fd <= last; ++fd) forget(static_cast<int>(fd));
}

void copy(int from, int to) noexcept {
  if (static_cast<unsigned>(to) >= table_size) return;
  const state s = of(from);
  if (s != none)
    set(to, s);
  else
    forget(to);
}

}  // namespace proxyproto::udp_sockets
