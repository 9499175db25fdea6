#include "settings/setting_report.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "runtime/log.h"
#include "settings/captured_environment.h"
#include "runtime/real_calls.h"

namespace proxyproto {

void send_to_syslog(const char *message) noexcept {
  const int saved_errno = errno;
  char datagram[640];
  // RFC 3164 without a timestamp: the daemon adds its own.
  const int n = std::snprintf(datagram, sizeof datagram,
                              "<%d>libproxyproto[%ld]: %s: %s",
                              LOG_DAEMON | LOG_WARNING,
                              static_cast<long>(getpid()),
                              captured_program_name(), message);
  const int fd =
      socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd >= 0 && n > 0) {
    sockaddr_un to{};
    to.sun_family = AF_UNIX;
    std::memcpy(to.sun_path, "/dev/log", sizeof "/dev/log");
    const size_t len = static_cast<size_t>(n) < sizeof datagram
                           ? static_cast<size_t>(n)
                           : sizeof datagram - 1;
    const ssize_t sent = sendto(fd, datagram, len, MSG_DONTWAIT | MSG_NOSIGNAL,
                                reinterpret_cast<const sockaddr *>(&to),
                                sizeof to);
    (void)sent;
  }
  if (fd >= 0) real::close(fd);
  errno = saved_errno;
}

void report_setting_problem(bool to_stderr, const char *format, ...) noexcept {
  const int saved_errno = errno;
  char message[512];
  va_list args;
  va_start(args, format);
  const int n = std::vsnprintf(message, sizeof message, format, args);
  va_end(args);
  if (n < 0) message[0] = '\0';
  if (to_stderr) {
    log_line("settings", "%s", message);
  } else {
    send_to_syslog(message);
  }
  errno = saved_errno;
}

}  // namespace proxyproto
