#include "signals.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

namespace proxyproto::run {

namespace {

constexpr int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

// Sends `sig` to every child of the launcher (the program's orphans,
// reparented to it), found in /proc.
void signal_children(int sig) noexcept {
  DIR *d = opendir("/proc");
  if (d == nullptr) return;
  const pid_t self = getpid();
  while (dirent *e = readdir(d)) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    char path[300], buf[512];
    snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    FILE *f = fopen(path, "re");
    if (f == nullptr) continue;
    const size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    // pid (comm) state ppid ...: comm may hold anything, so from the last ')'.
    const char *close_paren = strrchr(buf, ')');
    if (close_paren == nullptr) continue;
    char state = 0;
    int ppid = 0;
    if (sscanf(close_paren + 1, " %c %d", &state, &ppid) == 2 && ppid == self)
      kill(static_cast<pid_t>(atoi(e->d_name)), sig);
  }
  closedir(d);
}

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

int child_watch::stop_orphans(int64_t now) noexcept {
  if (!program_done_ || no_children_) return -1;
  if (kill_at_ < 0) {
    signal_children(SIGTERM);
    kill_at_ = now + orphan_grace_ms;
  } else if (now >= kill_at_) {
    signal_children(SIGKILL);
    kill_at_ = now + 1000;
  }
  return static_cast<int>(kill_at_ - now);
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
