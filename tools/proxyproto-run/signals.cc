#include "signals.h"

#include <errno.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

namespace proxyproto::run {

namespace {

constexpr int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

}  // namespace

int take_signals(sigset_t *previous) noexcept {
  sigset_t set;
  sigemptyset(&set);
  for (const int s : forwarded) sigaddset(&set, s);
  sigaddset(&set, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &set, previous) != 0) return -1;
  return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

void child_watch::on_signals(int signal_fd) noexcept {
  signalfd_siginfo si;
  bool child_signal = false;
  while (read(signal_fd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
    const int sig = static_cast<int>(si.ssi_signo);
    if (sig == SIGCHLD) {
      child_signal = true;
      continue;
    }
    if (si.ssi_code == SI_KERNEL) continue;  // the terminal told the program too
    if (!program_done_) kill(program_, sig);
  }
  if (child_signal) reap();
}

void child_watch::reap() noexcept {
  for (;;) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid == 0) return;
    if (pid < 0) {
      if (errno == EINTR) continue;
      no_children_ = true;  // ECHILD: the program and all its orphans
      return;
    }
    if (pid == program_) {
      program_done_ = true;
      if (WIFEXITED(status)) status_ = WEXITSTATUS(status);
      else if (WIFSIGNALED(status)) status_ = 128 + WTERMSIG(status);
    }
  }
}

}  // namespace proxyproto::run
