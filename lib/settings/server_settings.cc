// Loading the settings, once, on the first intercepted accept().
//
// Order: the configuration file (LIBPROXYPROTO_CONFIG, or the system file
// in secure mode and by default), then the captured environment on top, key
// by key. Then the activation rule decides whether the library acts in this
// process at all; only if it does are values checked and problems reported,
// so that a system-wide preload never logs on behalf of programs the
// administrator did not name.
//
// Failing closed: a configuration file that cannot be used (unreadable, too
// big, not a regular file, a malformed line, an unknown key) makes the
// library trust no proxy and serve no port; an invalid `allow` trusts
// nobody; an invalid `ports` matches nothing. Each is reported.
#include "settings/server_settings.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "core/activation_rule.h"
#include "core/proxy_header.h"
#include "core/setting_sources.h"
#include "core/setting_values.h"
#include "runtime/log.h"
#include "runtime/real_calls.h"
#include "runtime/real_datagram_calls.h"
#include "settings/captured_environment.h"
#include "settings/main_program.h"
#include "settings/setting_report.h"

#ifndef PP_SYSTEM_CONFIG
#define PP_SYSTEM_CONFIG "/etc/libproxyproto.conf"
#endif

namespace proxyproto {

namespace {

constinit server_config settings{default_versions,
                                 false,
                                 false,
                                 default_timeout_ms,
                                 false,
                                 false,
                                 {},
                                 false,
                                 {},
                                 false,
                                 false,
                                 false,
                                 false,
                                 default_udp_reply_entries,
                                 default_udp_reply_seconds,
                                 false,
                                 false};
constinit pthread_once_t settings_once = PTHREAD_ONCE_INIT;

// The file's text; one byte more for the NUL put after the last value.
constinit char file_text[config_file_max_bytes + 1];

enum class file_state { read, absent, unreadable, not_regular, too_big };

const char *file_state_text(file_state s) {
  switch (s) {
    case file_state::read: return "read";
    case file_state::absent: return "missing";
    case file_state::unreadable: return "unreadable";
    case file_state::not_regular: return "not a regular file";
    case file_state::too_big: return "larger than 65536 bytes";
  }
  return "?";
}

// Reads `path` into file_text. Never blocks on a FIFO (O_NONBLOCK) and
// accepts /dev/null as an empty file, so that tests and administrators can
// say "no file".
file_state read_config_file(const char *path, size_t *len) {
  *len = 0;
  const int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return errno == ENOENT ? file_state::absent : file_state::unreadable;
  file_state state = file_state::read;
  struct stat st;
  if (real::fstat(fd, &st) != 0) {
    state = file_state::unreadable;
  } else if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)) {
    state = file_state::read;  // /dev/null
  } else if (!S_ISREG(st.st_mode)) {
    state = file_state::not_regular;
  } else {
    for (;;) {
      const ssize_t n = real::read(fd, file_text + *len, sizeof file_text - *len);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        state = file_state::unreadable;
        break;
      }
      if (n == 0) break;
      *len += static_cast<size_t>(n);
      if (*len > config_file_max_bytes) {
        state = file_state::too_big;
        break;
      }
    }
  }
  real::close(fd);
  if (state != file_state::read) *len = 0;
  return state;
}

// Values in the file are not NUL-terminated; the byte after each is a
// blank, '#', CR, LF or the spare byte after the text, all of which may be
// overwritten once the whole file has been parsed.
void terminate_file_values(setting_sources *sources) {
  for (setting_text &t : sources->file)
    if (t.is_set()) const_cast<char *>(t.text)[t.len] = '\0';
}

const char *setting_label(setting_key key, const setting_sources &sources) {
  return sources.environment[static_cast<size_t>(key)].is_set()
             ? setting_environment_name(key)
             : setting_file_name(key);
}

void load_unsigned(setting_key key, const setting_sources &sources,
                   bool too_long, unsigned max, unsigned fallback,
                   unsigned *out) {
  *out = fallback;
  const setting_text t = effective_setting(sources, key);
  if (!t.is_set()) return;
  if (too_long || !parse_setting_unsigned(t.text, max, out)) {
    report_setting_problem(settings.debug,
                           "%s=\"%.64s\" is not a number from 0 to %u; using %u",
                           setting_label(key, sources), t.text, max, fallback);
    *out = fallback;
  }
}

// A flag (on unless "0"); a value too long to have been captured whole is
// reported and counts as off.
bool load_flag(setting_key key, const setting_sources &sources, bool too_long) {
  const setting_text t = effective_setting(sources, key);
  if (!t.is_set()) return false;
  if (too_long) {
    report_setting_problem(settings.debug, "%s=\"%.64s...\" is too long; off",
                           setting_label(key, sources), t.text);
    return false;
  }
  return setting_is_on(t.text);
}

void load_settings() noexcept {
  set_log_tag("libproxyproto");
  const bool secure = captured_secure_mode();

  // 1. The environment, as captured at load time.
  setting_sources sources{};
  bool too_long[setting_key_count] = {};
  for (size_t i = 0; i < setting_key_count; ++i) {
    const captured_value v = captured_setting(static_cast<setting_key>(i));
    if (v.text != nullptr) sources.environment[i] = setting_text{v.text, v.len};
    too_long[i] = v.too_long;
  }

  // 2. The file. In secure mode nothing was captured, so the system file
  //    is the only one.
  const captured_value chosen = captured_config_path();
  const bool named = chosen.text != nullptr && !chosen.too_long;
  const char *path = named ? chosen.text : PP_SYSTEM_CONFIG;
  size_t file_len = 0;
  file_state state = chosen.too_long ? file_state::unreadable
                                     : read_config_file(path, &file_len);
  config_file_result parsed{config_file_problem::none, 0};
  if (state == file_state::read) {
    parsed = read_config_text(file_text, file_len, &sources);
    terminate_file_values(&sources);
  }
  // The default file may be absent; a file the user named must exist.
  const bool file_ok = (state == file_state::read &&
                        parsed.problem == config_file_problem::none) ||
                       (state == file_state::absent && !named);

  // 3. Does the library act in this process?
  const setting_text programs = effective_setting(sources, setting_key::programs);
  const bool programs_ok =
      programs.is_set() && !too_long[static_cast<size_t>(setting_key::programs)] &&
      program_list_valid(programs.text, programs.len);
  char exe_name[256];
  const char *program = captured_program_name();
  if (secure) program = executable_base_name(exe_name, sizeof exe_name) ? exe_name : "";
  const captured_value preload = captured_ld_preload();
  activation_facts facts{};
  facts.programs_set = programs.is_set();
  facts.program_named =
      programs_ok && program_list_names(programs.text, programs.len, program);
  facts.preload_names_library =
      preload.text != nullptr && preload_list_names_library(preload.text, preload.len);
  facts.main_program_links_library = main_program_needs_library();
  facts.settings_in_environment = captured_settings_present();
  const bool asked = facts.preload_names_library ||
                     facts.main_program_links_library ||
                     facts.settings_in_environment;
  settings.active = library_should_act(facts);

  const setting_text debug = effective_setting(sources, setting_key::debug);
  const bool debug_on = debug.is_set() && setting_is_on(debug.text);
  if (!settings.active) {
    // Silent, unless this process asked for the library and a broken
    // `programs` is what keeps it out.
    if (asked && programs.is_set() && !programs_ok)
      report_setting_problem(debug_on,
                             "%s=\"%.64s\" is not a list of program names; "
                             "the library does nothing in %s",
                             setting_label(setting_key::programs, sources),
                             programs.text, program);
    settings.versions = accept_none;
    return;
  }

  // 4. The values, in an active process.
  settings.debug = debug_on;
  set_debug_logging(settings.debug);
  const setting_text must_use =
      effective_setting(sources, setting_key::must_use_protocol_header);
  settings.must_use_header = must_use.is_set() && setting_is_on(must_use.text);
  settings.keep_header =
      load_flag(setting_key::keep_header, sources,
                too_long[static_cast<size_t>(setting_key::keep_header)]);
  settings.getsockname =
      load_flag(setting_key::getsockname, sources,
                too_long[static_cast<size_t>(setting_key::getsockname)]);
  settings.inetd = load_flag(setting_key::inetd, sources,
                             too_long[static_cast<size_t>(setting_key::inetd)]);
  settings.io_uring = load_flag(setting_key::io_uring, sources,
                                too_long[static_cast<size_t>(setting_key::io_uring)]);
  load_unsigned(setting_key::version, sources,
                too_long[static_cast<size_t>(setting_key::version)], 3,
                default_versions, &settings.versions);
  const setting_text udp = effective_setting(sources, setting_key::udp);
  settings.udp = udp.is_set() && setting_is_on(udp.text);
  load_unsigned(setting_key::udp_reply_entries, sources,
                too_long[static_cast<size_t>(setting_key::udp_reply_entries)],
                max_udp_reply_entries, default_udp_reply_entries,
                &settings.udp_reply_entries);
  load_unsigned(setting_key::udp_reply_seconds, sources,
                too_long[static_cast<size_t>(setting_key::udp_reply_seconds)],
                max_udp_reply_seconds, default_udp_reply_seconds,
                &settings.udp_reply_seconds);
  load_unsigned(setting_key::timeout, sources,
                too_long[static_cast<size_t>(setting_key::timeout)],
                max_timeout_ms, default_timeout_ms, &settings.timeout_ms);

  const setting_text allow = effective_setting(sources, setting_key::allow);
  settings.allow_set = allow.is_set();
  if (allow.is_set() &&
      (too_long[static_cast<size_t>(setting_key::allow)] ||
       !parse_address_list(allow.text, allow.len, &settings.allow)))
    report_setting_problem(settings.debug,
                           "%s=\"%.64s\" is not a list of addresses and "
                           "prefixes; no proxy is trusted",
                           setting_label(setting_key::allow, sources), allow.text);

  const setting_text ports = effective_setting(sources, setting_key::ports);
  settings.ports_set = ports.is_set();
  if (ports.is_set() &&
      (too_long[static_cast<size_t>(setting_key::ports)] ||
       !parse_port_list(ports.text, ports.len, &settings.ports)))
    report_setting_problem(settings.debug,
                           "%s=\"%.64s\" is not a list of ports; no port is "
                           "served", setting_label(setting_key::ports, sources),
                           ports.text);

  if (!file_ok) {
    if (state != file_state::read)
      report_setting_problem(settings.debug,
                             "configuration file %s is %s; no proxy is trusted",
                             path, file_state_text(state));
    else
      report_setting_problem(
          settings.debug, "configuration file %s, line %u: %s; no proxy is trusted",
          path, parsed.line_number,
          parsed.problem == config_file_problem::unknown_key
              ? "unknown key"
              : "not a \"key = value\" line");
    settings.allow_set = true;
    std::memset(&settings.allow, 0, sizeof settings.allow);
    settings.ports_set = true;
    std::memset(&settings.ports, 0, sizeof settings.ports);
  }

  settings.every_tcp_peer = !settings.allow_set && !settings.ports_set;

  PP_DEBUG("version mask %u, must use header %s, timeout %u ms, allow %s "
           "(%zu prefixes%s), ports %s (%zu ranges), udp %s (%u replies, %u s)",
           settings.versions, settings.must_use_header ? "yes" : "no",
           settings.timeout_ms, settings.allow_set ? "set" : "unset",
           settings.allow.count, settings.allow.unix_peers ? ", unix" : "",
           settings.ports_set ? "set" : "unset", settings.ports.count,
           settings.udp ? "on" : "off", settings.udp_reply_entries,
           settings.udp_reply_seconds);
}

}  // namespace

// Asked on every accept: once loaded, one acquire load of this pointer
// (pthread_once's own fast path is a call into libc and more).
constinit std::atomic<const server_config *> settings_detail::loaded{nullptr};
constinit std::atomic<const server_config *> settings_detail::accepting{nullptr};

__attribute__((noinline)) const server_config &settings_detail::load() noexcept {
  pthread_once(&settings_once, load_settings);
  if (settings.versions != accept_none) accepting.store(&settings, std::memory_order_release);
  loaded.store(&settings, std::memory_order_release);
  return settings;
}

}  // namespace proxyproto
