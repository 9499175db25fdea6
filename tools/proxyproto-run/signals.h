// The launcher's signals and children. SIGTERM, SIGINT, SIGHUP, SIGQUIT,
// SIGUSR1, SIGUSR2 and SIGWINCH sent to the launcher (kill(1), systemd,
// a container runtime) are passed on to the program; those a terminal
// sends to its whole foreground group (SI_KERNEL) reach the program
// directly and are not sent twice. The launcher is a child subreaper, so
// the program's orphans (a daemon that forks away) stay under it, and it
// runs until every one of them is gone; it exits with the program's
// status, 128+N for signal N, as a shell would report it.
#pragma once

#include <signal.h>
#include <sys/types.h>

namespace proxyproto::run {

// Blocks the signals above and returns a signalfd for them, or -1; the
// mask before is saved in *previous, for the child to restore before exec.
int take_signals(sigset_t *previous) noexcept;

class child_watch {
 public:
  explicit child_watch(pid_t program) noexcept : program_(program) {}
  // Reads the signals queued on `signal_fd`: forwards, reaps.
  void on_signals(int signal_fd) noexcept;
  bool all_gone() const noexcept { return program_done_ && no_children_; }
  int exit_status() const noexcept { return status_; }

 private:
  void reap() noexcept;
  pid_t program_;
  bool program_done_ = false;
  bool no_children_ = false;
  int status_ = 0;
};

}  // namespace proxyproto::run
