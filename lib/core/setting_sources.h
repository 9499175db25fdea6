// Where each setting of the server library comes from: the configuration
// file and the environment, the environment winning key by key. Pure: the
// texts stay where they are (the file buffer, the captured environment);
// only pointers and lengths are kept.
#pragma once

#include <cstddef>

namespace proxyproto {

enum class setting_key : unsigned {
  allow,
  ports,
  timeout,
  version,
  must_use_protocol_header,
  debug,
  programs,
  keep_header,
  getsockname,
  udp,
  udp_reply_entries,
  udp_reply_seconds,
  inetd,
  io_uring,
  count_,
};
inline constexpr size_t setting_key_count =
    static_cast<size_t>(setting_key::count_);

// The key's name in the file ("allow") and in the environment
// ("LIBPROXYPROTO_ALLOW").
const char *setting_file_name(setting_key key) noexcept;
const char *setting_environment_name(setting_key key) noexcept;

// A value's text; text == nullptr means unset. An empty value counts as
// unset, in the file as in the environment.
struct setting_text {
  const char *text;
  size_t len;
  constexpr bool is_set() const { return text != nullptr; }
};

struct setting_sources {
  setting_text file[setting_key_count];
  setting_text environment[setting_key_count];
};

inline setting_text &file_setting(setting_sources &s, setting_key k) {
  return s.file[static_cast<size_t>(k)];
}
inline setting_text &environment_setting_text(setting_sources &s, setting_key k) {
  return s.environment[static_cast<size_t>(k)];
}

// The first problem found in a configuration file.
enum class config_file_problem {
  none,
  malformed_line,  // no `=`, a bad key, or a NUL byte
  unknown_key,     // a key that is not one of setting_file_name's
};

struct config_file_result {
  config_file_problem problem;
  unsigned line_number;  // of the first problem
};

// Fills sources->file from the text of a configuration file. A later line
// for the same key replaces an earlier one. Every well-formed line with a
// known key is kept even when another line is bad; the caller decides what
// a bad file means (it fails closed, see config.cc).
config_file_result read_config_text(const char *text, size_t len,
                                    setting_sources *sources) noexcept;

// The value in force: the environment's if set, else the file's, else unset.
setting_text effective_setting(const setting_sources &sources,
                               setting_key key) noexcept;

}  // namespace proxyproto
