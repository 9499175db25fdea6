// Writing and reading the hand-over value (grammar in handover_text.h).
// The reader is strict because the value comes from whoever started the
// program: anything unexpected rejects the whole value, so that a partly
// understood value never attaches a record.
#include "core/handover_text.h"

#include <netinet/in.h>

#include <climits>
#include <cstring>

#include "core/inet_text.h"

namespace proxyproto {

namespace {

constexpr char version_tag[] = "v1";
constexpr size_t version_tag_len = sizeof version_tag - 1;

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// A decimal number of at most `max`, no sign, no leading zero, running to
// the end of [text, text + len). False on any other text.
bool parse_u64(const char *text, size_t len, uint64_t max,
               uint64_t *out) noexcept {
  if (len == 0 || len > 20) return false;
  if (len > 1 && text[0] == '0') return false;
  uint64_t value = 0;
  for (size_t i = 0; i < len; ++i) {
    if (!is_digit(text[i])) return false;
    const uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (value > (max - digit) / 10) return false;
    value = value * 10 + digit;
  }
  *out = value;
  return true;
}

// Writes `value` in decimal at out; returns its length.
size_t put_u64(uint64_t value, char *out) noexcept {
  char digits[20];
  size_t n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  for (size_t i = 0; i < n; ++i) out[i] = digits[n - 1 - i];
  return n;
}

// The address text of an entry, or 0 when it is not a plain AF_INET or
// AF_INET6 sockaddr; *port gets the port in host order.
size_t format_address(const handover_entry &e, char *out, size_t capacity,
                      uint16_t *port) noexcept {
  if (e.address.ss_family == AF_INET && e.length == sizeof(sockaddr_in)) {
    sockaddr_in sin;
    std::memcpy(&sin, &e.address, sizeof sin);
    uint8_t bytes[4];
    std::memcpy(bytes, &sin.sin_addr, 4);
    *port = ntohs(sin.sin_port);
    return format_ipv4(bytes, out, capacity);
  }
  if (e.address.ss_family == AF_INET6 && e.length == sizeof(sockaddr_in6)) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, &e.address, sizeof sin6);
    // Records made from headers never carry these; refuse what the reader
    // could not give back.
    if (sin6.sin6_flowinfo != 0 || sin6.sin6_scope_id != 0) return 0;
    uint8_t bytes[16];
    std::memcpy(bytes, &sin6.sin6_addr, 16);
    *port = ntohs(sin6.sin6_port);
    return format_ipv6(bytes, out, capacity);
  }
  return 0;
}

// Reads "a.b.c.d" or an IPv6 text into e->address.
bool parse_address(const char *text, size_t len, uint16_t port,
                   handover_entry *e) noexcept {
  std::memset(&e->address, 0, sizeof e->address);
  if (std::memchr(text, ':', len) == nullptr) {
    sockaddr_in sin{};
    uint8_t bytes[4];
    if (!parse_ipv4_text(text, len, bytes)) return false;
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    std::memcpy(&sin.sin_addr, bytes, 4);
    std::memcpy(&e->address, &sin, sizeof sin);
    e->length = sizeof sin;
    return true;
  }
  sockaddr_in6 sin6{};
  uint8_t bytes[16];
  if (!parse_ipv6_text(text, len, bytes)) return false;
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(port);
  std::memcpy(&sin6.sin6_addr, bytes, 16);
  std::memcpy(&e->address, &sin6, sizeof sin6);
  e->length = sizeof sin6;
  return true;
}

// Splits [text, end) at the next `sep` (or end); returns the field's end.
const char *field_end(const char *text, const char *end, char sep) noexcept {
  const void *p = std::memchr(text, sep, static_cast<size_t>(end - text));
  return p != nullptr ? static_cast<const char *>(p) : end;
}

bool parse_entry(const char *text, size_t len, handover_entry *e) noexcept {
  const char *end = text + len;
  const char *fields[5];
  size_t lengths[5];
  const char *p = text;
  for (size_t i = 0; i < 5; ++i) {
    const char *f = field_end(p, end, ',');
    if (i == 4 ? f != end : f == end) return false;
    fields[i] = p;
    lengths[i] = static_cast<size_t>(f - p);
    p = f + 1;
  }
  uint64_t fd = 0, port = 0;
  if (!parse_u64(fields[0], lengths[0], INT_MAX, &fd) ||
      !parse_u64(fields[1], lengths[1], UINT64_MAX, &e->device) ||
      !parse_u64(fields[2], lengths[2], UINT64_MAX, &e->inode) ||
      !parse_u64(fields[4], lengths[4], 65535, &port))
    return false;
  e->fd = static_cast<int>(fd);
  return parse_address(fields[3], lengths[3], static_cast<uint16_t>(port), e);
}

}  // namespace

handover_writer::handover_writer(char *out) noexcept
    : out_(out), length_(version_tag_len), entries_(0) {
  std::memcpy(out_, version_tag, version_tag_len + 1);
}

bool handover_writer::add(const handover_entry &e) noexcept {
  if (e.fd < 0 || entries_ == handover_max_entries) return false;
  char address[ipv6_text_max + 1];
  uint16_t port = 0;
  const size_t address_len = format_address(e, address, sizeof address, &port);
  if (address_len == 0) return false;
  char *p = out_ + length_;
  *p++ = ';';
  p += put_u64(static_cast<uint64_t>(e.fd), p);
  *p++ = ',';
  p += put_u64(e.device, p);
  *p++ = ',';
  p += put_u64(e.inode, p);
  *p++ = ',';
  std::memcpy(p, address, address_len);
  p += address_len;
  *p++ = ',';
  p += put_u64(port, p);
  *p = '\0';
  length_ = static_cast<size_t>(p - out_);
  ++entries_;
  return true;
}

long parse_handover(const char *text, size_t len, handover_entry *out,
                    size_t capacity) noexcept {
  if (text == nullptr || len < version_tag_len ||
      std::memcmp(text, version_tag, version_tag_len) != 0)
    return -1;
  const char *end = text + len;
  const char *p = text + version_tag_len;
  size_t count = 0;
  while (p != end) {
    if (*p != ';') return -1;
    ++p;
    const char *entry_end = field_end(p, end, ';');
    if (count == capacity) return -1;
    if (!parse_entry(p, static_cast<size_t>(entry_end - p), &out[count]))
      return -1;
    ++count;
    p = entry_end;
  }
  return static_cast<long>(count);
}

}  // namespace proxyproto
