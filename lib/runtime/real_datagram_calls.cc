#include "runtime/real_datagram_calls.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <ctime>

#include "runtime/time_layouts.h"

namespace proxyproto::real::detail {

constinit next_symbol<socket_fn> next_socket{"socket"};
constinit next_call<recvfrom_fn> next_recvfrom{
    "recvfrom", &next_call<recvfrom_fn>::first_call_of<next_recvfrom, raw_recvfrom>};
// recvmsg, recvmmsg, sendmsg and sendmmsg: the functions of this library's
// time_t (runtime/time_layouts.h), the ones whose control messages and
// timeout it passes on.
constinit next_call<recvmsg_fn> next_recvmsg{
    PP_NATIVE_TIME_NAME("recvmsg", "__recvmsg64"), &next_call<recvmsg_fn>::first_call_of<next_recvmsg, raw_recvmsg>};
constinit next_call<recvmmsg_fn> next_recvmmsg{
    PP_NATIVE_TIME_NAME("recvmmsg", "__recvmmsg64"), &next_call<recvmmsg_fn>::first_call_of<next_recvmmsg, raw_recvmmsg>};
constinit next_call<recv_fn> next_recv{
    "recv", &next_call<recv_fn>::first_call_of<next_recv, raw_recv>};
constinit next_call<read_fn> next_read{
    "read", &next_call<read_fn>::first_call_of<next_read, raw_read>};
constinit next_call<readv_fn> next_readv{
    "readv", &next_call<readv_fn>::first_call_of<next_readv, raw_readv>};
constinit next_symbol<sendto_fn> next_sendto{"sendto"};
constinit next_symbol<sendmsg_fn> next_sendmsg{PP_NATIVE_TIME_NAME("sendmsg", "__sendmsg64")};
constinit next_symbol<sendmmsg_fn> next_sendmmsg{PP_NATIVE_TIME_NAME("sendmmsg", "__sendmmsg64")};
constinit next_symbol<send_fn> next_send{"send"};
constinit next_symbol<write_fn> next_write{"write"};

int raw_socket(int domain, int type, int protocol) noexcept {
  return static_cast<int>(syscall(SYS_socket, domain, type, protocol));
}

ssize_t raw_recvfrom(int fd, void *buf, size_t len, int flags, sockaddr *addr,
                     socklen_t *addrlen) noexcept {
  return syscall(SYS_recvfrom, fd, buf, len, flags, addr, addrlen);
}

ssize_t raw_recvmsg(int fd, msghdr *msg, int flags) noexcept {
  return syscall(SYS_recvmsg, fd, msg, flags);
}

int raw_recvmmsg(int fd, mmsghdr *msgs, unsigned vlen, int flags,
                 timespec *timeout) noexcept {
#if defined(__USE_TIME_BITS64) && defined(SYS_recvmmsg_time64)
  return static_cast<int>(syscall(SYS_recvmmsg_time64, fd, msgs, vlen, flags, timeout));
#else
  return static_cast<int>(syscall(SYS_recvmmsg, fd, msgs, vlen, flags, timeout));
#endif
}

ssize_t raw_recv(int fd, void *buf, size_t len, int flags) noexcept {
  return raw_recvfrom(fd, buf, len, flags, nullptr, nullptr);
}

ssize_t raw_read(int fd, void *buf, size_t len) noexcept {
  return syscall(SYS_read, fd, buf, len);
}

ssize_t raw_readv(int fd, const iovec *iov, int iovcnt) noexcept {
  return syscall(SYS_readv, fd, iov, iovcnt);
}

ssize_t raw_sendto(int fd, const void *buf, size_t len, int flags,
                   const sockaddr *addr, socklen_t addrlen) noexcept {
  return syscall(SYS_sendto, fd, buf, len, flags, addr, addrlen);
}

ssize_t raw_sendmsg(int fd, const msghdr *msg, int flags) noexcept {
  return syscall(SYS_sendmsg, fd, msg, flags);
}

int raw_sendmmsg(int fd, mmsghdr *msgs, unsigned vlen, int flags) noexcept {
  return static_cast<int>(syscall(SYS_sendmmsg, fd, msgs, vlen, flags));
}

ssize_t raw_write(int fd, const void *buf, size_t len) noexcept {
  return syscall(SYS_write, fd, buf, len);
}

}  // namespace proxyproto::real::detail
