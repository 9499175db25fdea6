#include "core/activation_rule.h"

#include <cstring>

namespace proxyproto {

namespace {

constexpr bool is_blank(char c) { return c == ' ' || c == '\t'; }

// Calls f(item, item_len) for each comma-separated item, trimmed; stops and
// returns true as soon as f does.
template <typename F>
bool any_item(const char *list, size_t len, F f) noexcept {
  size_t start = 0;
  for (;;) {
    size_t end = start;
    while (end < len && list[end] != ',') ++end;
    size_t a = start, b = end;
    while (a < b && is_blank(list[a])) ++a;
    while (b > a && is_blank(list[b - 1])) --b;
    if (f(list + a, b - a)) return true;
    if (end >= len) return false;
    start = end + 1;
  }
}

}  // namespace

bool library_should_act(const activation_facts &facts) noexcept {
  if (facts.programs_set) return facts.program_named;
  return facts.preload_names_library || facts.main_program_links_library ||
         facts.settings_in_environment;
}

bool names_server_library(const char *path, size_t len) noexcept {
  size_t base = len;
  while (base > 0 && path[base - 1] != '/') --base;
  const char *name = path + base;
  const size_t name_len = len - base;
  static constexpr char stem[] = "libproxyproto.so";
  constexpr size_t stem_len = sizeof stem - 1;
  if (name_len < stem_len || std::memcmp(name, stem, stem_len) != 0) return false;
  // ".0", ".0.0.0": a dot then digits, any number of times.
  bool after_dot = false;
  for (size_t i = stem_len; i < name_len; ++i) {
    const char c = name[i];
    if (c == '.' && !after_dot) {
      after_dot = true;
    } else if (c >= '0' && c <= '9') {
      if (i == stem_len) return false;
      after_dot = false;
    } else {
      return false;
    }
  }
  return !after_dot;
}

bool preload_list_names_library(const char *list, size_t len) noexcept {
  size_t start = 0;
  while (start < len) {
    size_t end = start;
    while (end < len && list[end] != ' ' && list[end] != ':' &&
           list[end] != '\t')
      ++end;
    if (end > start && names_server_library(list + start, end - start))
      return true;
    start = end + 1;
  }
  return false;
}

bool program_list_names(const char *list, size_t len,
                        const char *program) noexcept {
  const size_t program_len = std::strlen(program);
  if (program_len == 0) return false;
  return any_item(list, len, [&](const char *item, size_t item_len) {
    return item_len == program_len && std::memcmp(item, program, item_len) == 0;
  });
}

bool program_list_valid(const char *list, size_t len) noexcept {
  const bool has_empty = any_item(
      list, len, [](const char *, size_t item_len) { return item_len == 0; });
  return !has_empty;
}

}  // namespace proxyproto
