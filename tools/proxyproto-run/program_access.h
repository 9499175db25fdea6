// Reaching into the program on behalf of a trapped call: its memory (the
// addr and addrlen arguments) and its descriptors (pidfd_getfd).
//
// Every access is checked against the notification (SECCOMP_IOCTL_NOTIF_ID_VALID),
// as seccomp_unotify(2) prescribes: the thread named by the notification
// may have died, and its number been reused, between the kernel's report
// and this access. A read is checked after it (a call still waiting then
// proves that what was read was its own), a write just before it (and the
// answer that follows, SEND or ADDFD, fails with ENOENT if the call went
// away meanwhile); a read followed by a write needs one check between
// them, which write_address uses: one ID_VALID per answered address.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>

#include "notification.h"

namespace proxyproto::run {

// Result of an access: ok, the program's pointer was bad (the call gets
// EFAULT, as from the kernel), or the call is gone (nothing to answer).
enum class access { ok, fault, gone };

// Copies `len` bytes from the program's address `where` (process_vm_readv),
// checked as above.
access read_program(int notify_fd, const trapped_call &call, uint64_t where, void *to,
                    size_t len) noexcept;

// Writes an address where the program's accept(), getpeername() or
// getsockname() expects it, as the kernel would: *addrlen read, at most
// that many bytes of `address` copied to addr, its full length written
// back to *addrlen. A negative *addrlen is EINVAL (returned as -EINVAL in
// *error with access::ok).
access write_address(int notify_fd, const trapped_call &call, const sockaddr_storage &address,
                     socklen_t address_len, int *error) noexcept;

// A copy of the program's descriptor `fd` in the launcher (close it after
// use), or -1 with errno: EBADF if the program has no such descriptor,
// ESRCH if the calling thread is gone. Thread by thread, a pidfd is opened
// once and kept (PIDFD_THREAD where the kernel has it: it dies with its
// thread, so a reused thread number never reaches another process).
int program_descriptor(int notify_fd, const trapped_call &call, int fd) noexcept;

// Forgets every pidfd of threads that are gone (called now and then).
void forget_gone_threads() noexcept;

}  // namespace proxyproto::run
