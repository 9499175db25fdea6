#include "exec/real_exec.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

#include "runtime/next_symbol.h"

namespace proxyproto::real {

namespace {

using execve_fn = int(const char *, char *const[], char *const[]);
using fexecve_fn = int(int, char *const[], char *const[]);
using execveat_fn = int(int, const char *, char *const[], char *const[], int);
using spawn_fn = int(pid_t *, const char *, const posix_spawn_file_actions_t *,
                     const posix_spawnattr_t *, char *const[], char *const[]);

constinit next_symbol<execve_fn> next_execve{"execve"};
constinit next_symbol<execve_fn> next_execvpe{"execvpe"};
constinit next_symbol<fexecve_fn> next_fexecve{"fexecve"};
constinit next_symbol<execveat_fn> next_execveat{"execveat"};
constinit next_symbol<spawn_fn> next_posix_spawn{"posix_spawn"};
constinit next_symbol<spawn_fn> next_posix_spawnp{"posix_spawnp"};

constinit std::atomic<char ***> environ_address{nullptr};

}  // namespace

char **environment() noexcept {
  char ***address = environ_address.load(std::memory_order_acquire);
  if (address == nullptr) {
    address = static_cast<char ***>(dlsym(RTLD_DEFAULT, "environ"));
    if (address == nullptr) return nullptr;
    environ_address.store(address, std::memory_order_release);
  }
  return *address;
}

int execve(const char *path, char *const argv[], char *const envp[]) noexcept {
  if (auto *fn = next_execve.get()) return fn(path, argv, envp);
  return static_cast<int>(syscall(SYS_execve, path, argv, envp));
}

int execvpe(const char *file, char *const argv[], char *const envp[]) noexcept {
  if (auto *fn = next_execvpe.get()) return fn(file, argv, envp);
  errno = ENOSYS;
  return -1;
}

int fexecve(int fd, char *const argv[], char *const envp[]) noexcept {
  if (auto *fn = next_fexecve.get()) return fn(fd, argv, envp);
  return static_cast<int>(
      syscall(SYS_execveat, fd, "", argv, envp, AT_EMPTY_PATH));
}

int execveat(int dirfd, const char *path, char *const argv[],
             char *const envp[], int flags) noexcept {
  if (auto *fn = next_execveat.get()) return fn(dirfd, path, argv, envp, flags);
  return static_cast<int>(syscall(SYS_execveat, dirfd, path, argv, envp, flags));
}

int posix_spawn(pid_t *pid, const char *path,
                const posix_spawn_file_actions_t *actions,
                const posix_spawnattr_t *attributes, char *const argv[],
                char *const envp[]) noexcept {
  if (auto *fn = next_posix_spawn.get())
    return fn(pid, path, actions, attributes, argv, envp);
  return ENOSYS;
}

int posix_spawnp(pid_t *pid, const char *file,
                 const posix_spawn_file_actions_t *actions,
                 const posix_spawnattr_t *attributes, char *const argv[],
                 char *const envp[]) noexcept {
  if (auto *fn = next_posix_spawnp.get())
    return fn(pid, file, actions, attributes, argv, envp);
  return ENOSYS;
}

}  // namespace proxyproto::real
