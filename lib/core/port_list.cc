#include "core/port_list.h"

#include <cstring>

#include "core/inet_text.h"

namespace proxyproto {

namespace {

constexpr bool is_blank(char c) { return c == ' ' || c == '\t'; }

// A listening port: 0 is never one (it means "any" to bind()).
bool parse_listening_port(const char *text, size_t len, uint16_t *out) noexcept {
  return parse_port_text(text, len, out) && *out != 0;
}

bool parse_item(const char *text, size_t len, port_list *list) noexcept {
  if (list->count == port_list_max_entries) return false;
  const char *dash = static_cast<const char *>(std::memchr(text, '-', len));
  port_range r{};
  if (dash == nullptr) {
    if (!parse_listening_port(text, len, &r.first)) return false;
    r.last = r.first;
  } else {
    const size_t first_len = static_cast<size_t>(dash - text);
    if (!parse_listening_port(text, first_len, &r.first) ||
        !parse_listening_port(dash + 1, len - first_len - 1, &r.last) ||
        r.last < r.first)
      return false;
  }
  list->entries[list->count++] = r;
  return true;
}

}  // namespace

bool parse_port_list(const char *text, size_t len, port_list *out) noexcept {
  std::memset(out, 0, sizeof *out);
  size_t start = 0;
  for (;;) {
    size_t end = start;
    while (end < len && text[end] != ',') ++end;
    size_t a = start, b = end;
    while (a < b && is_blank(text[a])) ++a;
    while (b > a && is_blank(text[b - 1])) --b;
    if (a == b || !parse_item(text + a, b - a, out)) {
      std::memset(out, 0, sizeof *out);
      return false;
    }
    if (end == len) return true;
    start = end + 1;
  }
}

bool port_list_contains(const port_list &list, uint16_t port) noexcept {
  for (size_t i = 0; i < list.count; ++i)
    if (port >= list.entries[i].first && port <= list.entries[i].last)
      return true;
  return false;
}

}  // namespace proxyproto
