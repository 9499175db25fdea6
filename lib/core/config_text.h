// The configuration file's text: `key = value` lines and `#` comments.
// Pure: walks a buffer, allocates nothing, knows nothing of what keys mean.
//
//   # trusted proxies
//   allow = 10.0.0.0/8, unix   # comment to the end of the line
//   ports = 80
//
// Spaces and tabs around keys and values are ignored, so is a CR before the
// LF. A key is lower-case letters, digits and underscores. A value runs to
// the end of the line or to a `#`, which no value of any key contains; it
// may be empty, which counts as unset, as for an empty variable.
#pragma once

#include <cstddef>

namespace proxyproto {

struct config_line {
  const char *key;
  size_t key_len;
  const char *value;
  size_t value_len;
  unsigned line_number;  // from 1
};

enum class config_line_status {
  entry,      // *line holds the next key and value
  end,        // no more lines
  malformed,  // line_number of *line is a line without `=`, with a bad
              // key, or with a NUL byte; the cursor has moved past it
};

struct config_cursor {
  const char *text;
  size_t len;
  size_t pos;
  unsigned line_number;
};

constexpr config_cursor config_text_begin(const char *text, size_t len) {
  return config_cursor{text, len, 0, 0};
}

// The next entry, skipping blank and comment-only lines.
config_line_status next_config_line(config_cursor *cursor,
                                    config_line *line) noexcept;

}  // namespace proxyproto
