// Connections accepted for this process by one that is not under the
// library: a service manager (systemd's Accept=yes sockets, Debian's
// ssh.socket among them; systemd-socket-activate --accept) or an inetd
// (openbsd-inetd, xinetd, ucspi-tcp's tcpserver) starts one process per
// connection with the connection already open, its header still unread.
// The library reads it when it loads, before the program's first line, by
// the rules accept() follows (timeout, must-use, version, allow, ports),
// and records the claimed address for that descriptor.
//
// Which descriptors:
//   - those passed with the LISTEN_FDS protocol (LISTEN_PID this process)
//     that are connected stream sockets;
//   - standard input, when it is a connected TCP or AF_UNIX stream socket
//     and the process is marked as a per-connection server: REMOTE_ADDR
//     (set by systemd for Accept=yes services), TCPREMOTEIP (tcpserver), or
//     the `inetd` setting (LIBPROXYPROTO_INETD, or the configuration file's
//     key when the settings are read at load, see read_at_load()).
// A program whose standard input is a socket it did not get that way (a
// client it connected itself) starts at once, untouched.
//
// Under must-use, or with a malformed header, the connection is cut under
// the program: shut down, so the client sees the close, and every
// descriptor of it among 0, 1, 2 and its own number replaced by a socket
// whose reads see end of file (shutdown(SHUT_RD) alone would still let the
// program read what was queued).
#pragma once

namespace proxyproto::inherited_connections {

// Called once by the library's constructor, after the environment was
// captured, with main()'s environment. A process with none of LISTEN_FDS,
// REMOTE_ADDR, TCPREMOTEIP, LIBPROXYPROTO_INETD and LIBPROXYPROTO_CONFIG
// pays one walk of its environment and no system call; one with only
// LIBPROXYPROTO_CONFIG, one getsockopt() unless its standard input is a
// stream socket (the file's `inetd` key is then read). When a header gives
// the client's address, REMOTE_ADDR/REMOTE_PORT and
// TCPREMOTEIP/TCPREMOTEPORT, where present, are rewritten to it in place,
// and TCPREMOTEHOST (the proxy's name) is removed, before the program
// reads its environment.
void read_at_load(char **environment) noexcept;

}  // namespace proxyproto::inherited_connections
