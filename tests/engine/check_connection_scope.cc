// accept/connection_scope: whether a freshly accepted connection is read
// for a header, passed through or dropped, from the settings (taken here
// from a captured environment, as at load time) and real listeners: the
// library inactive, versions off, ports, allow (IPv4, IPv6, unix, invalid),
// must-use, AF_UNIX stream and datagram sockets, a configuration file that
// cannot be used.
#include <check.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "accept/connection_scope.h"
#include "settings/captured_environment.h"
#include "suites.h"

using proxyproto::connection_scope;
using proxyproto::scope_decision;

namespace {

enum class listener_kind { tcp4, tcp6, unix_stream, unix_dgram };

struct scope_row {
  const char *settings;  // ";"-separated NAME=VALUE; %P the listener's port,
                         // %Q another port
  listener_kind listener;
  const char *peer;  // an address, "unix" or "unspec"
  scope_decision want;
};

using enum scope_decision;
constexpr listener_kind tcp4 = listener_kind::tcp4;
constexpr listener_kind tcp6 = listener_kind::tcp6;
constexpr listener_kind unix_stream = listener_kind::unix_stream;
constexpr listener_kind unix_dgram = listener_kind::unix_dgram;

constexpr scope_row scope_rows[] = {
    // The library acts only when asked (activation rule).
    {"", tcp4, "127.0.0.1", pass_through},
    {"LIBPROXYPROTO_TIMEOUT=3000", tcp4, "127.0.0.1", handle},
    {"LD_PRELOAD=/usr/lib/libproxyproto.so", tcp4, "127.0.0.1", handle},
    {"LD_PRELOAD=/usr/lib/libproxyproto_connect.so", tcp4, "127.0.0.1", pass_through},
    {"LIBPROXYPROTO_PROGRAMS=nginx", tcp4, "127.0.0.1", pass_through},
    {"LIBPROXYPROTO_PROGRAMS=nginx, check_engine", tcp4, "127.0.0.1", handle},
    {"LIBPROXYPROTO_VERSION=0", tcp4, "127.0.0.1", pass_through},
    {"LIBPROXYPROTO_VERSION=2", tcp6, "::1", handle},
    // ports: the listener's own port; another port is passed through, even
    // under must-use.
    {"LIBPROXYPROTO_PORTS=%P", tcp4, "127.0.0.1", handle},
    {"LIBPROXYPROTO_PORTS=%Q", tcp4, "127.0.0.1", pass_through},
    {"LIBPROXYPROTO_PORTS=%Q;LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER=1", tcp4,
     "127.0.0.1", pass_through},
    {"LIBPROXYPROTO_PORTS=%Q, %P", tcp6, "::1", handle},
    {"LIBPROXYPROTO_PORTS=not a port", tcp4, "127.0.0.1", pass_through},
    // allow: an untrusted peer is passed through, or dropped under must-use.
    {"LIBPROXYPROTO_ALLOW=10.0.0.0/8", tcp4, "10.1.2.3", handle},
    {"LIBPROXYPROTO_ALLOW=10.0.0.0/8", tcp4, "127.0.0.1", pass_through},
    {"LIBPROXYPROTO_ALLOW=10.0.0.0/8;LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER=1",
     tcp4, "127.0.0.1", drop},
    {"LIBPROXYPROTO_ALLOW=10.0.0.0/8;LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER=1",
     tcp4, "10.255.255.255", handle},
    {"LIBPROXYPROTO_ALLOW=2001:db8::/32", tcp6, "2001:db8::7", handle},
    {"LIBPROXYPROTO_ALLOW=2001:db8::/32", tcp6, "::1", pass_through},
    {"LIBPROXYPROTO_ALLOW=2001:db8::/32", tcp4, "127.0.0.1", pass_through},
    {"LIBPROXYPROTO_ALLOW=nonsense", tcp4, "127.0.0.1", pass_through},
    {"LIBPROXYPROTO_ALLOW=nonsense;LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER=1", tcp4,
     "127.0.0.1", drop},
    {"LIBPROXYPROTO_ALLOW=127.0.0.1;LIBPROXYPROTO_PORTS=%P", tcp4, "127.0.0.1",
     handle},
    // AF_UNIX stream listeners: only with `unix` in allow and no `ports`.
    // A Unix socket allow does not name is out of scope, must-use or not.
    {"LIBPROXYPROTO_TIMEOUT=3000", unix_stream, "unix", pass_through},
    {"LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER=1", unix_stream, "unix", pass_through},
    {"LIBPROXYPROTO_ALLOW=unix", unix_stream, "unix", handle},
    {"LIBPROXYPROTO_ALLOW=unix;LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER=1", unix_stream,
     "unix", handle},
    {"LIBPROXYPROTO_ALLOW=unix;LIBPROXYPROTO_PORTS=80", unix_stream, "unix",
     pass_through},
    {"LIBPROXYPROTO_ALLOW=unix", unix_dgram, "unix", pass_through},
    {"LIBPROXYPROTO_ALLOW=127.0.0.1", unix_stream, "unix", pass_through},
    {"LIBPROXYPROTO_ALLOW=127.0.0.1;LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER=1",
     unix_stream, "unix", pass_through},
    {"LIBPROXYPROTO_ALLOW=127.0.0.1, unix", unix_stream, "unix", handle},
    // `unix` alone trusts no IP peer.
    {"LIBPROXYPROTO_ALLOW=unix", tcp4, "127.0.0.1", pass_through},
    {"LIBPROXYPROTO_ALLOW=unix;LIBPROXYPROTO_MUST_USE_PROTOCOL_HEADER=1", tcp4,
     "127.0.0.1", drop},
    // Another family of peer: never read.
    {"LIBPROXYPROTO_TIMEOUT=3000", tcp4, "unspec", pass_through},
    // A named configuration file that cannot be used fails closed: no port
    // is served.
    {"LIBPROXYPROTO_CONFIG=/nonexistent/libproxyproto.conf;LIBPROXYPROTO_TIMEOUT=3000",
     tcp4, "127.0.0.1", pass_through},
};

int make_listener(listener_kind kind, uint16_t *port) {
  *port = 0;
  if (kind == listener_kind::unix_stream || kind == listener_kind::unix_dgram) {
    int fds[2];
    ck_assert_int_eq(socketpair(AF_UNIX,
                                kind == listener_kind::unix_stream ? SOCK_STREAM
                                                                   : SOCK_DGRAM,
                                0, fds),
                     0);
    return fds[0];
  }
  const bool v6 = kind == listener_kind::tcp6;
  const int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(fd, 0);
  socklen_t len;
  sockaddr_storage at = v6 ? pp_engine::sin6("::1", 0, &len)
                           : pp_engine::sin4("127.0.0.1", 0, &len);
  ck_assert_msg(bind(fd, reinterpret_cast<sockaddr *>(&at), len) == 0,
                "cannot bind the %s loopback", v6 ? "IPv6" : "IPv4");
  ck_assert_int_eq(listen(fd, 1), 0);
  len = sizeof at;
  ck_assert_int_eq(getsockname(fd, reinterpret_cast<sockaddr *>(&at), &len), 0);
  *port = ntohs(v6 ? reinterpret_cast<sockaddr_in6 *>(&at)->sin6_port
                   : reinterpret_cast<sockaddr_in *>(&at)->sin_port);
  return fd;
}

sockaddr_storage make_peer(const char *peer, socklen_t *len) {
  if (std::strcmp(peer, "unix") == 0) {
    sockaddr_storage ss{};
    ss.ss_family = AF_UNIX;
    *len = sizeof(sa_family_t);  // an unnamed peer, as accept() reports it
    return ss;
  }
  if (std::strcmp(peer, "unspec") == 0) {
    sockaddr_storage ss{};
    ss.ss_family = AF_UNSPEC;
    *len = sizeof(sockaddr_in);
    return ss;
  }
  if (std::strchr(peer, ':') != nullptr) return pp_engine::sin6(peer, 40000, len);
  return pp_engine::sin4(peer, 40000, len);
}

std::string replace_all(std::string s, const char *from, const std::string &to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, std::strlen(from), to);
  return s;
}

}  // namespace

START_TEST(scope_table) {
  const scope_row &row = scope_rows[_i];
  uint16_t port;
  const int listener = make_listener(row.listener, &port);
  const uint16_t other = port == 1 ? 2 : static_cast<uint16_t>(port - 1);
  std::string settings = replace_all(row.settings, "%P", std::to_string(port));
  settings = replace_all(settings, "%Q", std::to_string(other));

  // The environment this process had at load time, as the library sees it:
  // the settings of the row, and no system configuration file unless named.
  std::vector<std::string> vars;
  if (settings.find("LIBPROXYPROTO_CONFIG=") == std::string::npos)
    vars.push_back("LIBPROXYPROTO_CONFIG=/dev/null");
  for (size_t start = 0; start < settings.size();) {
    size_t end = settings.find(';', start);
    if (end == std::string::npos) end = settings.size();
    vars.push_back(settings.substr(start, end - start));
    start = end + 1;
  }
  std::vector<char *> env;
  for (std::string &v : vars) env.push_back(v.data());
  env.push_back(nullptr);
  proxyproto::capture_environment(env.data(), "check_engine", false);

  socklen_t peer_len;
  const sockaddr_storage peer = make_peer(row.peer, &peer_len);
  const scope_decision got = connection_scope(listener, peer, peer_len);
  ck_assert_msg(got == row.want, "row %d (%s, peer %s): got %d, want %d", _i,
                settings.c_str(), row.peer, static_cast<int>(got),
                static_cast<int>(row.want));
  // The decision is taken again the same way (settings are read once).
  ck_assert(connection_scope(listener, peer, peer_len) == row.want);
  close(listener);
}
END_TEST

Suite *make_connection_scope_suite(void) {
  Suite *s = suite_create("connection_scope");
  TCase *tc = tcase_create("decisions");
  tcase_add_loop_test(tc, scope_table, 0,
                      static_cast<int>(sizeof scope_rows / sizeof scope_rows[0]));
  suite_add_tcase(s, tc);
  return s;
}
