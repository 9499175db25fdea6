/* A small TCP server for tests/run/, built three times: dynamically by
 * make, statically with musl-gcc, and statically for i386 with
 * i686-linux-gnu-gcc by the tests. Plain C and POSIX, and Linux's system
 * calls for the modes that make them by hand.
 *
 * It listens on 127.0.0.1 (port 0: any), prints "port N" on stdout, then
 * answers each connection with one line, also printed on stdout:
 *   accept=IP:PORT peer=IP:PORT local=IP:PORT nb=0|1 ce=0|1 pid=N data=FIRST-LINE
 * ("accept" is what accept put in addr, "peer" getpeername(), "local"
 * getsockname(), nb and ce the connection's O_NONBLOCK and FD_CLOEXEC as
 * accept gave it) and closes it.
 *
 *   run_server blocking        accept() in a loop on a blocking listener
 *   run_server epoll           non-blocking listener, epoll, accept4(
 *                              SOCK_NONBLOCK|SOCK_CLOEXEC) until EAGAIN;
 *                              many connections at once
 *   run_server prefork N       N workers blocked in accept() on one listener
 *   run_server efault          first accept() with a bad addr pointer: prints
 *                              "efault fd=-1 errno=N", then serves as blocking
 *   run_server eintr           its first accept() is interrupted by SIGALRM
 *                              (no SA_RESTART) after 1 s: prints "eintr",
 *                              sleeps 1 s, then serves as blocking
 *   run_server direct          as blocking, with accept4(..., 0),
 *                              getpeername() and getsockname() made with
 *                              syscall() by their own numbers (on i386, where
 *                              the C library goes through socketcall(), the
 *                              direct calls of Linux 4.3)
 *   run_server io_uring        prints "io_uring_setup errno=N" and exits
 *   run_server info            prints "bits=N socketcall=0|1" and exits
 * and on i386 only, where socketcall(2) multiplexes the socket calls:
 *   run_server socketcall      as blocking, with accept(), getpeername()
 *                              and getsockname() made as syscall(
 *                              SYS_socketcall, SYS_ACCEPT, SYS_GETPEERNAME or
 *                              SYS_GETSOCKNAME, args)
 *   run_server socketcall4     the same with SYS_ACCEPT4 and
 *                              SOCK_NONBLOCK|SOCK_CLOEXEC
 *   run_server socketcall-efault  as socketcall, after a socketcall(
 *                              SYS_ACCEPT) whose args array is a bad pointer
 *                              ("efault-args fd=-1 errno=N") and one whose
 *                              addr is ("efault fd=-1 errno=N"); on its first
 *                              connection, the same two faults for
 *                              SYS_GETPEERNAME ("efault-peer-args ret=-1
 *                              errno=N", "efault-peer-addr ret=-1 errno=N")
 * An unknown mode is an error (status 2).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdint.h>
#if defined(__i386__)
#include <linux/net.h> /* SYS_ACCEPT, SYS_ACCEPT4, SYS_GETPEERNAME */
#endif

#define MAXC 1024

static void text(const struct sockaddr_storage *ss, socklen_t len, char *out, size_t cap) {
  char ip[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (len >= sizeof(struct sockaddr_in) && ss->ss_family == AF_INET) {
    const struct sockaddr_in *s = (const struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &s->sin_addr, ip, sizeof ip);
    port = ntohs(s->sin_port);
  } else if (len >= sizeof(struct sockaddr_in6) && ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;
    inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof ip);
    port = ntohs(s->sin6_port);
  }
  snprintf(out, cap, "%s:%d", ip, port);
}

/* How the serving loops accept and ask for the peer: the C library's
 * calls, or the same made by hand (mode direct, and on i386 socketcall). */
static int lib_accept(int lfd, struct sockaddr *addr, socklen_t *len, int flags) {
  return flags ? accept4(lfd, addr, len, flags) : accept(lfd, addr, len);
}

static int lib_getpeername(int fd, struct sockaddr *addr, socklen_t *len) {
  return getpeername(fd, addr, len);
}

static int lib_getsockname(int fd, struct sockaddr *addr, socklen_t *len) {
  return getsockname(fd, addr, len);
}

#if defined(SYS_accept4) && defined(SYS_getpeername) && defined(SYS_getsockname)
#define HAVE_DIRECT 1
static int direct_accept(int lfd, struct sockaddr *addr, socklen_t *len, int flags) {
  return (int)syscall(SYS_accept4, lfd, addr, len, flags);
}

static int direct_getpeername(int fd, struct sockaddr *addr, socklen_t *len) {
  return (int)syscall(SYS_getpeername, fd, addr, len);
}

static int direct_getsockname(int fd, struct sockaddr *addr, socklen_t *len) {
  return (int)syscall(SYS_getsockname, fd, addr, len);
}
#endif

#if defined(__i386__)
/* socketcall(op, args): the arguments in an array of unsigned long. */
static int socketcall_accept(int lfd, struct sockaddr *addr, socklen_t *len, int flags) {
  unsigned long args[4] = {(unsigned long)lfd, (unsigned long)(uintptr_t)addr,
                           (unsigned long)(uintptr_t)len, (unsigned long)flags};
  return (int)syscall(SYS_socketcall, flags ? SYS_ACCEPT4 : SYS_ACCEPT, args);
}

static int socketcall_getpeername(int fd, struct sockaddr *addr, socklen_t *len) {
  unsigned long args[3] = {(unsigned long)fd, (unsigned long)(uintptr_t)addr,
                           (unsigned long)(uintptr_t)len};
  return (int)syscall(SYS_socketcall, SYS_GETPEERNAME, args);
}

static int socketcall_getsockname(int fd, struct sockaddr *addr, socklen_t *len) {
  unsigned long args[3] = {(unsigned long)fd, (unsigned long)(uintptr_t)addr,
                           (unsigned long)(uintptr_t)len};
  return (int)syscall(SYS_socketcall, SYS_GETSOCKNAME, args);
}
#endif

static int (*do_accept)(int, struct sockaddr *, socklen_t *, int) = lib_accept;
static int (*do_getpeername)(int, struct sockaddr *, socklen_t *) = lib_getpeername;
static int (*do_getsockname)(int, struct sockaddr *, socklen_t *) = lib_getsockname;
static int accept_flags = 0;  /* of the blocking loop's accept */
#if defined(__i386__)
static int peer_faults = 0;   /* socketcall-efault: the getpeername faults, once */
#endif

struct conn {
  int fd;
  int nb, ce; /* O_NONBLOCK and FD_CLOEXEC as accept gave them */
  char accepted[80];
  char buf[512];
  size_t len;
};

static void accepted(struct conn *c) {
  c->nb = (fcntl(c->fd, F_GETFL) & O_NONBLOCK) ? 1 : 0;
  c->ce = (fcntl(c->fd, F_GETFD) & FD_CLOEXEC) ? 1 : 0;
}

#if defined(__i386__)
static void getpeername_faults(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int r = (int)syscall(SYS_socketcall, SYS_GETPEERNAME, (unsigned long *)8);
  printf("efault-peer-args ret=%d errno=%d\n", r, r < 0 ? errno : 0);
  unsigned long args[3] = {(unsigned long)fd, 8, (unsigned long)(uintptr_t)&len};
  r = (int)syscall(SYS_socketcall, SYS_GETPEERNAME, args);
  printf("efault-peer-addr ret=%d errno=%d\n", r, r < 0 ? errno : 0);
  fflush(stdout);
}
#endif

static void finish(struct conn *c) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
#if defined(__i386__)
  if (peer_faults) {
    getpeername_faults(c->fd);
    peer_faults = 0;
  }
#endif
  char peer[80] = "none";
  if (do_getpeername(c->fd, (struct sockaddr *)&ss, &len) == 0) text(&ss, len, peer, sizeof peer);
  char local[80] = "none";
  len = sizeof ss;
  if (do_getsockname(c->fd, (struct sockaddr *)&ss, &len) == 0) text(&ss, len, local, sizeof local);
  char *nl = memchr(c->buf, '\n', c->len);
  size_t n = nl ? (size_t)(nl - c->buf) : c->len;
  if (n > 0 && c->buf[n - 1] == '\r') n--;
  char line[1024];
  int m = snprintf(line, sizeof line, "accept=%s peer=%s local=%s nb=%d ce=%d pid=%d data=%.*s\n",
                   c->accepted, peer, local, c->nb, c->ce, (int)getpid(), (int)n, c->buf);
  fputs(line, stdout);
  fflush(stdout);
  int flags = fcntl(c->fd, F_GETFL);
  fcntl(c->fd, F_SETFL, flags & ~O_NONBLOCK);
  if (write(c->fd, line, (size_t)m) < 0) { /* the client left */ }
  close(c->fd);
}

/* Reads until a newline or EOF; 1 when the connection is finished. */
static int feed(struct conn *c) {
  for (;;) {
    ssize_t r = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == EAGAIN) return 0;
    if (r <= 0) return 1;
    c->len += (size_t)r;
    if (memchr(c->buf, '\n', c->len) || c->len == sizeof c->buf) return 1;
  }
}

static void on_alarm(int sig) { (void)sig; }

static void serve_blocking(int lfd, int bad_first) {
  for (;;) {
    struct conn c = {0};
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (bad_first) {
      int fd = do_accept(lfd, (struct sockaddr *)8, &len, accept_flags);
      printf("efault fd=%d errno=%d\n", fd, fd < 0 ? errno : 0);
      fflush(stdout);
      bad_first = 0;
      len = sizeof ss;
    }
    c.fd = do_accept(lfd, (struct sockaddr *)&ss, &len, accept_flags);
    if (c.fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      perror("accept");
      exit(1);
    }
    accepted(&c);
    /* A connection accepted non-blocking (socketcall4) is read blocking. */
    if (c.nb) fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) & ~O_NONBLOCK);
    text(&ss, len, c.accepted, sizeof c.accepted);
    feed(&c);
    finish(&c);
  }
}

static void serve_epoll(int lfd) {
  fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  for (;;) {
    struct epoll_event evs[64];
    int n = epoll_wait(ep, evs, 64, -1);
    for (int i = 0; i < n; i++) {
      if (evs[i].data.ptr == NULL) {
        for (;;) {
          struct sockaddr_storage ss;
          socklen_t len = sizeof ss;
          int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            if (errno == EINTR || errno == ECONNABORTED) continue;
            perror("accept4");
            exit(1);
          }
          struct conn *c = calloc(1, sizeof *c);
          c->fd = fd;
          accepted(c);
          text(&ss, len, c->accepted, sizeof c->accepted);
          struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
        }
      } else {
        struct conn *c = evs[i].data.ptr;
        if (feed(c)) {
          epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
          finish(c);
          free(c);
        }
      }
    }
  }
}

static const char *const modes[] = {"blocking", "epoll", "prefork", "efault", "eintr", "direct",
#if defined(__i386__)
                                    "socketcall", "socketcall4", "socketcall-efault",
#endif
                                    NULL};

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "blocking";
  if (strcmp(mode, "io_uring") == 0) {
    char params[120] = {0};
    long r = syscall(425 /* io_uring_setup, the same number everywhere */, 1, params);
    printf("io_uring_setup errno=%d\n", r < 0 ? errno : 0);
    return 0;
  }
  if (strcmp(mode, "info") == 0) {
#if defined(__i386__)
    int sc = 1;
#else
    int sc = 0;
#endif
    printf("bits=%d socketcall=%d\n", (int)(8 * sizeof(void *)), sc);
    return 0;
  }
  int known = 0;
  for (int i = 0; modes[i] != NULL; i++)
    if (strcmp(mode, modes[i]) == 0) known = 1;
  if (!known) {
    fprintf(stderr, "run_server: unknown mode %s (on this architecture)\n", mode);
    return 2;
  }
  if (strcmp(mode, "direct") == 0) {
#if defined(HAVE_DIRECT)
    do_accept = direct_accept;
    do_getpeername = direct_getpeername;
    do_getsockname = direct_getsockname;
#else
    fprintf(stderr, "run_server: no SYS_accept4, SYS_getpeername or SYS_getsockname here\n");
    return 2;
#endif
  }
#if defined(__i386__)
  if (strncmp(mode, "socketcall", 10) == 0) {
    do_accept = socketcall_accept;
    do_getpeername = socketcall_getpeername;
    do_getsockname = socketcall_getsockname;
    if (strcmp(mode, "socketcall4") == 0) accept_flags = SOCK_NONBLOCK | SOCK_CLOEXEC;
  }
#endif
  signal(SIGPIPE, SIG_IGN);
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(lfd, (struct sockaddr *)&sin, sizeof sin) != 0 || listen(lfd, 128) != 0) {
    perror("bind/listen");
    return 1;
  }
  socklen_t len = sizeof sin;
  getsockname(lfd, (struct sockaddr *)&sin, &len);
  printf("port %d\n", ntohs(sin.sin_port));
  fflush(stdout);
  if (strcmp(mode, "epoll") == 0) serve_epoll(lfd);
  if (strcmp(mode, "efault") == 0) serve_blocking(lfd, 1);
#if defined(__i386__)
  if (strcmp(mode, "socketcall-efault") == 0) {
    int fd = (int)syscall(SYS_socketcall, SYS_ACCEPT, (unsigned long *)8);
    printf("efault-args fd=%d errno=%d\n", fd, fd < 0 ? errno : 0);
    fflush(stdout);
    peer_faults = 1;
    serve_blocking(lfd, 1);
  }
#endif
  if (strcmp(mode, "eintr") == 0) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART: accept() returns EINTR */
    sigaction(SIGALRM, &sa, NULL);
    alarm(1);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd = accept(lfd, (struct sockaddr *)&ss, &sl);
    printf("eintr fd=%d errno=%d\n", fd, fd < 0 ? errno : 0);
    fflush(stdout);
    sleep(1);
  }
  if (strcmp(mode, "prefork") == 0) {
    int n = argc > 2 ? atoi(argv[2]) : 2;
    for (int i = 0; i < n; i++)
      if (fork() == 0) serve_blocking(lfd, 0);
    while (wait(NULL) > 0) {}
    return 0;
  }
  serve_blocking(lfd, 0);
  return 0;
}
