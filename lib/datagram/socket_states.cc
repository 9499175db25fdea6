// Whether a UDP socket's port is in scope once it is bound
// (records/udp_marks.h keeps the answer).
#include "datagram/socket_states.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include "core/port_list.h"
#include "runtime/log.h"
#include "runtime/real_calls.h"
#include "settings/server_settings.h"

namespace proxyproto::udp_sockets {

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
  if (std::atomic<uint8_t> *entry = table.find(fd)) {
    uint8_t expected = current;
    entry->compare_exchange_strong(expected, decided, std::memory_order_relaxed);
  }
  return decided;
}

}  // namespace proxyproto::udp_sockets
