#include "address_answers.h"

#include <errno.h>
#include <unistd.h>

#include "address_records.h"
#include "core/sockaddr_convert.h"
#include "program_access.h"
#include "supervisor.h"

namespace proxyproto::run {

void trapped_address_call(const trapped_call &call) noexcept {
  const int notify = notify_descriptor();
  // No record at all (a program that only connects, or before its first
  // proxied client): the kernel answers, with no look at the descriptor.
  if (!any_claims()) {
    answer_continue(notify, call.id);
    return;
  }
  const int fd = program_descriptor(notify, call, call.fd);
  if (fd < 0) {
    answer_continue(notify, call.id);
    return;
  }
  const uint64_t cookie = socket_cookie(fd);
  const claimed_addresses *claim = cookie != 0 ? find_claim(cookie) : nullptr;
  sockaddr_storage shown;
  socklen_t shown_len = 0;
  if (claim != nullptr && call.kind == call_kind::getpeername) {
    shown = claim->peer;
    shown_len = claim->peer_len;
  } else if (claim != nullptr && call.kind == call_kind::getsockname && claim->local_len != 0) {
    // The destination, shown in the socket's own family (v4-mapped on an
    // AF_INET6 socket), as the library does.
    sockaddr_storage local;
    socklen_t local_len = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr *>(&local), &local_len) == 0) {
      ip_endpoint endpoint;
      const address_family family = sockaddr_to_endpoint(
          reinterpret_cast<const sockaddr *>(&claim->local), claim->local_len, &endpoint);
      shown_len = endpoint_to_sockaddr(family, endpoint, local.ss_family, &shown);
    }
  }
  close(fd);
  if (shown_len == 0) {
    answer_continue(notify, call.id);
    return;
  }
  int error = 0;
  switch (write_address(notify, call, shown, shown_len, &error)) {
    case access::ok:
      if (error != 0) answer_error(notify, call.id, error);
      else answer_value(notify, call.id, 0);
      return;
    case access::fault:
      answer_error(notify, call.id, EFAULT);
      return;
    case access::gone:
      return;
  }
}

}  // namespace proxyproto::run
