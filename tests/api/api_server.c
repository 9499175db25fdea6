/* A server that uses the public API on the connections it accepts: the
 * integration tests run it under libproxyproto (it is linked against it, and
 * may be preloaded too) and read what the application saw.
 *
 *   api_server PORT COUNT [--keep|--no-keep] [--clear-env]
 *
 * --keep calls proxyproto_keep_headers(1) before accepting; --no-keep leaves
 * keeping to LIBPROXYPROTO_KEEP_HEADER. --clear-env clears the environment
 * before listening, as daemons do in their workers. Prints "listening" once, then one
 * line per connection, fields separated by " | ":
 *
 *   conn | peer=ADDR:PORT | local=ADDR:PORT | header=DESCRIPTION
 *        | authority=.. | alpn=.. | unique_id=.. | aws=.. | azure=..
 *        | gcp=.. | ssl=CLIENT/VERIFY/VERSION/CN/CIPHER | payload=TEXT
 *
 * A field whose TLV is absent is "-", malformed "!"; with no kept header,
 * header=none(errno text). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <proxyproto.h>

static unsigned char header_buf[PROXYPROTO_HEADER_MAX_LENGTH];
static char text[PROXYPROTO_HEADER_MAX_LENGTH * 4 + 1024];

static void put_addr(const char *key, const struct sockaddr_storage *ss) {
  char a[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &in->sin_addr, a, sizeof a);
    port = ntohs(in->sin_port);
  } else if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
    inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof a);
    port = ntohs(in6->sin6_port);
  }
  printf(" | %s=%s:%u", key, a, port);
}

static void put_bytes(const char *key, int rc, const struct proxyproto_bytes *b) {
  printf(" | %s=", key);
  if (rc == PROXYPROTO_TLV_ABSENT) { putchar('-'); return; }
  if (rc != PROXYPROTO_TLV_OK) { putchar('!'); return; }
  fwrite(b->data, 1, b->length, stdout);
}

static void put_field(const struct proxyproto_bytes *b) {
  if (b->data == NULL) putchar('-'); else fwrite(b->data, 1, b->length, stdout);
}

static void describe_connection(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  struct proxyproto_header h;
  struct proxyproto_bytes b;
  struct proxyproto_ssl ssl;
  uint32_t u32;
  uint64_t u64;
  ssize_t n;
  int rc;
  printf("conn");
  getpeername(fd, (struct sockaddr *)&ss, &len);
  put_addr("peer", &ss);
  len = sizeof ss;
  getsockname(fd, (struct sockaddr *)&ss, &len);
  put_addr("local", &ss);
  n = proxyproto_get_header(fd, header_buf, sizeof header_buf, &h);
  if (n < 0) {
    printf(" | header=none(%s)", strerror(errno));
  } else {
    proxyproto_describe(&h, text, sizeof text);
    printf(" | header=%s", text);
    put_bytes("authority", proxyproto_get_authority(&h, &b), &b);
    put_bytes("alpn", proxyproto_get_alpn(&h, &b), &b);
    put_bytes("unique_id", proxyproto_get_unique_id(&h, &b), &b);
    put_bytes("aws", proxyproto_get_aws_vpce_id(&h, &b), &b);
    rc = proxyproto_get_azure_linkid(&h, &u32);
    if (rc == PROXYPROTO_TLV_OK) printf(" | azure=%" PRIu32, u32);
    else printf(" | azure=%s", rc == PROXYPROTO_TLV_ABSENT ? "-" : "!");
    rc = proxyproto_get_gcp_psc_id(&h, &u64);
    if (rc == PROXYPROTO_TLV_OK) printf(" | gcp=%" PRIu64, u64);
    else printf(" | gcp=%s", rc == PROXYPROTO_TLV_ABSENT ? "-" : "!");
    rc = proxyproto_get_ssl(&h, &ssl);
    if (rc == PROXYPROTO_TLV_OK) {
      printf(" | ssl=%u/%" PRIu32 "/", ssl.client, ssl.verify);
      put_field(&ssl.version);
      putchar('/');
      put_field(&ssl.cn);
      putchar('/');
      put_field(&ssl.cipher);
    } else {
      printf(" | ssl=%s", rc == PROXYPROTO_TLV_ABSENT ? "-" : "!");
    }
  }
  printf(" | payload=");
  for (;;) {
    char chunk[512];
    const ssize_t got = read(fd, chunk, sizeof chunk);
    if (got <= 0) break;
    fwrite(chunk, 1, (size_t)got, stdout);
  }
  putchar('\n');
  fflush(stdout);
}

int main(int argc, char **argv) {
  struct sockaddr_in addr;
  const int on = 1;
  long count, i;
  int listener;
  if (argc < 3) {
    fprintf(stderr, "usage: api_server PORT COUNT [--keep|--no-keep]\n");
    return 2;
  }
  if (argc > 3 && strcmp(argv[3], "--keep") == 0) proxyproto_keep_headers(1);
  if (argc > 4 && strcmp(argv[4], "--clear-env") == 0) clearenv();
  count = strtol(argv[2], NULL, 10);
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)atoi(argv[1]));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  listener = socket(AF_INET, SOCK_STREAM, 0);
  if (listener < 0 ||
      setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
      bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 ||
      listen(listener, 16) != 0) {
    perror("api_server");
    return 2;
  }
  printf("listening\n");
  fflush(stdout);
  for (i = 0; i < count; i++) {
    const int fd = accept(listener, NULL, NULL);
    if (fd < 0) {
      perror("api_server: accept");
      return 2;
    }
    describe_connection(fd);
    close(fd);
  }
  return 0;
}
