#include "notification.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

// The ioctl numbers of <linux/seccomp.h> are built with C casts.
#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wconversion"

namespace proxyproto::run {

namespace {

seccomp_notif_sizes sizes{};
seccomp_notif *request = nullptr;

int respond(int notify_fd, uint64_t id, int64_t value, int error, uint32_t flags) noexcept {
  // The kernel's structure may be larger than this program's: zeroed.
  union {
    seccomp_notif_resp fields;
    unsigned char bytes[512];
  } buffer{};
  if (sizes.seccomp_notif_resp > sizeof buffer) return -EINVAL;
  seccomp_notif_resp *resp = &buffer.fields;
  resp->id = id;
  resp->val = value;
  resp->error = error;
  resp->flags = flags;
  if (ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_SEND, resp) == 0) return 0;
  return -errno;
}

}  // namespace

bool notification_sizes_known() noexcept {
  if (request != nullptr) return true;
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) != 0) return false;
  size_t size = sizes.seccomp_notif;
  if (size < sizeof(seccomp_notif)) size = sizeof(seccomp_notif);
  request = static_cast<seccomp_notif *>(calloc(1, size));
  return request != nullptr;
}

seccomp_notif *notification_buffer() noexcept { return request; }

bool receive(int notify_fd, seccomp_notif *out) noexcept {
  std::memset(out, 0, sizes.seccomp_notif > sizeof *out ? sizes.seccomp_notif : sizeof *out);
  for (;;) {
    if (ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_RECV, out) == 0) return true;
    if (errno != EINTR) return false;
  }
}

bool ask_synchronous_wakeups(int notify_fd) noexcept {
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
  return ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) == 0;
}

bool still_waiting(int notify_fd, uint64_t id) noexcept {
  return ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

int answer_value(int notify_fd, uint64_t id, int64_t value) noexcept {
  return respond(notify_fd, id, value, 0, 0);
}

int answer_error(int notify_fd, uint64_t id, int error) noexcept {
  return respond(notify_fd, id, 0, -error, 0);
}

int answer_continue(int notify_fd, uint64_t id) noexcept {
  return respond(notify_fd, id, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
}

int answer_with_descriptor(int notify_fd, uint64_t id, int fd, bool cloexec) noexcept {
  seccomp_notif_addfd addfd{};
  addfd.id = id;
  addfd.flags = SECCOMP_ADDFD_FLAG_SEND;
  addfd.srcfd = static_cast<uint32_t>(fd);
  addfd.newfd = 0;
  addfd.newfd_flags = cloexec ? O_CLOEXEC : 0;
  if (ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd) >= 0) return 0;
  return -errno;
}

}  // namespace proxyproto::run
