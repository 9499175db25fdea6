#include "accept/connection_scope.h"

#include <netinet/in.h>

#include <cstdint>

#include "core/address_list.h"
#include "core/port_list.h"
#include "core/proxy_header.h"
#include "runtime/log.h"
#include "runtime/real_calls.h"
#include "settings/server_settings.h"

namespace proxyproto {

namespace {

// The local port of an IP listener; false when it cannot be known.
bool listener_port(int listener_fd, uint16_t *port) noexcept {
  sockaddr_storage local;
  socklen_t len = sizeof local;
  if (real::getsockname(listener_fd, reinterpret_cast<sockaddr *>(&local), &len) != 0)
    return false;
  if (local.ss_family == AF_INET && len >= sizeof(sockaddr_in)) {
    *port = ntohs(reinterpret_cast<const sockaddr_in *>(&local)->sin_port);
    return true;
  }
  if (local.ss_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    *port = ntohs(reinterpret_cast<const sockaddr_in6 *>(&local)->sin6_port);
    return true;
  }
  return false;
}

bool peer_allowed(const address_list &allow, const sockaddr_storage &peer,
                  socklen_t peer_len) noexcept {
  if (peer.ss_family == AF_INET && peer_len >= sizeof(sockaddr_in)) {
    const auto *sin = reinterpret_cast<const sockaddr_in *>(&peer);
    return address_list_contains(
        allow, true, reinterpret_cast<const uint8_t *>(&sin->sin_addr));
  }
  if (peer.ss_family == AF_INET6 && peer_len >= sizeof(sockaddr_in6)) {
    const auto *sin6 = reinterpret_cast<const sockaddr_in6 *>(&peer);
    return address_list_contains(
        allow, false, reinterpret_cast<const uint8_t *>(&sin6->sin6_addr));
  }
  return false;
}

bool is_stream_socket(int fd) noexcept {
  int type = 0;
  socklen_t len = sizeof type;
  return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
         type == SOCK_STREAM;
}

scope_decision untrusted(const server_config &config) noexcept {
  if (config.must_use_header) {
    PP_DEBUG("dropped: peer not in allow and a header is required");
    return scope_decision::drop;
  }
  PP_DEBUG("passed through: peer not in allow");
  return scope_decision::pass_through;
}

}  // namespace

__attribute__((noinline)) scope_decision connection_scope(int listener_fd,
                                                          const sockaddr_storage &peer,
                                                          socklen_t peer_len) noexcept {
  const server_config &config = server_settings();
  if (!config.active || config.versions == accept_none)
    return scope_decision::pass_through;

  switch (peer.ss_family) {
    case AF_INET:
    case AF_INET6:
      if (config.ports_set) {
        uint16_t port = 0;
        if (!listener_port(listener_fd, &port) ||
            !port_list_contains(config.ports, port)) {
          PP_DEBUG("passed through: listener port %u not in ports", port);
          return scope_decision::pass_through;
        }
      }
      break;
    case AF_UNIX:
      // A Unix socket is in scope only when `allow` names it: multi-process
      // servers (Postfix, Dovecot) talk to themselves over Unix sockets
      // whose server speaks first, so waiting there for a header no one
      // sends would stall them, and a receiver must never guess. A Unix
      // socket not named is outside the configuration, like a listener
      // outside `ports`: passed through, even under must-use. `ports`
      // names TCP listeners only.
      if (!config.allow_set || !config.allow.unix_peers || config.ports_set ||
          !is_stream_socket(listener_fd))
        return scope_decision::pass_through;
      return scope_decision::handle;
    default:
      return scope_decision::pass_through;
  }
  if (config.allow_set && !peer_allowed(config.allow, peer, peer_len))
    return untrusted(config);
  return scope_decision::handle;
}

}  // namespace proxyproto
