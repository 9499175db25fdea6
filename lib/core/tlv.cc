#include "core/tlv.h"

namespace proxyproto {

bool tlv_cursor::next(tlv *out) noexcept {
  if (pos_ == end_) return false;
  const size_t remaining = static_cast<size_t>(end_ - pos_);
  // §2.2: type (1 byte), length (2 bytes, big endian), then the value.
  if (remaining < tlv_header_length) {
    truncated_ = true;
    return false;
  }
  const size_t length = static_cast<size_t>(pos_[1]) << 8 | pos_[2];
  if (remaining - tlv_header_length < length) {
    truncated_ = true;
    return false;
  }
  out->type = pos_[0];
  out->value = pos_ + tlv_header_length;
  out->length = length;
  pos_ += tlv_header_length + length;
  return true;
}

}  // namespace proxyproto
