// A page of the table is mapped only when a descriptor in it is a UDP
// socket created under LIBPROXYPROTO_UDP, so a program that never asks pays
// two loads (a null page pointer) per call. fork() copies it with the
// descriptors; exec() starts a new one (a UDP socket inherited across exec
// is not recognised: see README, LIMITATIONS).
#include "datagram/socket_states.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include "core/port_list.h"
#include "datagram/receive_entries.h"
#include "records/any_record.h"
#include "runtime/log.h"
#include "runtime/real_calls.h"
#include "settings/server_settings.h"

namespace proxyproto::udp_sockets {

constinit descriptor_table<std::atomic<uint8_t>> table;

namespace {

void set(int fd, state s) noexcept {
  // close() and dup*() look at the records only once something was noted.
  records::note_recording(records::other_kinds);
  if (!in_use()) {
    any_marked.store(true, std::memory_order_relaxed);
    // Before the socket is returned: no receive on it can come first.
    receive_entries::look_at_descriptors();
  }
  if (std::atomic<uint8_t> *entry = table.find_or_map(fd))
    entry->store(s, std::memory_order_relaxed);
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
  if (std::atomic<uint8_t> *entry = table.find(fd)) {
    uint8_t expected = current;
    entry->compare_exchange_strong(expected, decided, std::memory_order_relaxed);
  }
  return decided;
}

void forget_marked(int fd) noexcept {
  std::atomic<uint8_t> *entry = table.find(fd);
  if (entry != nullptr && entry->load(std::memory_order_relaxed) != none)
    entry->store(none, std::memory_order_relaxed);
}

void forget_range_marked(unsigned first, unsigned last) noexcept {
  table.for_range(first, last, [](int, std::atomic<uint8_t> &entry) {
    if (entry.load(std::memory_order_relaxed) != none)
      entry.store(none, std::memory_order_relaxed);
  });
}

void copy_marked(int from, int to) noexcept {
  const state s = of(from);
  if (s != none)
    set(to, s);
  else
    forget(to);
}

}  // namespace proxyproto::udp_sockets
