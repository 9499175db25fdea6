// proxyproto-run [--] COMMAND [ARG...]: runs COMMAND so that it sees the
// PROXY-protocol client addresses, whatever it is (dynamically or
// statically linked, Go), unprivileged, through seccomp user notification
// (seccomp_unotify(2)). The launcher stays as COMMAND's supervisor: it
// performs the trapped accept(), accept4(), getpeername() (and
// getsockname()) calls for it, by the library's own settings and rules.
// See proxyproto-run(1) and doc/design.md.
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "config.h"
#include "filter.h"
#include "launch.h"
#include "notification.h"
#include "runtime/log.h"
#include "settings/captured_environment.h"
#include "settings/server_settings.h"
#include "signals.h"
#include "supervisor.h"

extern char **environ;

namespace {

void usage(FILE *to) {
  fputs("usage: proxyproto-run [--] COMMAND [ARG...]\n"
        "Runs COMMAND so that it sees the PROXY protocol's client addresses.\n"
        "Settings: the LIBPROXYPROTO_* variables and configuration file of\n"
        "libproxyproto(8); see proxyproto-run(1).\n",
        to);
}

const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash != nullptr ? slash + 1 : path;
}

}  // namespace

int main(int argc, char **argv) {
  using namespace proxyproto;
  int first = 1;
  if (first < argc && strcmp(argv[first], "--help") == 0) {
    usage(stdout);
    return 0;
  }
  if (first < argc && strcmp(argv[first], "--version") == 0) {
    printf("proxyproto-run (%s) %s\n", PACKAGE_NAME, PACKAGE_VERSION);
    return 0;
  }
  if (first < argc && strcmp(argv[first], "--") == 0) ++first;
  else if (first < argc && argv[first][0] == '-' && argv[first][1] != '\0') {
    fprintf(stderr, "proxyproto-run: unknown option %s\n", argv[first]);
    usage(stderr);
    return 125;
  }
  if (first >= argc) {
    usage(stderr);
    return 125;
  }
  char **command = argv + first;

  // The settings, as the library would read them in COMMAND: the same
  // variables and file, `programs` matched against COMMAND's name. Running
  // it under the launcher is the request to act (note_explicit_request).
  capture_environment(environ, base_name(command[0]), getauxval(AT_SECURE) != 0);
  note_explicit_request();
  const server_config &config = server_settings();
  set_log_tag("proxyproto-run");

  if (!run::notification_sizes_known()) {
    fprintf(stderr, "proxyproto-run: seccomp user notification is not available: %s; "
                    "not running %s\n", strerror(errno), command[0]);
    return 126;
  }
  run::learn_system_calls();
  sigset_t previous;
  const int signal_fd = run::take_signals(&previous);
  if (signal_fd < 0) {
    fprintf(stderr, "proxyproto-run: signalfd: %s\n", strerror(errno));
    return 126;
  }
  // The program's orphans (a daemon's forked children) stay under the
  // launcher, which supervises them too.
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  const run::filter_choice choice{config.active && config.getsockname, config.io_uring};
  int status = 126;
  const run::launched l = run::launch(command, choice, previous, &status);
  if (l.child < 0) return status;
  PP_DEBUG("supervising %s (pid %d)", command[0], static_cast<int>(l.child));
  return run::supervise(l.child, l.notify_fd, signal_fd, config);
}
