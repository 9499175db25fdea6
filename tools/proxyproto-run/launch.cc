#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include "pidfd_calls.h"
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "notification.h"

#pragma GCC diagnostic ignored "-Wold-style-cast"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wcast-align"

namespace proxyproto::run {

namespace {

constexpr char go_ahead = 'G';

bool send_descriptor(int sock, int fd) noexcept {
  char byte = 'F';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1;
}

int receive_descriptor(int sock) noexcept {
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n != 1) return -1;
  cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (c == nullptr || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) return -1;
  int fd = -1;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

[[noreturn]] void child(char **command, const filter_choice &choice, const sigset_t &mask,
                        int sock, pid_t launcher) noexcept {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != launcher) _exit(126);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    fprintf(stderr, "proxyproto-run: PR_SET_NO_NEW_PRIVS: %s\n", strerror(errno));
    _exit(126);
  }
  const char *why = "";
  const int notify = load_filter(choice, &why);
  if (notify < 0) {
    fprintf(stderr, "proxyproto-run: %s: %s; not running %s\n", why, strerror(errno),
            command[0]);
    _exit(126);
  }
  if (!send_descriptor(sock, notify)) _exit(126);
  close(notify);  // the program must not answer its own calls
  char word = 0;
  ssize_t n;
  do n = read(sock, &word, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1 || word != go_ahead) _exit(126);  // the launcher said why
  close(sock);
  sigprocmask(SIG_SETMASK, &mask, nullptr);
  execvp(command[0], command);
  const int e = errno;
  fprintf(stderr, "proxyproto-run: %s: %s\n", command[0], strerror(e));
  _exit(e == ENOENT ? 127 : 126);
}

// Whether the launcher can answer the child's calls: pidfd_getfd on it
// (ptrace access: same user, and Yama allows a parent), and an ADDFD that
// sends (Linux 5.14).
bool can_answer(pid_t pid, int notify_fd, int childs_socket, const char **why) noexcept {
  const int pidfd = open_pidfd_of(pid, 0);
  if (pidfd < 0) {
    *why = "pidfd_open";
    return false;
  }
  const int copy = copy_descriptor(pidfd, childs_socket);
  const int saved = errno;
  close(pidfd);
  if (copy < 0) {
    errno = saved;
    *why = "pidfd_getfd";
    return false;
  }
  close(copy);
  seccomp_notif_addfd addfd{};
  addfd.id = 0;  // no such call: ENOENT if the kernel knows the request
  addfd.flags = SECCOMP_ADDFD_FLAG_SEND;
  addfd.srcfd = 0;
  if (ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd) == 0 || errno != ENOENT) {
    *why = "SECCOMP_IOCTL_NOTIF_ADDFD with SECCOMP_ADDFD_FLAG_SEND (Linux 5.14)";
    if (errno == 0) errno = EINVAL;
    return false;
  }
  return true;
}

int wait_status(pid_t pid) noexcept {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return 126;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 126;
}

}  // namespace

launched launch(char **command, const filter_choice &choice, const sigset_t &child_mask,
                int *status) noexcept {
  launched out;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    fprintf(stderr, "proxyproto-run: socketpair: %s\n", strerror(errno));
    *status = 126;
    return out;
  }
  const pid_t launcher = getpid();
  fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "proxyproto-run: fork: %s\n", strerror(errno));
    *status = 126;
    return out;
  }
  if (pid == 0) {
    close(sv[0]);
    child(command, choice, child_mask, sv[1], launcher);
  }
  // The child's end is closed here at once, so that a child that dies
  // before sending the descriptor is seen (end of file); its number is
  // still the child's, for can_answer().
  const int childs_end = sv[1];
  close(sv[1]);
  const int notify = receive_descriptor(sv[0]);
  const char *why = "";
  if (notify < 0 || !can_answer(pid, notify, childs_end, &why)) {
    if (notify >= 0) {
      fprintf(stderr, "proxyproto-run: %s: %s; not running %s\n", why, strerror(errno),
              command[0]);
      close(notify);
    }
    close(sv[0]);
    *status = notify < 0 ? wait_status(pid) : (kill(pid, SIGKILL), wait_status(pid), 126);
    if (*status == 0) *status = 126;
    return out;
  }
  const char word = go_ahead;
  if (write(sv[0], &word, 1) != 1) {
    close(notify);
    close(sv[0]);
    kill(pid, SIGKILL);
    wait_status(pid);
    *status = 126;
    return out;
  }
  close(sv[0]);
  out.child = pid;
  out.notify_fd = notify;
  return out;
}

}  // namespace proxyproto::run
