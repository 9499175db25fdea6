// One trapped system call, as the kernel reported it, and the ways of
// answering it: performed here (a value or an error), left to the kernel
// (SECCOMP_USER_NOTIF_FLAG_CONTINUE), or answered by installing a
// descriptor in the program (SECCOMP_IOCTL_NOTIF_ADDFD with
// SECCOMP_ADDFD_FLAG_SEND). Raw ioctls on the notification descriptor:
// libseccomp builds the filter (filter.h), but its notify helpers hide the
// errno that tells an abandoned call (ENOENT) from a failure.
#pragma once

#include <linux/seccomp.h>
#include <sys/types.h>

#include <cstdint>

namespace proxyproto::run {

// The call's arguments as the program passed them, whatever the way in:
// accept4(fd, addr, addrlen, flags) directly, or through socketcall() on
// the architectures that multiplex (i386, s390x), read from its array.
enum class call_kind : uint8_t { accept, getpeername, getsockname, other };

struct trapped_call {
  uint64_t id = 0;
  pid_t tid = 0;            // the calling thread, in the launcher's namespace
  call_kind kind = call_kind::other;
  int fd = -1;              // the program's descriptor
  uint64_t addr = 0;        // the program's struct sockaddr * (0: NULL)
  uint64_t addrlen = 0;     // the program's socklen_t *
  int flags = 0;            // accept4's SOCK_NONBLOCK | SOCK_CLOEXEC
};

// Sizes the kernel's structures have (SECCOMP_GET_NOTIF_SIZES), asked once.
bool notification_sizes_known() noexcept;

// Receives the next notification; false (errno set) if none could be
// read: ENOENT when its caller died or was interrupted meanwhile.
bool receive(int notify_fd, seccomp_notif *out) noexcept;

// Asks the kernel (6.6 and later) to switch straight from a trapped
// caller to the supervisor's thread waiting in receive(), and back, on the
// caller's CPU (SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP): a trapped call is a
// synchronous round trip, and without it each half is a wake-up of a task
// on another CPU. False where the kernel has no such flag (nothing lost).
bool ask_synchronous_wakeups(int notify_fd) noexcept;

// Whether the call is still waiting for its answer (ID_VALID): false once
// the caller was interrupted by a signal or died.
bool still_waiting(int notify_fd, uint64_t id) noexcept;

// The answers. Each returns 0, or -errno: -ENOENT when the call was
// abandoned meanwhile (its caller interrupted, or gone).
int answer_value(int notify_fd, uint64_t id, int64_t value) noexcept;
int answer_error(int notify_fd, uint64_t id, int error) noexcept;
int answer_continue(int notify_fd, uint64_t id) noexcept;
// Installs `fd` (the launcher's copy) in the caller with O_CLOEXEC when
// `cloexec`, and makes its number the call's return value, atomically.
int answer_with_descriptor(int notify_fd, uint64_t id, int fd, bool cloexec) noexcept;

// The notification buffer, sized for this kernel.
seccomp_notif *notification_buffer() noexcept;

}  // namespace proxyproto::run
