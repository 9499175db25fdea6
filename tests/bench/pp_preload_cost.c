/* The cost of libproxyproto.so in processes that never accept a proxied
 * connection, as when it is listed in /etc/ld.so.preload.
 *
 *   pp_preload_cost openclose N
 *       open("/dev/null") and close() N times (close() is interposed);
 *       run it with and without LD_PRELOAD.
 *   pp_preload_cost spawn N PROGRAM [LIBRARY]
 *       start PROGRAM (e.g. /bin/true) N times with posix_spawn() and wait
 *       for each; with LIBRARY, the children get LD_PRELOAD=LIBRARY, and
 *       this process itself never has it. Also reports the children's
 *       minor page faults (the dynamic loader's work shows up there).
 *   pp_preload_cost read N
 *       read() 64 bytes of /dev/zero N times (read() is interposed, for
 *       UDP sockets): the cost to a program with no UDP socket in scope.
 *   pp_preload_cost msg N
 *       sendmsg() one byte over an AF_UNIX socketpair and recvmsg() it with
 *       a control buffer, N times, passing no descriptor: the cost of the
 *       descriptor-passing check to a program that never passes one.
 *   pp_preload_cost syscall N
 *       the CPU time of one system call on this machine, for the floor of
 *       the per-connection cost: getppid() (entry and exit alone) and
 *       recv(MSG_PEEK) of 28 bytes queued on a loopback TCP connection.
 *
 * Prints key=value pairs ("ns_per_op=X" first) for bench.py. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
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

static long minor_faults;

static int spawn_many(long n, const char *program, const char *library) {
  char **env = child_environment(library);
  if (env == NULL) return 1;
  char *argv[] = {(char *)program, NULL};
  for (long i = 0; i < n; ++i) {
    pid_t pid;
    int status;
    struct rusage usage;
    if (posix_spawn(&pid, program, NULL, NULL, argv, env) != 0 ||
        wait4(pid, &status, 0, &usage) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
      fprintf(stderr, "pp_preload_cost: %s failed\n", program);
      return 1;
    }
    minor_faults += usage.ru_minflt;
  }
  return 0;
}

static double thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int syscall_cost(long n) {
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  int l = socket(AF_INET, SOCK_STREAM, 0);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&a, len) != 0 ||
      listen(l, 1) != 0 || getsockname(l, (struct sockaddr *)&a, &len) != 0 ||
      connect(c, (struct sockaddr *)&a, len) != 0) {
    perror("pp_preload_cost: loopback connection");
    return 1;
  }
  int s = accept(l, NULL, NULL);
  char buf[256] = {0};
  if (s < 0 || send(c, buf, 28, 0) != 28) return 1;
  for (int i = 0; i < 100 && recv(s, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT) < 28; ++i)
    usleep(1000);
  double t0 = thread_cpu_ns();
  for (long i = 0; i < n; ++i) getppid();
  double t1 = thread_cpu_ns();
  for (long i = 0; i < n; ++i)
    if (recv(s, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT) != 28) return 1;
  double t2 = thread_cpu_ns();
  printf("ns_per_op=%.1f peek_ns=%.1f\n", (t1 - t0) / (double)n,
         (t2 - t1) / (double)n);
  return 0;
}

static int read_many(long n) {
  int fd = open("/dev/zero", O_RDONLY);
  char buf[64];
  if (fd < 0) return 1;
  for (long i = 0; i < n; ++i)
    if (read(fd, buf, sizeof buf) != (ssize_t)sizeof buf) return 1;
  return close(fd);
}

static int message_pairs(long n) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 1;
  char byte = 'x';
  char control[64];
  for (long i = 0; i < n; ++i) {
    struct iovec iov = {&byte, 1};
    struct msghdr out = {.msg_iov = &iov, .msg_iovlen = 1};
    if (sendmsg(sv[0], &out, 0) != 1) return 1;
    struct msghdr in = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                        .msg_controllen = sizeof control};
    if (recvmsg(sv[1], &in, 0) != 1) return 1;
  }
  return close(sv[0]) | close(sv[1]);
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
  else if (strcmp(argv[1], "read") == 0 && argc == 3)
    rc = read_many(n);
  else if (strcmp(argv[1], "msg") == 0 && argc == 3)
    rc = message_pairs(n);
  else if (strcmp(argv[1], "syscall") == 0 && argc == 3)
    return syscall_cost(n);
  else
    goto usage;
  if (rc != 0) return rc;
  printf("ns_per_op=%.1f minflt_per_op=%.1f\n", (now_ns() - t0) / (double)n,
         (double)minor_faults / (double)n);
  return 0;
usage:
  fprintf(stderr,
          "usage: pp_preload_cost openclose N | spawn N PROGRAM [LIBRARY] | "
          "read N | msg N | syscall N\n");
  return 2;
}
