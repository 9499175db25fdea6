// Strict text forms of IPv4/IPv6 addresses and decimal ports, as §2.1 of
// haproxy:doc/proxy-protocol.txt requires them, and their formatting.
// Pure functions on (pointer, length): no NUL terminator needed, no locale.
#pragma once

#include <cstddef>
#include <cstdint>

namespace proxyproto {

// Four decimal numbers 0-255 separated by single dots, no leading zeros.
bool parse_ipv4_text(const char *text, size_t len, uint8_t out[4]) noexcept;

// Groups of 1-4 hex digits separated by colons, at most one "::", an optional
// trailing dotted IPv4 (::ffff:1.2.3.4); exactly 128 bits. No zone index.
bool parse_ipv6_text(const char *text, size_t len, uint8_t out[16]) noexcept;

// 0-65535 in decimal, no leading zeros, no sign.
bool parse_port_text(const char *text, size_t len, uint16_t *out) noexcept;

// Formats an address; returns the length written (no NUL), or 0 when
// `capacity` is too small. IPv6 uses the RFC 5952 canonical form.
inline constexpr size_t ipv4_text_max = 15;
inline constexpr size_t ipv6_text_max = 45;
size_t format_ipv4(const uint8_t addr[4], char *out, size_t capacity) noexcept;
size_t format_ipv6(const uint8_t addr[16], char *out, size_t capacity) noexcept;
size_t format_decimal(uint32_t value, char *out, size_t capacity) noexcept;

}  // namespace proxyproto
