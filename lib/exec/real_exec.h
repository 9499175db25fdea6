// The exec entry points the library interposes, reached past the
// interposer (dlsym RTLD_NEXT), bound on first use. Where the C library
// does not have one, the system call stands in (execve, execveat, fexecve)
// or the call fails with ENOSYS (execvpe, posix_spawn, posix_spawnp).
#pragma once

#include <spawn.h>
#include <sys/types.h>

namespace proxyproto::real {

int execve(const char *path, char *const argv[], char *const envp[]) noexcept;
int execvpe(const char *file, char *const argv[], char *const envp[]) noexcept;
int fexecve(int fd, char *const argv[], char *const envp[]) noexcept;
int execveat(int dirfd, const char *path, char *const argv[],
             char *const envp[], int flags) noexcept;
int posix_spawn(pid_t *pid, const char *path,
                const posix_spawn_file_actions_t *actions,
                const posix_spawnattr_t *attributes, char *const argv[],
                char *const envp[]) noexcept;
int posix_spawnp(pid_t *pid, const char *file,
                 const posix_spawn_file_actions_t *actions,
                 const posix_spawnattr_t *attributes, char *const argv[],
                 char *const envp[]) noexcept;

// The process's environment (`environ`), looked up by name on first use
// rather than imported: an import costs every process a relocation when
// the library is loaded, and only the exec calls that take no environment
// (execv, execvp, execl, execlp) need it.
char **environment() noexcept;

}  // namespace proxyproto::real
