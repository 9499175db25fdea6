// The `ports` setting: the local ports whose listeners the library serves.
// Pure: fixed storage, no allocation.
#pragma once

#include <cstddef>
#include <cstdint>

namespace proxyproto {

inline constexpr size_t port_list_max_entries = 64;

struct port_range {
  uint16_t first;
  uint16_t last;  // inclusive; equal to first for a single port
};

struct port_list {
  port_range entries[port_list_max_entries];
  size_t count;
};

// Parses "80, 443, 8000-8099": items separated by commas, spaces and tabs
// around items ignored; each a port 1..65535 in decimal without leading
// zeros, or a range FIRST-LAST with FIRST <= LAST. Fails, leaving *out empty
// (matching nothing), on an empty item, port 0, a bad number, a reversed
// range, or more than port_list_max_entries items.
bool parse_port_list(const char *text, size_t len, port_list *out) noexcept;

bool port_list_contains(const port_list &list, uint16_t port) noexcept;

}  // namespace proxyproto
