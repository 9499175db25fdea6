// The C library's two names for a call whose arguments hold a time_t, on a
// target whose time_t was 32 bits (i386, armhf, armel, ...). There glibc
// (2.34 and later) has both the old function (ppoll: 32-bit timespec) and
// a 64-bit one (__ppoll64), and a program built with -D_TIME_BITS=64 (the
// default of Debian's compilers on armhf and armel) calls the second. An
// interposer must define both names, and bind to the real function whose
// layout it passes on. On a target with a 64-bit time_t (all 64-bit ones)
// there is one name, and nothing here is used.
//
// The library itself is built with either layout: `native` is the one it
// was compiled with, the functions under the other name ("other") convert.
#pragma once

#include <sys/time.h>
#include <time.h>

#include <cstdint>

namespace proxyproto::time_layouts {

// glibc's own test, from <features-time64.h>.
#if defined(__TIMESIZE) && __TIMESIZE == 32
inline constexpr bool two_names = true;
#else
inline constexpr bool two_names = false;
#endif

// The name of the function that takes this library's own layout: what
// glibc's headers map `ppoll` to when compiling it (dlsym knows nothing of
// the headers' asm names, so the look-ups must say it).
#ifdef __USE_TIME_BITS64
#define PP_NATIVE_TIME_NAME(old_name, new_name) new_name
#define PP_OTHER_TIME_NAME(old_name, new_name) old_name
#else
#define PP_NATIVE_TIME_NAME(old_name, new_name) old_name
#define PP_OTHER_TIME_NAME(old_name, new_name) new_name
#endif

// The other layout's structures: the old 32-bit ones when the library is
// built with a 64-bit time_t, else glibc's __timespec64 and __timeval64.
#ifdef __USE_TIME_BITS64
struct other_timespec {
  int32_t tv_sec;
  int32_t tv_nsec;
};
struct other_timeval {
  int32_t tv_sec;
  int32_t tv_usec;
};
#else
struct other_timespec {
  int64_t tv_sec;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  int32_t padding;
  int32_t tv_nsec;
#else
  int32_t tv_nsec;
  int32_t padding;
#endif
};
struct other_timeval {
  int64_t tv_sec;
  int64_t tv_usec;
};
#endif

// Seconds from the other layout to this one: a timeout beyond what a 32-bit
// time_t holds (68 years) is clamped to its largest value.
template <typename To, typename From>
constexpr To clamped(From v) noexcept {
  if constexpr (sizeof(To) < sizeof(From)) {
    constexpr From top = static_cast<From>(INT32_MAX);
    constexpr From bottom = static_cast<From>(INT32_MIN);
    if (v > top) return static_cast<To>(top);
    if (v < bottom) return static_cast<To>(bottom);
  }
  return static_cast<To>(v);
}

inline timespec to_native(const other_timespec &t) noexcept {
  timespec n{};
  n.tv_sec = clamped<time_t>(t.tv_sec);
  n.tv_nsec = static_cast<decltype(n.tv_nsec)>(t.tv_nsec);
  return n;
}

inline other_timespec to_other(const timespec &n) noexcept {
  other_timespec t{};
  t.tv_sec = clamped<decltype(t.tv_sec)>(n.tv_sec);
  t.tv_nsec = static_cast<int32_t>(n.tv_nsec);
  return t;
}

inline timeval to_native(const other_timeval &t) noexcept {
  timeval n{};
  n.tv_sec = clamped<time_t>(t.tv_sec);
  n.tv_usec = static_cast<decltype(n.tv_usec)>(t.tv_usec);
  return n;
}

inline other_timeval to_other(const timeval &n) noexcept {
  other_timeval t{};
  t.tv_sec = clamped<decltype(t.tv_sec)>(n.tv_sec);
  t.tv_usec = static_cast<decltype(t.tv_usec)>(n.tv_usec);
  return t;
}

}  // namespace proxyproto::time_layouts
