// The suites of tests/engine/check_engine: white-box tests of the stateful
// units of the server library, linked from lib/libproxyproto_engine.la (no
// function is interposed here: the test calls the units directly). One
// suite per unit, named after it (tests/engine/check_<unit>.cc tests
// lib/<room>/<unit>.h).
//
// Every test runs in a process of its own (Check's fork mode, forced in
// check_main.cc): the units keep process-wide state (tables, the pool, the
// settings read once), and each test starts from an empty one.
#pragma once

#include <check.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "../lib/check_assert.h"

Suite *make_peer_addresses_suite(void);
Suite *make_kept_headers_suite(void);
Suite *make_pending_pool_suite(void);
Suite *make_header_reader_suite(void);
Suite *make_connection_scope_suite(void);
Suite *make_captured_environment_suite(void);
Suite *make_handover_suite(void);
Suite *make_iov_bytes_suite(void);
Suite *make_reply_map_suite(void);
Suite *make_usual_header_suite(void);
Suite *make_shared_accept_suite(void);
Suite *make_passed_mailbox_suite(void);

namespace pp_engine {

// An AF_INET address from text, e.g. sin4("192.0.2.1", 4321).
sockaddr_storage sin4(const char *text, uint16_t port, socklen_t *len);
sockaddr_storage sin6(const char *text, uint16_t port, socklen_t *len);

// A connected AF_UNIX stream pair: fds[0] is "accepted", fds[1] the peer.
void unix_pair(int fds[2]);

// A connected loopback TCP pair: *accepted from a listener on 127.0.0.1
// (port 0, the kernel's choice), *peer its client. *listener stays open
// when listener is not null.
void tcp_pair(int *accepted, int *peer, int *listener);

// Writes all of `len` bytes or fails the test.
void send_all(int fd, const void *bytes, size_t len);

// The bytes queued on fd, without removing them (MSG_PEEK | MSG_DONTWAIT).
std::string peek_all(int fd);

// Reads what is queued on fd (waits up to 2 s for the first byte).
std::string read_some(int fd);

// True when fd is an open descriptor.
bool is_open(int fd);

}  // namespace pp_engine
