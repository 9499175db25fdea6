#include "core/config_text.h"

#include <cstring>

namespace proxyproto {

namespace {

constexpr bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

constexpr bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

void trim(const char **text, size_t *len) noexcept {
  while (*len > 0 && is_blank((*text)[0])) {
    ++*text;
    --*len;
  }
  while (*len > 0 && is_blank((*text)[*len - 1])) --*len;
}

}  // namespace

config_line_status next_config_line(config_cursor *cursor,
                                    config_line *line) noexcept {
  while (cursor->pos < cursor->len) {
    const char *start = cursor->text + cursor->pos;
    const size_t rest = cursor->len - cursor->pos;
    const char *newline = static_cast<const char *>(std::memchr(start, '\n', rest));
    size_t len = newline != nullptr ? static_cast<size_t>(newline - start) : rest;
    cursor->pos += newline != nullptr ? len + 1 : len;
    ++cursor->line_number;
    *line = config_line{nullptr, 0, nullptr, 0, cursor->line_number};

    // A NUL byte makes a line that C string functions would read differently.
    if (std::memchr(start, '\0', len) != nullptr) return config_line_status::malformed;
    if (const char *hash = static_cast<const char *>(std::memchr(start, '#', len)))
      len = static_cast<size_t>(hash - start);
    const char *text = start;
    trim(&text, &len);
    if (len == 0) continue;

    const char *equals = static_cast<const char *>(std::memchr(text, '=', len));
    if (equals == nullptr) return config_line_status::malformed;
    const char *key = text;
    size_t key_len = static_cast<size_t>(equals - text);
    trim(&key, &key_len);
    const char *value = equals + 1;
    size_t value_len = static_cast<size_t>(text + len - value);
    trim(&value, &value_len);
    if (key_len == 0) return config_line_status::malformed;
    for (size_t i = 0; i < key_len; ++i)
      if (!is_key_char(key[i])) return config_line_status::malformed;
    *line = config_line{key, key_len, value, value_len, cursor->line_number};
    return config_line_status::entry;
  }
  return config_line_status::end;
}

}  // namespace proxyproto
