// Whether the library reads a PROXY header on a freshly accepted
// connection: the one decision of trust and scope, called by the accept
// flow before any byte is looked at.
#pragma once

#include <sys/socket.h>

#include "settings/server_settings.h"

namespace proxyproto {

enum class scope_decision {
  handle,        // read (and consume) the header as usual
  pass_through,  // leave the connection untouched: no byte read, real peer
  drop,          // close it unseen (an untrusted peer under must-use)
};

// `listener_fd` is the accepting socket, `peer` what the kernel's accept4()
// returned. Handled: TCP connections on a listener in `ports`, from a peer
// in `allow`; and AF_UNIX stream connections when `allow` holds the word
// `unix` and `ports` is not set. Passed through: the library inactive in
// this process, a listener outside `ports` and a Unix socket `allow` does
// not name (even under must-use: the administrator did not choose them),
// any other kind of socket, and an untrusted IP peer when the header is
// optional.
scope_decision connection_scope(int listener_fd, const sockaddr_storage &peer,
                                socklen_t peer_len) noexcept;

// The same with the settings at hand: a TCP connection when neither `ports`
// nor `allow` is set, the usual case, is answered with a few loads; every
// other case by the function above.
inline scope_decision connection_scope(const server_config &config, int listener_fd,
                                       const sockaddr_storage &peer,
                                       socklen_t peer_len) noexcept {
  if (config.every_tcp_peer &&
      (peer.ss_family == AF_INET || peer.ss_family == AF_INET6)) [[likely]]
    return scope_decision::handle;
  return connection_scope(listener_fd, peer, peer_len);
}

}  // namespace proxyproto
