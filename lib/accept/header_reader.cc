// Reading a header with the fewest system calls and never a byte too many.
//
// Fast path (the header arrived with the connection, as §2.2 asks senders to
// ensure): one recv(MSG_PEEK) shows the bytes, the parser says "complete,
// N bytes", one recv() of exactly N bytes removes them. The application's
// first read then starts at its own first byte.
//
// Anything else is answered without waiting: need_more (with the number of
// bytes seen), not_proxy, invalid or hangup. Waiting is the accept flow's
// business, so that one slow connection never holds up another.
//
// Big headers (v2 with large TLVs, up to 16 + 65535 bytes): once the 16
// fixed bytes announce a total larger than the stack buffer, a buffer of
// exactly that size is mmap()ed for this look and unmapped before
// returning; memory per look is bounded by the protocol's maximum.
#include "accept/header_reader.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/mman.h>

#include <cstdint>

#include "accept/consumed_header.h"
#include "core/inet_text.h"
#include "core/proxy_header.h"
#include "core/sockaddr_convert.h"
#include "runtime/log.h"
#include "runtime/real_datagram_calls.h"

// glibc exports poll() as a weak alias of __poll (GLIBC_2.2.5), which no
// interposer of poll() replaces.
extern "C" int __poll(pollfd *fds, nfds_t nfds, int timeout) noexcept;

namespace proxyproto {

namespace {


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
  uint8_t small_[detail::stack_buffer_size];
  uint8_t *mapped_ = nullptr;
  size_t size_ = sizeof small_;
};

// Removes exactly `length` bytes, already known to be queued.
bool consume(int fd, uint8_t *buf, size_t length) noexcept {
  size_t done = 0;
  while (done < length) {
    const ssize_t n = real::recv(fd, buf + done, length - done, MSG_DONTWAIT);
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

// With bytes queued but no header complete, only a zero-timeout poll tells
// whether the peer has also shut down (a peek shows the bytes, not the FIN).
// The C library's own name for it: poll() is the library's interposer
// (lib/interpose/wait.cc), which it must not call through its PLT.
bool peer_has_shut_down(int fd) noexcept {
  pollfd p{fd, POLLRDHUP, 0};
  return __poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}


}  // namespace

bool detail::consume_rest(int fd, uint8_t *buf, size_t length, ssize_t got) noexcept {
  if (got == 0 || (got < 0 && errno != EINTR)) return false;
  const size_t done = got > 0 ? static_cast<size_t>(got) : 0;
  return consume(fd, buf + done, length - done);
}

header_state detail::inspect_further(int fd, const server_config &config,
                                     int listener_family, bool consume_header,
                                     header_verdict *out, uint8_t *first,
                                     ssize_t n) noexcept {
  header_buffer buffer;
  // Set once a look has found the peer shut down: from then on every byte
  // it will ever send is queued, so one more look settles the connection.
  bool shut_down = false;
  bool peeked = true;  // `first` is this look's
  for (;;) {
    if (!peeked)
      n = real::recv(fd, buffer.data(), buffer.size(), MSG_PEEK | MSG_DONTWAIT);
    uint8_t *bytes = peeked ? first : buffer.data();
    const size_t size = peeked ? detail::stack_buffer_size : buffer.size();
    peeked = false;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) {
      PP_DEBUG("peek failed (errno %d)", errno);
      return header_state::error;
    }
    const size_t got = n > 0 ? static_cast<size_t>(n) : 0;
    out->seen = got;
    if (n == 0) return header_state::hangup;

    header h;
    const parse_result r = parse_header(bytes, got, config.versions, &h);
    switch (r.status) {
      case parse_status::complete: {
        if (!consume_header) return header_state::complete;
        // Into the buffer the bytes were peeked into: `h` points into them.
        if (!consume(fd, bytes, r.length)) {
          PP_DEBUG("could not read the %zu header bytes", r.length);
          return header_state::error;
        }
        detail::header_consumed(fd, bytes, r.length, h, listener_family, out);
        return header_state::complete;
      }
      case parse_status::not_proxy:
        return header_state::not_proxy;
      case parse_status::invalid:
        PP_DEBUG("invalid header: %s", defect_name(r.why));
        return header_state::invalid;
      case parse_status::need_more:
        break;
    }
    // A v2 header larger than the buffer: size the buffer to it and peek
    // again (the rest may well be queued already).
    if (got == size) {
      const size_t total = v2_total_length(bytes, got);
      if (total > buffer.size()) {
        if (!buffer.grow(total)) {
          PP_DEBUG("no memory for a %zu-byte header", total);
          return header_state::error;
        }
        continue;
      }
    }
    if (shut_down) return header_state::hangup;
    // The rest of the header may have arrived with the FIN between the peek
    // above and this poll: look again before calling it a cut header.
    if (got == 0 || !peer_has_shut_down(fd)) return header_state::need_more;
    shut_down = true;
  }
}

connection_fate fate_of_unsettled(header_state state, const header_verdict &verdict,
                                  const server_config &config,
                                  bool deadline_passed) noexcept {
  const char *no_header_reason = nullptr;
  switch (state) {
    case header_state::complete:  // fate_of() answers it inline
      return verdict.has_source ? connection_fate::proxied
                                : connection_fate::real_peer;
    case header_state::not_proxy:
      no_header_reason = "no PROXY header";
      break;
    case header_state::invalid:
    case header_state::error:
      PP_DEBUG("dropped: invalid header or socket error");
      return connection_fate::drop;
    case header_state::hangup:
      if (verdict.seen > 0) {
        PP_DEBUG("dropped: peer closed inside a header (%zu bytes)",
                 verdict.seen);
        return connection_fate::drop;
      }
      no_header_reason = "peer closed before sending";
      break;
    case header_state::need_more:
      if (!deadline_passed) return connection_fate::wait;
      if (verdict.seen > 0) {
        PP_DEBUG("dropped: header incomplete after %u ms (%zu bytes)",
                 config.timeout_ms, verdict.seen);
        return connection_fate::drop;
      }
      no_header_reason = "nothing received in time";
      break;
  }
  if (config.must_use_header) {
    PP_DEBUG("dropped: %s and a header is required", no_header_reason);
    return connection_fate::drop;
  }
  PP_DEBUG("passed through: %s", no_header_reason);
  return connection_fate::real_peer;
}

void expect_more_than(int fd, size_t seen, low_water *saved) noexcept {
  // Nothing seen yet: the socket's own mark (one byte, unless the
  // application raised it on the listener, whose connections inherit it)
  // already waits for the first bytes; left alone, it costs no call now and
  // none to restore. A raised mark only makes the first wake come later.
  if (seen == 0 && !saved->changed) return;
  if (!saved->changed) {
    socklen_t len = sizeof saved->original;
    if (getsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &saved->original, &len) != 0)
      saved->original = 1;
  }
  const int value = static_cast<int>(seen + 1);
  if (setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &value, sizeof value) == 0)
    saved->changed = true;
}

void restore_low_water(int fd, low_water *saved) noexcept {
  if (!saved->changed) return;
  setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &saved->original,
             sizeof saved->original);
  saved->changed = false;
}

}  // namespace proxyproto
