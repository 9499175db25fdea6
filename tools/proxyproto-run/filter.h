// The seccomp filter the program runs under, built with libseccomp: it
// knows each architecture's system call numbers and audit arch, and on
// i386 and s390x it adds the socketcall() forms of the socket calls.
//
// Trapped (SECCOMP_RET_USER_NOTIF, answered by the supervisor): accept,
// accept4, getpeername, and getsockname when the `getsockname` setting is
// on. io_uring_setup fails with ENOSYS unless the `io_uring` setting
// allows it: an accept through io_uring would bypass the launcher.
// Everything else runs untouched. The program's compat architectures
// (i386 and x32 programs on x86-64) are covered too.
#pragma once

#include <linux/seccomp.h>

#include "notification.h"

namespace proxyproto::run {

struct filter_choice {
  bool trap_getsockname;
  bool allow_io_uring;
};

// Looks up the numbers of the trapped calls on each architecture, for
// decode_call(); once, before the child is started.
void learn_system_calls() noexcept;

// In the child, after PR_SET_NO_NEW_PRIVS: loads the filter and returns
// the notification descriptor, or -1 with a reason in *why (a static text)
// and errno.
int load_filter(const filter_choice &choice, const char **why) noexcept;

// What the notification asks, and its arguments (socketcall's read from
// the program's memory, checked against the notification): false when
// they could not be read (the caller is gone, or gave socketcall a bad
// pointer: *fault then).
bool decode_call(int notify_fd, const seccomp_notif &n, trapped_call *out,
                 bool *fault) noexcept;

}  // namespace proxyproto::run
