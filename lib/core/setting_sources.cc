#include "core/setting_sources.h"

#include <cstring>

#include "core/config_text.h"

namespace proxyproto {

namespace {

struct key_names {
  const char *file;
  const char *environment;
};

constexpr key_names names[setting_key_count] = {
    {"allow", "LIBPROXYPROTO_ALLOW"},
    {"ports", "LIBPROXYPROTO_PORTS"},
    {"timeout", "LIBPROXYPROTO_TIMEOUT"},
    {"version", "LIBPROXYPROTO_VERSION"},
    {"must_use_protocol_header", "LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER"},
    {"debug", "LIBPROXYPROTO_DEBUG"},
    {"programs", "LIBPROXYPROTO_PROGRAMS"},
    {"keep_header", "LIBPROXYPROTO_KEEP_HEADER"},
    {"getsockname", "LIBPROXYPROTO_GETSOCKNAME"},
    {"udp", "LIBPROXYPROTO_UDP"},
    {"udp_reply_entries", "LIBPROXYPROTO_UDP_REPLY_ENTRIES"},
    {"udp_reply_seconds", "LIBPROXYPROTO_UDP_REPLY_SECONDS"},
    {"inetd", "LIBPROXYPROTO_INETD"},
    {"io_uring", "LIBPROXYPROTO_IO_URING"},
};

bool find_file_key(const char *key, size_t len, size_t *index) noexcept {
  for (size_t i = 0; i < setting_key_count; ++i) {
    if (std::strlen(names[i].file) == len &&
        std::memcmp(names[i].file, key, len) == 0) {
      *index = i;
      return true;
    }
  }
  return false;
}

}  // namespace

const char *setting_file_name(setting_key key) noexcept {
  return names[static_cast<size_t>(key)].file;
}

const char *setting_environment_name(setting_key key) noexcept {
  return names[static_cast<size_t>(key)].environment;
}

config_file_result read_config_text(const char *text, size_t len,
                                    setting_sources *sources) noexcept {
  config_file_result result{config_file_problem::none, 0};
  auto note = [&result](config_file_problem problem, unsigned line) {
    if (result.problem == config_file_problem::none) result = {problem, line};
  };
  config_cursor cursor = config_text_begin(text, len);
  config_line line;
  for (;;) {
    switch (next_config_line(&cursor, &line)) {
      case config_line_status::end:
        return result;
      case config_line_status::malformed:
        note(config_file_problem::malformed_line, line.line_number);
        continue;
      case config_line_status::entry:
        break;
    }
    size_t index;
    if (!find_file_key(line.key, line.key_len, &index)) {
      note(config_file_problem::unknown_key, line.line_number);
      continue;
    }
    sources->file[index] = line.value_len == 0
                               ? setting_text{nullptr, 0}
                               : setting_text{line.value, line.value_len};
  }
}

setting_text effective_setting(const setting_sources &sources,
                               setting_key key) noexcept {
  const size_t i = static_cast<size_t>(key);
  if (sources.environment[i].is_set()) return sources.environment[i];
  return sources.file[i];
}

}  // namespace proxyproto
