// The server library's copy of its environment, taken when the library is
// loaded. Daemons such as nginx clear or rebuild their environment before
// their workers accept; settings given to the master must still hold in the
// workers, so the settings are read from this copy, never from getenv().
//
// The copy is taken by the library's one constructor (lib/interpose/load.cc)
// and allocates nothing, performs no I/O, prints nothing and calls no libc
// function: it walks the environment once and copies the values of
// interest into fixed static buffers. In a
// set-user-ID, set-group-ID or file-capability program (getauxval(AT_SECURE),
// asked on first use) none of the copy is ever used: the environment
// belongs to the caller, who must not steer a privileged program, so only
// the system configuration file counts there.
#pragma once

#include <cstddef>

#include "core/setting_sources.h"

namespace proxyproto {

struct captured_value {
  const char *text;  // null when unset or empty
  size_t len;
  bool too_long;     // set, but longer than its buffer: unusable
};

// A LIBPROXYPROTO_* setting as captured.
captured_value captured_setting(setting_key key) noexcept;

// LIBPROXYPROTO_CONFIG as captured.
captured_value captured_config_path() noexcept;

// LD_PRELOAD as captured (possibly cut at its buffer's size: only used to
// look for the library's name).
captured_value captured_ld_preload() noexcept;

// Whether any LIBPROXYPROTO_* variable other than LIBPROXYPROTO_CONFIG was
// set (non-empty), including ones this library does not read.
bool captured_settings_present() noexcept;

// The launcher, proxyproto-run, is itself the request to act on the
// program it runs: after capture_environment(), it says so here, and
// captured_settings_present() is then true (as if a LIBPROXYPROTO_*
// variable were set), so that the activation rule (core/activation_rule.h)
// needs no variable; `programs`, when set, still has the last word.
void note_explicit_request() noexcept;

// Whether the process runs in secure-execution mode (AT_SECURE).
bool captured_secure_mode() noexcept;

// program_invocation_short_name as it was at load time: programs such as
// nginx overwrite argv[0], which that name points into, to set their title.
const char *captured_program_name() noexcept;

// Takes the copy at load, from the constructor's arguments: glibc passes a
// shared object's constructors main()'s arguments and environment, which
// spares the imports of environ and program_invocation_short_name.
void capture_loaded_environment(int argc, char **argv, char **envp) noexcept;

// Takes the copy again from `environment`. For tests; `secure` stands in
// for getauxval(AT_SECURE).
void capture_environment(char **environment, const char *program,
                         bool secure) noexcept;

}  // namespace proxyproto
