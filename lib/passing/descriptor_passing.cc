#include "passing/descriptor_passing.h"

#include <errno.h>

#include <cstring>

#include "records/kept_headers.h"
#include "records/passed_mailbox.h"
#include "records/peer_addresses.h"
#include "settings/header_features.h"
#include "settings/server_settings.h"

namespace proxyproto::descriptor_passing {

namespace {

// Calls fn(fd) for each descriptor of msg's SCM_RIGHTS messages. The
// descriptors are copied out: CMSG_DATA need not be aligned for an int.
template <typename Fn>
void for_each_passed(const msghdr *msg, Fn fn) noexcept {
  for (const cmsghdr *c = CMSG_FIRSTHDR(msg); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr *>(msg), const_cast<cmsghdr *>(c))) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
        c->cmsg_len < CMSG_LEN(0))
      continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const unsigned char *data = CMSG_DATA(c);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, data + i * sizeof(int), sizeof fd);
      fn(fd);
    }
  }
}

}  // namespace

void before_send(const msghdr *msg) noexcept {
  if (msg->msg_control == nullptr || msg->msg_controllen < sizeof(cmsghdr)) return;
  const int saved_errno = errno;
  for_each_passed(msg, [](int fd) {
    passed_mailbox::record r;
    socklen_t len = sizeof r.peer;
    if (!peer_addresses::lookup(fd, &r.peer, &len)) return;
    r.peer_len = len;
    r.destination_len = 0;
    socklen_t destination_len = sizeof r.destination;
    if (kept_headers::destination(fd, &r.destination, &destination_len))
      r.destination_len = destination_len;
    passed_mailbox::post(passed_mailbox::cookie_of(fd), r);
  });
  errno = saved_errno;
}

void after_receive(const msghdr *msg) noexcept {
  if (msg->msg_control == nullptr || msg->msg_controllen < sizeof(cmsghdr) ||
      !server_settings().active)
    return;
  const int saved_errno = errno;
  for_each_passed(msg, [](int fd) {
    passed_mailbox::record r;
    if (passed_mailbox::find(passed_mailbox::cookie_of(fd), &r)) {
      peer_addresses::store(fd, r.peer, r.peer_len);
      static constexpr uint8_t no_header_bytes[1] = {0};
      if (r.destination_len != 0 && getsockname_reports_destination())
        kept_headers::store(fd, no_header_bytes, 0, r.destination, r.destination_len,
                            false);
      return;
    }
    // A number the kernel just gave out holds no record of ours.
    peer_addresses::forget(fd);
    kept_headers::forget(fd);
  });
  errno = saved_errno;
}

}  // namespace proxyproto::descriptor_passing
