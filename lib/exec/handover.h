// Records across exec: a descriptor that carried a PROXY header and stays
// open in the program a process executes keeps its record there.
//
// The executing side (prepare) adds one variable, LIBPROXYPROTO_HANDOVER, to
// the environment the new program gets, naming each inherited descriptor
// that has a record, the socket's identity (st_dev, st_ino) and the
// recorded address (core/handover_text.h). The new program's side (adopt,
// at load) takes the variable out of its environment, so the program never
// sees it, and attaches each record only to a descriptor that is that very
// socket: a number reused by another socket, a stale or a forged value
// gets nothing. In a set-user-ID, set-group-ID or file-capability program
// (AT_SECURE) the variable is removed and ignored.
#pragma once

#include <cstddef>

#include "core/handover_text.h"

namespace proxyproto::exec_handover {

inline constexpr char variable_name[] = "LIBPROXYPROTO_HANDOVER";
inline constexpr size_t variable_name_len = sizeof variable_name - 1;

// Whether an environment entry is "LIBPROXYPROTO_HANDOVER=...". Compared by
// hand: the load-time side runs at every program's start, where the library
// calls no libc function, and the first byte rules out nearly every entry.
inline bool is_handover_entry(const char *entry) noexcept {
  for (size_t i = 0; i < variable_name_len; ++i)
    if (entry[i] != variable_name[i]) return false;
  return entry[variable_name_len] == '=';
}

// Room for the new program's environment, on the executing caller's stack
// (an exec after vfork() must not allocate): the variable and, for the
// usual environment, the pointer array. A bigger environment gets its
// array mapped, and unmapped here if the exec fails.
class child_environment {
 public:
  child_environment() noexcept = default;
  ~child_environment();
  child_environment(const child_environment &) = delete;
  child_environment &operator=(const child_environment &) = delete;

  // The environment to pass instead of `envp`: `envp` itself, at the cost
  // of one load, when no descriptor of this process has a record; else a
  // copy without any LIBPROXYPROTO_HANDOVER of its own, plus the variable
  // for the records of descriptors that stay open (not close-on-exec).
  char *const *prepare(char *const *envp) noexcept;

 private:
  static constexpr size_t inline_slots = 512;
  char variable_[variable_name_len + 1 + handover_value_max + 1];
  char *slots_[inline_slots];
  char **mapped_ = nullptr;
  size_t mapped_bytes_ = 0;
};

// At load, before anything reads the environment: removes every
// LIBPROXYPROTO_HANDOVER entry from `environment` (in place) and, unless
// `secure`, attaches the records the only one names. More than one entry,
// or a malformed value, attaches nothing.
void adopt(char **environment, bool secure) noexcept;

// adopt() as the constructor calls it: AT_SECURE is asked (getauxval) only
// when an entry is there, so that a program without one pays a walk of its
// environment and no libc call.
void adopt_at_load(char **environment) noexcept;

}  // namespace proxyproto::exec_handover
