#include "runtime/log.h"

#include <dlfcn.h>
#include <errno.h>
#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>


namespace proxyproto {

namespace {

constinit std::atomic<bool> debug_on{false};
constinit std::atomic<const char *> log_tag{"libproxyproto"};

// program_invocation_short_name, looked up when a line is written rather
// than imported: an imported variable is bound when the library is loaded,
// in every process, and debug lines are rare.
const char *program_name() noexcept {
  auto *name = static_cast<const char *const *>(
      dlsym(RTLD_DEFAULT, "program_invocation_short_name"));
  return name != nullptr && *name != nullptr ? *name : "?";
}

}  // namespace

void set_debug_logging(bool on) noexcept {
  debug_on.store(on, std::memory_order_relaxed);
}

bool debug_logging() noexcept {
  return debug_on.load(std::memory_order_relaxed);
}

void set_log_tag(const char *tag) noexcept {
  log_tag.store(tag, std::memory_order_relaxed);
}

void log_line(const char *function, const char *format, ...) noexcept {
  const int saved_errno = errno;
  char line[512];
  int n = std::snprintf(line, sizeof line, "%s[%s:%ld] %s: ",
                        log_tag.load(std::memory_order_relaxed),
                        program_name(),
                        static_cast<long>(getpid()), function);
  if (n < 0) n = 0;
  size_t used = static_cast<size_t>(n) < sizeof line ? static_cast<size_t>(n)
                                                     : sizeof line - 1;
  va_list args;
  va_start(args, format);
  n = std::vsnprintf(line + used, sizeof line - used, format, args);
  va_end(args);
  if (n > 0) used += static_cast<size_t>(n);
  // Keep room for the newline even when the message was cut.
  if (used > sizeof line - 1) used = sizeof line - 1;
  line[used++] = '\n';
  ssize_t ignored = write(STDERR_FILENO, line, used);
  (void)ignored;
  errno = saved_errno;
}

}  // namespace proxyproto
