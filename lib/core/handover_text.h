// The text by which a program hands its descriptors' records to the program
// it executes (LIBPROXYPROTO_HANDOVER). Pure: no system calls, no globals,
// no allocation; the runtime side (lib/exec/) collects and checks.
//
// Grammar (every number decimal, no sign, no leading zero):
//   value  = "v1" *( ";" entry )
//   entry  = fd "," device "," inode "," address "," port
//   address: a dotted IPv4 address (an AF_INET record) or an IPv6 address
//            in the canonical text form (an AF_INET6 record)
// e.g. "v1;0,8,123456,203.0.113.7,4321;1,8,123456,203.0.113.7,4321".
// device and inode are the socket's st_dev and st_ino: the receiving side
// attaches a record only to a descriptor that is that very socket.
// A value that breaks the grammar anywhere is rejected whole.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

namespace proxyproto {

struct handover_entry {
  int fd;
  uint64_t device;
  uint64_t inode;
  sockaddr_storage address;  // AF_INET or AF_INET6, as getpeername reports
  socklen_t length;
};

// The most entries one value carries; further descriptors get none.
inline constexpr size_t handover_max_entries = 64;
// The longest entry: fd (10) + 2 x 20 digits + IPv6 (45) + port (5) + 5
// separators.
inline constexpr size_t handover_entry_max = 10 + 20 + 20 + 45 + 5 + 5;
// The longest value, without its terminating NUL.
inline constexpr size_t handover_value_max =
    2 + handover_max_entries * handover_entry_max;

// Builds a value into a caller's buffer, entry by entry.
class handover_writer {
 public:
  // `out` holds at least handover_value_max + 1 bytes.
  explicit handover_writer(char *out) noexcept;
  // Appends an entry; false (nothing appended) when the address is neither
  // a plain AF_INET nor AF_INET6 sockaddr, fd is negative, or the value is
  // full.
  bool add(const handover_entry &entry) noexcept;
  size_t entries() const noexcept { return entries_; }
  // The NUL-terminated value.
  const char *text() const noexcept { return out_; }
  size_t length() const noexcept { return length_; }

 private:
  char *out_;
  size_t length_;
  size_t entries_;
};

// Reads a value of `len` bytes into out[0..capacity). Returns the number of
// entries, or -1 when the value is malformed or has more than `capacity`
// entries (then nothing may be used).
long parse_handover(const char *text, size_t len, handover_entry *out,
                    size_t capacity) noexcept;

}  // namespace proxyproto
