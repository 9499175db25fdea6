// The exec entry points: each passes the environment the new program is to
// get through exec_handover's child_environment (exec/handover.h), which
// adds the records of inherited proxied descriptors, and calls the real
// function. The C library's wrappers (execv, execvp, execl..., fexecve,
// posix_spawn) reach the system call without going through execve(), so
// every one is interposed. Costs one load when no descriptor has a record.
#include <spawn.h>
#include <stdarg.h>
#include <unistd.h>

#include "exec/handover.h"
#include "exec/real_exec.h"
#include "runtime/export.h"

namespace {

using proxyproto::exec_handover::child_environment;

// execl()'s variable arguments as an argv array on the caller's stack, the
// way the C library builds it. Stops at the null pointer; with `with_envp`
// (execle), `envp_out` gets the argument after it.
#define PP_COLLECT_ARGS(first, argv, with_envp, envp_out)                            \
  size_t pp_count = 1;                                                       \
  {                                                                          \
    va_list pp_ap;                                                           \
    va_start(pp_ap, first);                                                  \
    while (va_arg(pp_ap, const char *) != nullptr) ++pp_count;               \
    va_end(pp_ap);                                                           \
  }                                                                          \
  char **argv = static_cast<char **>(                                        \
      __builtin_alloca((pp_count + 1) * sizeof(char *)));                    \
  {                                                                          \
    va_list pp_ap;                                                           \
    va_start(pp_ap, first);                                                  \
    argv[0] = const_cast<char *>(first);                                     \
    for (size_t pp_i = 1; pp_i <= pp_count; ++pp_i)                          \
      argv[pp_i] = va_arg(pp_ap, char *);                                    \
    if (with_envp) envp_out = va_arg(pp_ap, char *const *);                  \
    va_end(pp_ap);                                                           \
  }

}  // namespace

extern "C" {

PROXYPROTO_EXPORT int execve(const char *path, char *const argv[],
                             char *const envp[]) {
  child_environment room;
  return proxyproto::real::execve(path, argv, room.prepare(envp));
}

PROXYPROTO_EXPORT int execv(const char *path, char *const argv[]) {
  child_environment room;
  return proxyproto::real::execve(path, argv, room.prepare(proxyproto::real::environment()));
}

PROXYPROTO_EXPORT int execvpe(const char *file, char *const argv[],
                              char *const envp[]) {
  child_environment room;
  return proxyproto::real::execvpe(file, argv, room.prepare(envp));
}

PROXYPROTO_EXPORT int execvp(const char *file, char *const argv[]) {
  child_environment room;
  return proxyproto::real::execvpe(file, argv, room.prepare(proxyproto::real::environment()));
}

PROXYPROTO_EXPORT int execl(const char *path, const char *arg, ...) {
  char *const *unused_envp = nullptr;
  PP_COLLECT_ARGS(arg, argv, false, unused_envp)
  (void)unused_envp;
  child_environment room;
  return proxyproto::real::execve(path, argv, room.prepare(proxyproto::real::environment()));
}

PROXYPROTO_EXPORT int execlp(const char *file, const char *arg, ...) {
  char *const *unused_envp = nullptr;
  PP_COLLECT_ARGS(arg, argv, false, unused_envp)
  (void)unused_envp;
  child_environment room;
  return proxyproto::real::execvpe(file, argv, room.prepare(proxyproto::real::environment()));
}

PROXYPROTO_EXPORT int execle(const char *path, const char *arg, ...) {
  char *const *envp = nullptr;
  PP_COLLECT_ARGS(arg, argv, true, envp)
  child_environment room;
  return proxyproto::real::execve(path, argv, room.prepare(envp));
}

PROXYPROTO_EXPORT int fexecve(int fd, char *const argv[], char *const envp[]) {
  child_environment room;
  return proxyproto::real::fexecve(fd, argv, room.prepare(envp));
}

PROXYPROTO_EXPORT int execveat(int dirfd, const char *path, char *const argv[],
                               char *const envp[], int flags) {
  child_environment room;
  return proxyproto::real::execveat(dirfd, path, argv, room.prepare(envp),
                                    flags);
}

PROXYPROTO_EXPORT int posix_spawn(pid_t *pid, const char *path,
                                  const posix_spawn_file_actions_t *actions,
                                  const posix_spawnattr_t *attributes,
                                  char *const argv[], char *const envp[]) {
  child_environment room;
  return proxyproto::real::posix_spawn(pid, path, actions, attributes, argv,
                                       room.prepare(envp));
}

PROXYPROTO_EXPORT int posix_spawnp(pid_t *pid, const char *file,
                                   const posix_spawn_file_actions_t *actions,
                                   const posix_spawnattr_t *attributes,
                                   char *const argv[], char *const envp[]) {
  child_environment room;
  return proxyproto::real::posix_spawnp(pid, file, actions, attributes, argv,
                                        room.prepare(envp));
}

}  // extern "C"
