// Starting the program under the filter, never without it.
//
// The launcher forks. The child asks to die with the launcher
// (PR_SET_PDEATHSIG, SIGKILL; and checks getppid() after, in case the
// launcher died first), sets PR_SET_NO_NEW_PRIVS (which lets an
// unprivileged process install a filter), loads the filter (filter.h),
// sends the notification descriptor to the launcher over a socket pair
// (SCM_RIGHTS), and waits for the launcher's word before it executes the
// program: the launcher first checks that it can answer (pidfd_getfd on
// the child, and SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SEND
// known to the kernel). Where any of it is missing (an old kernel, a
// container that forbids seccomp or pidfd_getfd), the child exits with
// 126 and a message, before the program ever runs.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include "filter.h"

namespace proxyproto::run {

struct launched {
  pid_t child = -1;
  int notify_fd = -1;
};

// Returns the running child and the notification descriptor, or a child of
// -1 after printing why (the launcher then exits with *status: 126, or
// the child's own status).
launched launch(char **command, const filter_choice &choice, const sigset_t &child_mask,
                int *status) noexcept;

}  // namespace proxyproto::run
