// Descriptors passed between processes over AF_UNIX sockets (SCM_RIGHTS):
// Node.js's cluster module and pm2 accept in one process and serve in
// another, and so do servers that hand connections to workers. The sender's
// record travels under the socket's cookie (records/passed_mailbox.h), so
// the receiving process reports the same client address.
//
// What a process that never passes descriptors pays: on sendmsg(), one load
// (does it have any record at all?); on recvmsg(), one test of the control
// length the kernel returned.
#pragma once

#include <sys/socket.h>

#include "records/any_record.h"

namespace proxyproto::descriptor_passing {

// Whether a sendmsg() may pass a descriptor with a record: this process
// recorded a peer address once. One load.
inline bool may_send_records() noexcept {
  return (records::kinds() & records::address_kind) != 0;
}

// Before sendmsg(): posts the record of each descriptor of msg's SCM_RIGHTS
// messages that has one. Leaves errno as it was.
void before_send(const msghdr *msg) noexcept;

// After a recvmsg() that returned control data (msg_controllen != 0): each
// descriptor received in an SCM_RIGHTS message gets the record posted for
// its socket, and any stale record of its number is dropped. Only when the
// library acts in this process. Leaves errno as it was.
void after_receive(const msghdr *msg) noexcept;

}  // namespace proxyproto::descriptor_passing
