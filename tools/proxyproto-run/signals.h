// The launcher's signals and children. SIGTERM, SIGINT, SIGHUP, SIGQUIT,
// SIGUSR1, SIGUSR2 and SIGWINCH sent to the launcher (kill(1), systemd,
// a container runtime) are passed on to the program; those a terminal
// sends to its whole foreground group (SI_KERNEL) reach the program
// directly and are not sent twice. It exits with the program's status,
// 128+N for signal N, as a shell would report it.
//
// The launcher is a child subreaper: the program's orphans (workers whose
// master died, a daemon that forked away) become its children. They run
// under the filter, and without the supervisor their accept() would fail
// with ENOSYS, so when the program exits the launcher stops them as a
// container's init would: SIGTERM, and SIGKILL after a grace period
// (orphan_grace_ms), before it exits. Programs are to be run in the
// foreground (nginx -g 'daemon off;', systemd Type=simple or exec).
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstdint>

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
  // Once the program has exited: stops its orphans. Returns the
  // milliseconds until it must be called again (-1: not needed).
  int stop_orphans(int64_t now) noexcept;
  int exit_status() const noexcept { return status_; }

 private:
  void reap() noexcept;
  pid_t program_;
  bool program_done_ = false;
  bool no_children_ = false;
  int status_ = 0;
  int64_t kill_at_ = -1;  // when SIGKILL follows the SIGTERM sent
};

inline constexpr int64_t orphan_grace_ms = 3000;

}  // namespace proxyproto::run
