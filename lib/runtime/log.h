// The libraries' only output: one line on stderr per event, prefixed with
// the library, program name, pid and function:
//   libproxyproto[nginx:1234] accept: dropped: v1_bad_space
// Silent unless LIBPROXYPROTO_DEBUG is on, except for warnings about bad
// settings, which the user must see to know a fallback is in force.
#pragma once

namespace proxyproto {

void set_debug_logging(bool on) noexcept;
bool debug_logging() noexcept;

// Formats with vsnprintf into a stack buffer and writes it with one
// write(2); errno is preserved.
void log_line(const char *function, const char *format, ...) noexcept
    __attribute__((format(printf, 2, 3)));

// Set once per library, before any line is logged: "libproxyproto" or
// "libproxyproto_connect".
void set_log_tag(const char *tag) noexcept;

}  // namespace proxyproto

// A decision or error, shown only under LIBPROXYPROTO_DEBUG.
#define PP_DEBUG(...)                                                     \
  do {                                                                    \
    if (::proxyproto::debug_logging())                                    \
      ::proxyproto::log_line(__func__, __VA_ARGS__);                      \
  } while (0)

// A bad setting: always shown.
#define PP_WARN(...) ::proxyproto::log_line(__func__, __VA_ARGS__)
