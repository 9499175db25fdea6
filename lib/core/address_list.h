// The `allow` setting: which real peers may send a PROXY header. A list of
// IPv4/IPv6 addresses and CIDR prefixes, plus the word `unix` for AF_UNIX
// peers, which have no address to match. Pure: fixed storage, no allocation.
#pragma once

#include <cstddef>
#include <cstdint>

namespace proxyproto {

inline constexpr size_t address_list_max_entries = 64;

struct address_prefix {
  uint8_t bytes[16];  // the network; only the first 4 are used for IPv4
  uint8_t bits;       // prefix length: 0..32 for IPv4, 0..128 for IPv6
  bool ipv4;
};

struct address_list {
  address_prefix entries[address_list_max_entries];
  size_t count;
  bool unix_peers;  // the list holds the word `unix`
};

// Parses "10.0.0.0/8, 192.0.2.1, 2001:db8::/32, unix": items separated by
// commas, spaces and tabs around items ignored. An address without a prefix
// length is a single host (/32 or /128). Fails, leaving *out empty (trusting
// nobody), on an empty item, a bad address, a prefix length out of range or
// with leading zeros, host bits set beyond the prefix (10.0.0.1/8 is almost
// always a typo, and guessing would widen trust), an IPv6 zone, or more than
// address_list_max_entries items.
bool parse_address_list(const char *text, size_t len,
                        address_list *out) noexcept;

// Whether the peer address is in the list. `ipv4` says whether `bytes` holds
// 4 (IPv4) or 16 (IPv6) bytes. An IPv4-mapped IPv6 peer (::ffff:a.b.c.d, as
// a dual-stack listener reports IPv4 clients) also matches IPv4 prefixes as
// a.b.c.d; it matches IPv6 prefixes by its 16 bytes as usual.
bool address_list_contains(const address_list &list, bool ipv4,
                           const uint8_t *bytes) noexcept;

}  // namespace proxyproto
