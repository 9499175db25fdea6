// What getpeername() must report for a descriptor that carried a PROXY
// header: the header's source address as accept() returned it.
#pragma once

#include <sys/socket.h>

namespace proxyproto::peer_addresses {

// Records `addr` for `fd`, replacing any earlier record. Returns false when
// no record can be kept (fd beyond the table, or no memory for its page);
// getpeername() then reports the real peer.
bool store(int fd, const sockaddr_storage &addr, socklen_t len) noexcept;

// Fills *addr / *len with fd's record; false when it has none.
bool lookup(int fd, sockaddr_storage *addr, socklen_t *len) noexcept;

// Drops fd's record (close, or a descriptor replaced by dup2/dup3).
void forget(int fd) noexcept;

// Drops the records of every descriptor in [first, last] (close_range).
void forget_range(unsigned first, unsigned last) noexcept;

// Makes `to` carry the record of `from`, or none if `from` has none (dup*).
void copy(int from, int to) noexcept;

// Whether any descriptor may have a record: false when this process never
// recorded anything (records/any_record.h). One load.
bool maybe_any() noexcept;

// The lowest descriptor above `after` (-1: from 0) that has a record, with
// the record in *addr / *len; -1 when there is none. Walks only the pages
// of the table that exist (exec() only: the accept and close paths keep no
// count for it).
int next(int after, sockaddr_storage *addr, socklen_t *len) noexcept;

}  // namespace proxyproto::peer_addresses
