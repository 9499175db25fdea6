/* The cost of libproxyproto.so in processes that never accept a proxied
 * connection, as when it is listed in /etc/ld.so.preload.
 *
 *   pp_preload_cost openclose N
 *       open("/dev/null") and close() N times (close() is interposed);
 *       run it with and without LD_PRELOAD.
 *   pp_preload_cost spawn N PROGRAM [LIBRARY]
 *       start PROGRAM (e.g. /bin/true) N times with posix_spawn() and wait
 *       for each; with LIBRARY, the children get LD_PRELOAD=LIBRARY, and
 *       this process itself never has it.
 *
 * Prints "ns_per_op=X" for bench.py. */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int open_close(long n) {
  for (long i = 0; i < n; ++i) {
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || close(fd) != 0) {
      perror("pp_preload_cost: open/close");
      return 1;
    }
  }
  return 0;
}

/* The environment of the children: ours without LD_PRELOAD, plus
 * LD_PRELOAD=library when one is given. */
static char **child_environment(const char *library) {
  size_t count = 0;
  while (environ[count] != NULL) ++count;
  char **env = calloc(count + 2, sizeof *env);
  if (env == NULL) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < count; ++i)
    if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0) env[k++] = environ[i];
  if (library != NULL) {
    size_t len = strlen(library) + sizeof "LD_PRELOAD=";
    char *entry = malloc(len);
    if (entry == NULL) return NULL;
    snprintf(entry, len, "LD_PRELOAD=%s", library);
    env[k++] = entry;
  }
  env[k] = NULL;
  return env;
}

static int spawn_many(long n, const char *program, const char *library) {
  char **env = child_environment(library);
  if (env == NULL) return 1;
  char *argv[] = {(char *)program, NULL};
  for (long i = 0; i < n; ++i) {
    pid_t pid;
    int status;
    if (posix_spawn(&pid, program, NULL, NULL, argv, env) != 0 ||
        waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
      fprintf(stderr, "pp_preload_cost: %s failed\n", program);
      return 1;
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) goto usage;
  long n = atol(argv[2]);
  if (n < 1) goto usage;
  double t0 = now_ns();
  int rc;
  if (strcmp(argv[1], "openclose") == 0 && argc == 3)
    rc = open_close(n);
  else if (strcmp(argv[1], "spawn") == 0 && (argc == 4 || argc == 5))
    rc = spawn_many(n, argv[3], argc == 5 ? argv[4] : NULL);
  else
    goto usage;
  if (rc != 0) return rc;
  printf("ns_per_op=%.1f\n", (now_ns() - t0) / (double)n);
  return 0;
usage:
  fprintf(stderr,
          "usage: pp_preload_cost openclose N | spawn N PROGRAM [LIBRARY]\n");
  return 2;
}
