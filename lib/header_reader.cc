// Reading a header with the fewest system calls and never a byte too many.
//
// Fast path (the header arrived with the connection, as §2.2 asks senders to
// ensure): one recv(MSG_PEEK) shows the bytes, the parser says "complete,
// N bytes", one recv() of exactly N bytes removes them. The application's
// first read then starts at its own first byte.
//
// Slow path (the header is split over segments, or late): poll() until more
// bytes arrive or the deadline passes. Peeked bytes stay queued, so a plain
// poll() would wake at once forever; SO_RCVLOWAT is raised to one byte more
// than already seen, so poll() wakes only on progress, and restored after.
//
// Big headers (v2 with large TLVs, up to 16 + 65535 bytes): once the 16
// fixed bytes announce a total larger than the stack buffer, a buffer of
// exactly that size is mmap()ed for this connection and unmapped before
// returning; memory per connection is bounded by the protocol's maximum.
#include "header_reader.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/mman.h>
#include <time.h>

#include <cstdint>

#include "core/inet_text.h"
#include "core/proxy_header.h"
#include "core/sockaddr_convert.h"
#include "header_hooks.h"  // issue 7
#include "runtime/log.h"

namespace proxyproto {

namespace {

// Enough for any v1 line and the usual v2 header with a few TLVs.
constexpr size_t stack_buffer_size = 256;

int64_t now_ms() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// A buffer that is the stack array until a bigger one is needed.
class header_buffer {
 public:
  header_buffer() noexcept = default;
  header_buffer(const header_buffer &) = delete;
  header_buffer &operator=(const header_buffer &) = delete;
  ~header_buffer() {
    if (mapped_ != nullptr) munmap(mapped_, size_);
  }

  uint8_t *data() noexcept { return mapped_ != nullptr ? mapped_ : small_; }
  size_t size() const noexcept { return size_; }

  bool grow(size_t size) noexcept {
    if (size <= size_) return true;
    if (mapped_ != nullptr) munmap(mapped_, size_);
    void *mem = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mapped_ = mem == MAP_FAILED ? nullptr : static_cast<uint8_t *>(mem);
    size_ = mapped_ != nullptr ? size : sizeof small_;
    return mapped_ != nullptr;
  }

 private:
  uint8_t small_[stack_buffer_size];
  uint8_t *mapped_ = nullptr;
  size_t size_ = sizeof small_;
};

// Restores the socket's SO_RCVLOWAT if the slow path changed it.
class receive_low_water {
 public:
  explicit receive_low_water(int fd) noexcept : fd_(fd) {}
  receive_low_water(const receive_low_water &) = delete;
  receive_low_water &operator=(const receive_low_water &) = delete;
  ~receive_low_water() {
    if (changed_)
      setsockopt(fd_, SOL_SOCKET, SO_RCVLOWAT, &original_, sizeof original_);
  }

  void require(size_t bytes) noexcept {
    if (!changed_) {
      socklen_t len = sizeof original_;
      if (getsockopt(fd_, SOL_SOCKET, SO_RCVLOWAT, &original_, &len) != 0)
        original_ = 1;
      changed_ = true;
    }
    const int value = static_cast<int>(bytes);
    setsockopt(fd_, SOL_SOCKET, SO_RCVLOWAT, &value, sizeof value);
  }

 private:
  int fd_;
  int original_ = 1;
  bool changed_ = false;
};

enum class wait_result { more, hangup, timeout, error };

// Waits until more than `have` bytes are queued, the peer hangs up, or the
// deadline passes. `stalled` says the last wake-up brought no new byte (the
// kernel may cap SO_RCVLOWAT below what was asked): then it sleeps a little
// instead of spinning.
wait_result wait_for_more(int fd, size_t have, bool stalled, int64_t deadline,
                          receive_low_water *low_water) noexcept {
  constexpr int64_t stall_pause_ms = 10;
  if (have > 0) low_water->require(have + 1);
  for (;;) {
    int64_t left = deadline - now_ms();
    if (left <= 0) return wait_result::timeout;
    if (stalled) {
      if (left > stall_pause_ms) left = stall_pause_ms;
      poll(nullptr, 0, static_cast<int>(left));
      return wait_result::more;
    }
    pollfd p{fd, POLLIN | POLLRDHUP, 0};
    const int rc = poll(&p, 1, static_cast<int>(left));
    if (rc > 0) {
      return (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) ? wait_result::hangup
                                                          : wait_result::more;
    }
    if (rc == 0) return wait_result::timeout;
    if (errno != EINTR) return wait_result::error;
  }
}

// Removes exactly `length` bytes, already known to be queued.
bool consume(int fd, uint8_t *buf, size_t length) noexcept {
  size_t done = 0;
  while (done < length) {
    const ssize_t n = recv(fd, buf + done, length - done, MSG_DONTWAIT);
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return false;
    }
  }
  return true;
}

header_outcome no_header(const server_config &config, const char *why) noexcept {
  if (config.must_use_header) {
    PP_DEBUG("dropped: %s and a header is required", why);
    return header_outcome::drop;
  }
  PP_DEBUG("passed through: %s", why);
  return header_outcome::real_peer;
}

header_outcome use_header(const header &h, int listener_family,
                          sockaddr_storage *source,
                          socklen_t *source_len) noexcept {
  // §2.1 UNKNOWN, §2.2 LOCAL and AF_UNSPEC/AF_UNIX/DGRAM: consumed, but the
  // real endpoints stand, as for a direct connection.
  if (h.cmd != command::proxy || h.proto != transport::stream ||
      (h.family != address_family::inet && h.family != address_family::inet6)) {
    PP_DEBUG("v%u header without a TCP source: real peer kept", h.version);
    return header_outcome::real_peer;
  }
  *source_len = endpoint_to_sockaddr(h.family, h.source, listener_family, source);
  if (debug_logging()) {
    char text[ipv6_text_max + 1];
    const size_t n = h.family == address_family::inet
                         ? format_ipv4(h.source.address, text, sizeof text - 1)
                         : format_ipv6(h.source.address, text, sizeof text - 1);
    text[n] = '\0';
    PP_DEBUG("v%u header consumed (%zu bytes): source %s port %u", h.version,
             h.length, text, h.source.port);
  }
  return header_outcome::proxied;
}

}  // namespace

header_outcome read_proxy_header(int fd, const server_config &config,
                                 int listener_family,
                                 sockaddr_storage *source,
                                 socklen_t *source_len) noexcept {
  header_buffer buffer;
  receive_low_water low_water(fd);
  int64_t deadline = -1;  // computed on the first wait only
  size_t seen = 0;        // bytes queued at the previous look
  bool hung_up = false;   // the peer has shut down its side

  for (;;) {
    const ssize_t n = recv(fd, buffer.data(), buffer.size(),
                           MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) {
      PP_DEBUG("dropped: peek failed (errno %d)", errno);
      return header_outcome::drop;
    }
    const size_t got = n > 0 ? static_cast<size_t>(n) : 0;

    header h;
    const parse_result r = parse_header(buffer.data(), got, config.versions, &h);
    switch (r.status) {
      case parse_status::complete:
        if (!consume(fd, buffer.data(), r.length)) {
          PP_DEBUG("dropped: could not read the %zu header bytes", r.length);
          return header_outcome::drop;
        }
        // issue 7 hook: the complete header is consumed (kept / logged).
        on_header_consumed(fd, buffer.data(), r.length, h);
        return use_header(h, listener_family, source, source_len);
      case parse_status::not_proxy:
        return no_header(config, "no PROXY header");
      case parse_status::invalid:
        PP_DEBUG("dropped: invalid header: %s", defect_name(r.why));
        return header_outcome::drop;
      case parse_status::need_more:
        break;
    }

    // The peer shut down and nothing more will come.
    if (n == 0 || (hung_up && got == seen)) {
      if (got == 0) return no_header(config, "peer closed before sending");
      PP_DEBUG("dropped: peer closed inside a header (%zu bytes)", got);
      return header_outcome::drop;
    }
    // A v2 header larger than the buffer: size the buffer to it and peek
    // again before waiting (the rest may well be queued already).
    if (got == buffer.size()) {
      const size_t total = v2_total_length(buffer.data(), got);
      if (total > buffer.size()) {
        if (!buffer.grow(total)) {
          PP_DEBUG("dropped: no memory for a %zu-byte header", total);
          return header_outcome::drop;
        }
        continue;
      }
    }
    const bool stalled = deadline >= 0 && got == seen;
    if (deadline < 0) deadline = now_ms() + config.timeout_ms;
    seen = got;
    switch (wait_for_more(fd, got, stalled, deadline, &low_water)) {
      case wait_result::more:
        continue;
      case wait_result::hangup:
        hung_up = true;
        continue;
      case wait_result::timeout:
        if (got == 0) return no_header(config, "nothing received in time");
        PP_DEBUG("dropped: header incomplete after %u ms (%zu bytes)",
                 config.timeout_ms, got);
        return header_outcome::drop;
      case wait_result::error:
        PP_DEBUG("dropped: poll failed (errno %d)", errno);
        return header_outcome::drop;
    }
  }
}

}  // namespace proxyproto
