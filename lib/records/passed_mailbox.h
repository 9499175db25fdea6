// Records that travel with a descriptor passed to another process over an
// AF_UNIX socket (SCM_RIGHTS): the sending process posts the record under
// the socket's cookie (SO_COOKIE, a 64-bit identity the kernel gives each
// socket and never reuses), and the receiving process looks the cookie of
// what it received up. The record is thus tied to the socket, never to a
// descriptor number, and holds wherever the socket goes: a worker forked
// before the accept, an unrelated program connected through a named socket,
// several descriptors in one message.
//
// The mailbox is a file in /dev/shm per effective user, written only by
// that user's processes: `libproxyproto-passed.UID`, mode 0600 (0644 for
// root's, so that root's records reach every user). A receiver reads two
// mailboxes only: its own user's and root's, and believes a file only when
// fstat() shows it is a regular file owned by that user that nobody else
// can write. A process of another user can therefore never plant a record,
// whatever channel it can write to; a record passed by another non-root
// user is simply not found. A name squatted by another user is refused, so
// the worst such a user can do is keep records from being passed.
//
// The file is an open-addressed table of fixed-size slots, each a sequence
// lock of 32-bit words (address-free and lock-free on every architecture,
// and the same layout for 32- and 64-bit processes of one user). A slot is
// only needed from the sendmsg() to the recvmsg(); a full neighbourhood
// overwrites its oldest post, and a writer that died mid-write leaves one
// slot unusable, never a lock that anyone waits on.
//
// Nothing is opened or mapped until a process passes or receives a
// descriptor; the mapping is then kept for the life of the process (and is
// inherited, shared, by its children).
#pragma once

#include <sys/socket.h>

#include <cstdint>

namespace proxyproto::passed_mailbox {

// What travels: the reported peer, and the destination getsockname() may
// report (length 0: none).
struct record {
  sockaddr_storage peer;
  socklen_t peer_len;
  sockaddr_storage destination;
  socklen_t destination_len;
};

// The socket's cookie, or 0 when fd is not a socket (or the kernel is older
// than SO_COOKIE, Linux 4.12).
uint64_t cookie_of(int fd) noexcept;

// Posts `r` under `cookie` in this process's user's mailbox; false when the
// mailbox cannot be used.
bool post(uint64_t cookie, const record &r) noexcept;

// Finds the record posted under `cookie` by this process's user or by root.
bool find(uint64_t cookie, record *r) noexcept;

// For the white-box tests: the directory of the mailboxes (default
// /dev/shm), before any post or find.
void use_directory(const char *directory) noexcept;

}  // namespace proxyproto::passed_mailbox
