// getpeername() and getsockname() answered for the program: from the
// record of the socket (address_records.h), by its SO_COOKIE, when the
// supervisor handed it out with a claimed address; by the kernel
// (SECCOMP_USER_NOTIF_FLAG_CONTINUE) otherwise.
#pragma once

#include "notification.h"

namespace proxyproto::run {

void trapped_address_call(const trapped_call &call) noexcept;

}  // namespace proxyproto::run
