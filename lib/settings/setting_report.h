// Reporting a bad setting where an administrator will see it, once per
// process (settings are loaded once): on stderr when debugging is on, in the
// system log otherwise, since a library preloaded into every process must
// not write into other programs' output.
#pragma once

namespace proxyproto {

// One line: "libproxyproto[program:pid] settings: <message>" on stderr, or
// the same message sent to the system log (facility daemon, level warning).
void report_setting_problem(bool to_stderr, const char *format, ...) noexcept
    __attribute__((format(printf, 2, 3)));

// Sends one message to the local syslog socket, /dev/log, by a datagram of
// our own: no openlog() (which may allocate and keeps a descriptor open),
// never blocking, and silently dropped when no syslog daemon listens.
void send_to_syslog(const char *message) noexcept;

}  // namespace proxyproto
