#include "settings/captured_environment.h"

#include <errno.h>
#include <unistd.h>

#include <cstring>

namespace proxyproto {

namespace {

constexpr char prefix[] = "LIBPROXYPROTO_";
constexpr size_t prefix_len = sizeof prefix - 1;

// Room for a long allow list or LD_PRELOAD; a short one for the rest.
constexpr size_t long_value_size = 4096;
constexpr size_t short_value_size = 256;
constexpr size_t program_name_size = 256;

struct slot {
  char *buffer;
  size_t size;
  size_t len;
  bool set;
  bool too_long;
};

constinit char allow_buffer[long_value_size];
constinit char ports_buffer[long_value_size];
constinit char programs_buffer[long_value_size];
constinit char timeout_buffer[short_value_size];
constinit char version_buffer[short_value_size];
constinit char must_use_buffer[short_value_size];
constinit char debug_buffer[short_value_size];
constinit char keep_header_buffer[short_value_size];
constinit char getsockname_buffer[short_value_size];
constinit char config_buffer[long_value_size];
constinit char preload_buffer[long_value_size];
constinit char program_buffer[program_name_size];

// Indexed by setting_key.
constinit slot setting_slots[setting_key_count] = {
    {allow_buffer, sizeof allow_buffer, 0, false, false},
    {ports_buffer, sizeof ports_buffer, 0, false, false},
    {timeout_buffer, sizeof timeout_buffer, 0, false, false},
    {version_buffer, sizeof version_buffer, 0, false, false},
    {must_use_buffer, sizeof must_use_buffer, 0, false, false},
    {debug_buffer, sizeof debug_buffer, 0, false, false},
    {programs_buffer, sizeof programs_buffer, 0, false, false},
    {keep_header_buffer, sizeof keep_header_buffer, 0, false, false},
    {getsockname_buffer, sizeof getsockname_buffer, 0, false, false},
};
constinit slot config_slot{config_buffer, sizeof config_buffer, 0, false, false};
constinit slot preload_slot{preload_buffer, sizeof preload_buffer, 0, false,
                            false};
constinit bool settings_present = false;
constinit bool secure_mode = false;

void reset(slot *s) noexcept {
  s->len = 0;
  s->set = false;
  s->too_long = false;
  s->buffer[0] = '\0';
}

// Copies `value` into the slot; an empty value leaves it unset. A value
// that does not fit is kept cut (for LD_PRELOAD's sake) and marked.
void store(slot *s, const char *value) noexcept {
  const size_t len = std::strlen(value);
  if (len == 0) return;
  s->set = true;
  s->too_long = len >= s->size;
  s->len = s->too_long ? s->size - 1 : len;
  std::memcpy(s->buffer, value, s->len);
  s->buffer[s->len] = '\0';
}

captured_value value_of(const slot &s) noexcept {
  if (!s.set) return captured_value{nullptr, 0, false};
  return captured_value{s.buffer, s.len, s.too_long};
}

// The value of "NAME=value" if NAME is `name` (of `len` bytes), else null.
const char *value_if_named(const char *entry, const char *name,
                           size_t len) noexcept {
  if (std::strncmp(entry, name, len) != 0 || entry[len] != '=') return nullptr;
  return entry + len + 1;
}

void capture_entry(const char *entry) noexcept {
  if (const char *v = value_if_named(entry, "LD_PRELOAD", 10)) {
    store(&preload_slot, v);
    return;
  }
  if (std::strncmp(entry, prefix, prefix_len) != 0) return;
  const char *equals = std::strchr(entry, '=');
  if (equals == nullptr) return;
  const size_t name_len = static_cast<size_t>(equals - entry);
  const char *value = equals + 1;
  static constexpr char config_name[] = "LIBPROXYPROTO_CONFIG";
  if (name_len == sizeof config_name - 1 &&
      std::memcmp(entry, config_name, name_len) == 0) {
    store(&config_slot, value);
    return;
  }
  // The hand-over across exec is not a setting: a program that inherited a
  // proxied connection is not thereby told to act on its own accepts.
  static constexpr char handover_name[] = "LIBPROXYPROTO_HANDOVER";
  if (name_len == sizeof handover_name - 1 &&
      std::memcmp(entry, handover_name, name_len) == 0)
    return;
  if (value[0] != '\0') settings_present = true;
  for (size_t i = 0; i < setting_key_count; ++i) {
    const char *name = setting_environment_name(static_cast<setting_key>(i));
    if (std::strlen(name) == name_len && std::memcmp(name, entry, name_len) == 0) {
      store(&setting_slots[i], value);
      return;
    }
  }
}

}  // namespace

void capture_environment(char **environment, const char *program,
                         bool secure) noexcept {
  const int saved_errno = errno;  // keep the caller's
  for (slot &s : setting_slots) reset(&s);
  reset(&config_slot);
  reset(&preload_slot);
  settings_present = false;
  secure_mode = secure;
  program_buffer[0] = '\0';
  if (program != nullptr) {
    const size_t len = std::strlen(program);
    if (len < sizeof program_buffer) std::memcpy(program_buffer, program, len + 1);
  }
  if (!secure && environment != nullptr)
    for (char **e = environment; *e != nullptr; ++e) capture_entry(*e);
  errno = saved_errno;
}

captured_value captured_setting(setting_key key) noexcept {
  return value_of(setting_slots[static_cast<size_t>(key)]);
}

captured_value captured_config_path() noexcept { return value_of(config_slot); }

captured_value captured_ld_preload() noexcept { return value_of(preload_slot); }

bool captured_settings_present() noexcept { return settings_present; }

bool captured_secure_mode() noexcept { return secure_mode; }

const char *captured_program_name() noexcept { return program_buffer; }

}  // namespace proxyproto
