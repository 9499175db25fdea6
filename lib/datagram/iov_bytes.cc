#include "datagram/iov_bytes.h"

#include <cstring>

namespace proxyproto {

namespace {

// A position in an iov_span: which piece, how far into it.
struct cursor {
  iov_span s;
  size_t piece = 0;
  size_t offset = 0;

  // Skips empty pieces; false at the end.
  bool settle() noexcept {
    while (piece < s.count && offset >= s.iov[piece].iov_len) {
      ++piece;
      offset = 0;
    }
    return piece < s.count;
  }
  uint8_t *at() const noexcept {
    return static_cast<uint8_t *>(s.iov[piece].iov_base) + offset;
  }
  size_t left_in_piece() const noexcept {
    return s.iov[piece].iov_len - offset;
  }
  void advance(size_t n) noexcept {
    offset += n;
  }
  void seek(size_t n) noexcept {
    while (n > 0 && settle()) {
      const size_t step = n < left_in_piece() ? n : left_in_piece();
      advance(step);
      n -= step;
    }
  }
};

size_t min3(size_t a, size_t b, size_t c) noexcept {
  const size_t m = a < b ? a : b;
  return m < c ? m : c;
}

}  // namespace

size_t iov_capacity(iov_span s) noexcept {
  size_t total = 0;
  for (size_t i = 0; i < s.count; ++i) total += s.iov[i].iov_len;
  return total;
}

size_t iov_gather(iov_span s, uint8_t *out, size_t len) noexcept {
  cursor c{s};
  size_t done = 0;
  while (done < len && c.settle()) {
    const size_t n = len - done < c.left_in_piece() ? len - done : c.left_in_piece();
    std::memcpy(out + done, c.at(), n);
    c.advance(n);
    done += n;
  }
  return done;
}

void iov_drop_front(iov_span s, size_t skip, size_t have) noexcept {
  if (skip == 0 || skip >= have) return;
  if (s.count > 0 && s.iov[0].iov_len >= have) {  // the usual single buffer
    auto *base = static_cast<uint8_t *>(s.iov[0].iov_base);
    std::memmove(base, base + skip, have - skip);
    return;
  }
  cursor dst{s};
  cursor src{s};
  src.seek(skip);
  size_t left = have - skip;
  while (left > 0 && dst.settle() && src.settle()) {
    const size_t n = min3(left, dst.left_in_piece(), src.left_in_piece());
    std::memmove(dst.at(), src.at(), n);
    dst.advance(n);
    src.advance(n);
    left -= n;
  }
}

size_t iov_copy(iov_span to, iov_span from, size_t len) noexcept {
  cursor dst{to};
  cursor src{from};
  size_t done = 0;
  while (done < len && dst.settle() && src.settle()) {
    const size_t n = min3(len - done, dst.left_in_piece(), src.left_in_piece());
    std::memmove(dst.at(), src.at(), n);
    dst.advance(n);
    src.advance(n);
    done += n;
  }
  return done;
}

}  // namespace proxyproto
