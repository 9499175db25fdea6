#include "settings/captured_environment.h"

#include <errno.h>
#include <sys/auxv.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "runtime/real_calls.h"

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
constinit char udp_buffer[short_value_size];
constinit char udp_reply_entries_buffer[short_value_size];
constinit char udp_reply_seconds_buffer[short_value_size];
constinit char inetd_buffer[short_value_size];
constinit char io_uring_buffer[short_value_size];
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
    {udp_buffer, sizeof udp_buffer, 0, false, false},
    {udp_reply_entries_buffer, sizeof udp_reply_entries_buffer, 0, false, false},
    {udp_reply_seconds_buffer, sizeof udp_reply_seconds_buffer, 0, false, false},
    {inetd_buffer, sizeof inetd_buffer, 0, false, false},
    {io_uring_buffer, sizeof io_uring_buffer, 0, false, false},
};
constinit slot config_slot{config_buffer, sizeof config_buffer, 0, false, false};
constinit slot preload_slot{preload_buffer, sizeof preload_buffer, 0, false,
                            false};
constinit bool settings_present = false;

// Secure-execution mode, asked of getauxval(AT_SECURE) when first needed
// rather than at load: a process that never accepts never asks. Until then
// the copy is taken as if the mode were off, and every accessor below
// answers "unset" when it turns out to be on, so that a privileged program
// never acts on what its caller put in the environment.
enum secure_state : uint8_t { secure_unknown, secure_off, secure_on };
constinit std::atomic<uint8_t> secure_mode{secure_unknown};

bool secure() noexcept {
  uint8_t mode = secure_mode.load(std::memory_order_relaxed);
  if (mode == secure_unknown) {
    const int saved_errno = errno;  // getauxval sets it for a missing entry
    // Unknown (getauxval not found): secure, so that nothing is trusted.
    mode = real::getauxval(AT_SECURE, 1) != 0 ? secure_on : secure_off;
    errno = saved_errno;
    secure_mode.store(mode, std::memory_order_relaxed);  // the same for all
  }
  return mode == secure_on;
}

// The capture runs in every process the library is preloaded into, before
// main(): it calls no libc function but getauxval(), so that no lazily bound
// import has to be resolved at start-up (see configure.ac), and it tells
// the few entries of interest from the rest by their first bytes.

// Whether `entry` starts with the `n` bytes of `word`.
bool starts_with(const char *entry, const char *word, size_t n) noexcept {
  for (size_t i = 0; i < n; ++i)
    if (entry[i] != word[i]) return false;  // stops at entry's NUL too
  return true;
}

// Copies the C string `from` into `to` (capacity bytes, at least one), cut
// to fit and NUL-terminated; returns the bytes copied, and whether it was
// cut. (A loop that knows its count up front would become a memcpy call.)
size_t copy_text(char *to, size_t capacity, const char *from,
                 bool *cut) noexcept {
  const size_t limit = capacity - 1;
  size_t n = 0;
  for (; n < limit; ++n) {
    const char c = from[n];
    if (c == '\0') break;
    to[n] = c;
  }
  to[n] = '\0';
  *cut = from[n] != '\0';
  return n;
}

void reset(slot *s) noexcept {
  s->len = 0;
  s->set = false;
  s->too_long = false;
  s->buffer[0] = '\0';
}

// Copies `value` into the slot; an empty value leaves it unset. A value
// that does not fit is kept cut (for LD_PRELOAD's sake) and marked.
void store(slot *s, const char *value) noexcept {
  if (value[0] == '\0') return;
  s->set = true;
  s->len = copy_text(s->buffer, s->size, value, &s->too_long);
}

captured_value value_of(const slot &s) noexcept {
  if (!s.set) return captured_value{nullptr, 0, false};
  return captured_value{s.buffer, s.len, s.too_long};
}

void capture_entry(const char *entry) noexcept {
  if (entry[0] != 'L') return;  // neither LD_PRELOAD nor LIBPROXYPROTO_*
  if (starts_with(entry, "LD_PRELOAD=", 11)) {
    store(&preload_slot, entry + 11);
    return;
  }
  if (!starts_with(entry, prefix, prefix_len)) return;
  size_t name_len = prefix_len;
  while (entry[name_len] != '=' && entry[name_len] != '\0') ++name_len;
  if (entry[name_len] != '=') return;
  const char *value = entry + name_len + 1;
  static constexpr char config_name[] = "LIBPROXYPROTO_CONFIG";
  if (name_len == sizeof config_name - 1 &&
      starts_with(entry, config_name, name_len)) {
    store(&config_slot, value);
    return;
  }
  // The hand-over across exec is not a setting: a program that inherited a
  // proxied connection is not thereby told to act on its own accepts.
  static constexpr char handover_name[] = "LIBPROXYPROTO_HANDOVER";
  if (name_len == sizeof handover_name - 1 &&
      starts_with(entry, handover_name, name_len))
    return;
  if (value[0] != '\0') settings_present = true;
  for (size_t i = 0; i < setting_key_count; ++i) {
    const char *name = setting_environment_name(static_cast<setting_key>(i));
    if (starts_with(entry, name, name_len) && name[name_len] == '\0') {
      store(&setting_slots[i], value);
      return;
    }
  }
}

// The program's short name as glibc derives program_invocation_short_name
// from argv[0]: what follows its last slash.
const char *short_name(int argc, char **argv) noexcept {
  if (argc < 1 || argv == nullptr || argv[0] == nullptr) return "";
  const char *name = argv[0];
  for (const char *p = argv[0]; *p != '\0'; ++p)
    if (*p == '/') name = p + 1;
  return name;
}

void capture(char **environment, const char *program) noexcept {
  for (slot &s : setting_slots) reset(&s);
  reset(&config_slot);
  reset(&preload_slot);
  settings_present = false;
  program_buffer[0] = '\0';
  if (program != nullptr) {
    bool cut = false;
    copy_text(program_buffer, sizeof program_buffer, program, &cut);
    if (cut) program_buffer[0] = '\0';  // a name that does not fit: none
  }
  if (environment != nullptr)
    for (char **e = environment; *e != nullptr; ++e) capture_entry(*e);
}

}  // namespace

void capture_loaded_environment(int argc, char **argv, char **envp) noexcept {
  capture(envp, short_name(argc, argv));
}

void capture_environment(char **environment, const char *program,
                         bool secure) noexcept {
  secure_mode.store(secure ? secure_on : secure_off, std::memory_order_relaxed);
  capture(secure ? nullptr : environment, program);
}

captured_value captured_setting(setting_key key) noexcept {
  if (secure()) return value_of(slot{});
  return value_of(setting_slots[static_cast<size_t>(key)]);
}

captured_value captured_config_path() noexcept {
  if (secure()) return value_of(slot{});
  return value_of(config_slot);
}

captured_value captured_ld_preload() noexcept {
  if (secure()) return value_of(slot{});
  return value_of(preload_slot);
}

bool captured_settings_present() noexcept { return !secure() && settings_present; }

void note_explicit_request() noexcept { settings_present = true; }

bool captured_secure_mode() noexcept { return secure(); }

const char *captured_program_name() noexcept { return program_buffer; }

}  // namespace proxyproto
