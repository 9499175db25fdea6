// A server that accepts one connection under the library and starts
// exec_reporter on it through one exec entry point, as inetd and sshd do.
//
//   exec_tester --via ENTRY --reporter PATH [--mode MODE] [--fresh-env]
//               [-- reporter arguments]
// ENTRY: execve execv execvp execvpe execl execlp execle fexecve execveat
//        posix_spawn posix_spawnp. execvp, execlp, execvpe and posix_spawnp
//        are given the reporter's base name and find it through PATH.
// MODE:
//   stdio    (default) the connection goes onto 0 and 1 (dup2, or
//            posix_spawn file actions) and its own number is closed
//   cloexec  the connection is left where it is, close-on-exec
//   stale    a first connection's socket identity is written into a
//            hand-over naming 0 and 1, that connection is closed, and a
//            second one is put on 0 and 1; the exec is the raw system call,
//            so the stale value reaches the reporter as it is
//   forged   as stale, but the value names the second connection's own
//            identity with 198.51.100.9:999 (the control for stale)
// --fresh-env: the reporter gets an environment of LD_PRELOAD and PATH only
// (and the sanitizers' ASAN_OPTIONS and UBSAN_OPTIONS when set).
// Prints "port N" once listening; exits with the reporter's status for
// posix_spawn*.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

[[noreturn]] void die(const char *what) {
  perror(what);
  exit(2);
}

int accept_one(int listener) {
  const int fd = accept(listener, nullptr, nullptr);
  if (fd < 0) die("accept");
  return fd;
}

std::string identity_entry(int number, int fd, const char *address, int port) {
  struct stat st;
  if (fstat(fd, &st) != 0) die("fstat");
  return std::to_string(number) + "," + std::to_string(st.st_dev) + "," +
         std::to_string(st.st_ino) + "," + address + "," + std::to_string(port);
}

void onto_stdio(int fd) {
  if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0) die("dup2");
  close(fd);
}

}  // namespace

int main(int argc, char **argv) {
  std::string via = "execve", mode = "stdio", reporter;
  bool fresh_env = false;
  std::vector<std::string> extra;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--via" && i + 1 < argc) via = argv[++i];
    else if (a == "--mode" && i + 1 < argc) mode = argv[++i];
    else if (a == "--reporter" && i + 1 < argc) reporter = argv[++i];
    else if (a == "--fresh-env") fresh_env = true;
    else if (a == "--") { for (++i; i < argc; ++i) extra.push_back(argv[i]); }
    else { fprintf(stderr, "exec_tester: bad argument %s\n", argv[i]); return 2; }
  }
  if (reporter.empty()) { fprintf(stderr, "exec_tester: --reporter\n"); return 2; }
  const std::string dir = reporter.substr(0, reporter.rfind('/'));
  const std::string base = reporter.substr(reporter.rfind('/') + 1);

  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sin;
  if (listener < 0 || bind(listener, reinterpret_cast<sockaddr *>(&sin), sizeof sin) != 0 ||
      listen(listener, 8) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr *>(&sin), &len) != 0)
    die("listen");
  printf("port %d\n", ntohs(sin.sin_port));
  fflush(stdout);

  // The reporter's argv and environment.
  std::vector<std::string> args = {reporter};
  for (const auto &e : extra) args.push_back(e);
  std::vector<char *> argv_out;
  for (auto &a : args) argv_out.push_back(a.data());
  argv_out.push_back(nullptr);
  std::vector<std::string> env_strings;
  if (fresh_env) {
    // The sanitizer builds' run-time options too: they are no settings of
    // the library, and the instrumented reporter cannot start without them.
    for (const char *name : {"LD_PRELOAD", "PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS"})
      if (const char *value = getenv(name))
        env_strings.push_back(std::string(name) + "=" + value);
    clearenv();
    for (auto &e : env_strings) putenv(e.data());
  }
  std::vector<char *> envp;
  for (char **e = environ; *e != nullptr; ++e) envp.push_back(*e);

  int conn = accept_one(listener);
  if (mode == "stale" || mode == "forged") {
    std::string value = "LIBPROXYPROTO_HANDOVER=v1";
    if (mode == "stale") {
      const std::string a = identity_entry(0, conn, "203.0.113.7", 4321);
      value += ";" + a + ";" + identity_entry(1, conn, "203.0.113.7", 4321);
      close(conn);
      conn = accept_one(listener);
    } else {
      value += ";" + identity_entry(0, conn, "198.51.100.9", 999);
      value += ";" + identity_entry(1, conn, "198.51.100.9", 999);
    }
    onto_stdio(conn);
    envp.push_back(value.data());
    envp.push_back(nullptr);
    syscall(SYS_execve, reporter.c_str(), argv_out.data(), envp.data());
    die("execve (raw)");
  }
  envp.push_back(nullptr);
  if (mode == "cloexec") {
    if (fcntl(conn, F_SETFD, FD_CLOEXEC) != 0) die("fcntl");
  } else if (via != "posix_spawn" && via != "posix_spawnp") {
    onto_stdio(conn);
  }
  char *const *a = argv_out.data();
  char *const *e = envp.data();
  const char *r = reporter.c_str();
  const char *b = base.c_str();
  // execl and friends take the arguments one by one: the reporter's name
  // and at most one more (the null pointer ends the list; execle's
  // environment follows it).
  if (args.size() > 2 && via.compare(0, 5, "execl") == 0) {
    fprintf(stderr, "exec_tester: %s takes one reporter argument\n", via.c_str());
    return 2;
  }
  char *const arg1 = args.size() > 1 ? a[1] : nullptr;
  if (via == "execve") execve(r, a, e);
  else if (via == "execv") execv(r, a);
  else if (via == "execvp") execvp(b, a);
  else if (via == "execvpe") execvpe(b, a, e);
  else if (via == "execl" && arg1) execl(r, r, arg1, static_cast<char *>(nullptr));
  else if (via == "execl") execl(r, r, static_cast<char *>(nullptr));
  else if (via == "execlp" && arg1) execlp(b, b, arg1, static_cast<char *>(nullptr));
  else if (via == "execlp") execlp(b, b, static_cast<char *>(nullptr));
  else if (via == "execle" && arg1) execle(r, r, arg1, static_cast<char *>(nullptr), e);
  else if (via == "execle") execle(r, r, static_cast<char *>(nullptr), e);
  else if (via == "fexecve") {
    const int fd = open(r, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("open");
    fexecve(fd, a, e);
  } else if (via == "execveat") {
    const int dfd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) die("open dir");
    execveat(dfd, b, a, e, 0);
  } else if (via == "posix_spawn" || via == "posix_spawnp") {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (mode != "cloexec") {
      posix_spawn_file_actions_adddup2(&actions, conn, 0);
      posix_spawn_file_actions_adddup2(&actions, conn, 1);
      posix_spawn_file_actions_addclose(&actions, conn);
    }
    pid_t pid;
    const int rc = via == "posix_spawn"
                       ? posix_spawn(&pid, r, &actions, nullptr, a, e)
                       : posix_spawnp(&pid, b, &actions, nullptr, a, e);
    if (rc != 0) { errno = rc; die(via.c_str()); }
    close(conn);
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) die("waitpid");
    return WIFEXITED(status) ? WEXITSTATUS(status) : 3;
  } else {
    fprintf(stderr, "exec_tester: unknown entry point %s\n", via.c_str());
    return 2;
  }
  die(via.c_str());
}
