/* proxyproto-inspect: show the PROXY protocol headers a load balancer sends.
 *
 * Listens on a TCP port (or reads a capture from standard input), reads each
 * connection's first bytes itself and decodes them with libproxyproto's pure
 * parser: one line per connection, human-readable or JSON (--json).
 *
 * The program is linked against libproxyproto, which interposes accept(); it
 * accepts with the accept4 system call directly, so that its connections
 * reach it untouched, header included. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* syscall(), strnlen() */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <proxyproto.h>

static unsigned char buffer[PROXYPROTO_HEADER_MAX_LENGTH];

static void usage(FILE *out) {
  fputs("usage: proxyproto-inspect [--json] --listen [ADDR:]PORT [--count N]"
        " [--timeout MS]\n"
        "       proxyproto-inspect [--json] --stdin\n",
        out);
}

/* ---- JSON ------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s[0..n), or 0. */
static size_t utf8_sequence(const unsigned char *s, size_t n) {
  size_t len, i;
  uint32_t cp;
  if (s[0] < 0x80) return 1;
  if (s[0] >= 0xC2 && s[0] <= 0xDF) { len = 2; cp = s[0] & 0x1Fu; }
  else if (s[0] >= 0xE0 && s[0] <= 0xEF) { len = 3; cp = s[0] & 0x0Fu; }
  else if (s[0] >= 0xF0 && s[0] <= 0xF4) { len = 4; cp = s[0] & 0x07u; }
  else return 0;
  if (n < len) return 0;
  for (i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (s[i] & 0x3Fu);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

/* A JSON string of the bytes: valid UTF-8 is kept, control characters are
 * escaped, and a byte that is not part of valid UTF-8 is shown as the code
 * point of the same value (\u00XX), so the output is always valid JSON. */
static void json_string(const unsigned char *s, size_t n) {
  size_t i = 0;
  putchar('"');
  while (i < n) {
    const unsigned char c = s[i];
    size_t len;
    if (c == '"' || c == '\\') { printf("\\%c", c); i++; continue; }
    if (c == '\n') { fputs("\\n", stdout); i++; continue; }
    if (c == '\r') { fputs("\\r", stdout); i++; continue; }
    if (c == '\t') { fputs("\\t", stdout); i++; continue; }
    if (c < 0x20 || c == 0x7F) { printf("\\u%04x", c); i++; continue; }
    len = utf8_sequence(s + i, n - i);
    if (len == 0) { printf("\\u%04x", c); i++; continue; }
    fwrite(s + i, 1, len, stdout);
    i += len;
  }
  putchar('"');
}

static void json_cstring(const char *s) {
  json_string((const unsigned char *)s, strlen(s));
}

static void json_hex(const unsigned char *s, size_t n) {
  size_t i;
  putchar('"');
  for (i = 0; i < n; i++) printf("%02x", s[i]);
  putchar('"');
}

static void json_address(const struct sockaddr_storage *ss, socklen_t len) {
  char text[INET6_ADDRSTRLEN];
  if (len == 0) { fputs("null", stdout); return; }
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    printf("{\"address\":\"%s\",\"port\":%u}", text, ntohs(in->sin_port));
  } else if (ss->ss_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    printf("{\"address\":\"%s\",\"port\":%u}", text, ntohs(in6->sin6_port));
  } else if (ss->ss_family == AF_UNIX) {
    const struct sockaddr_un *un = (const struct sockaddr_un *)ss;
    fputs("{\"path\":", stdout);
    json_string((const unsigned char *)un->sun_path,
                strnlen(un->sun_path, sizeof un->sun_path));
    putchar('}');
  } else {
    fputs("null", stdout);
  }
}

static void json_ssl(const struct proxyproto_header *h) {
  struct proxyproto_ssl ssl;
  const struct { const char *name; const struct proxyproto_bytes *v; } f[] = {
      {"version", &ssl.version}, {"cn", &ssl.cn}, {"cipher", &ssl.cipher},
      {"sig_alg", &ssl.sig_alg}, {"key_alg", &ssl.key_alg},
      {"group", &ssl.group}, {"sig_scheme", &ssl.sig_scheme}};
  size_t i;
  if (proxyproto_get_ssl(h, &ssl) != PROXYPROTO_TLV_OK) {
    fputs("null,\"malformed\":true", stdout);
    return;
  }
  printf("{\"client\":%u,\"verify\":%" PRIu32, ssl.client, ssl.verify);
  for (i = 0; i < sizeof f / sizeof f[0]; i++) {
    if (f[i].v->data == NULL) continue;
    printf(",\"%s\":", f[i].name);
    json_string(f[i].v->data, f[i].v->length);
  }
  if (ssl.client_cert.data != NULL) {
    fputs(",\"client_cert\":", stdout);
    json_hex(ssl.client_cert.data, ssl.client_cert.length);
  }
  putchar('}');
}

/* One TLV's decoded value: a string, number or object where the type is
 * known and well formed, otherwise its bytes in hex. */
static void json_tlv_value(const struct proxyproto_header *h,
                           const struct proxyproto_tlv *t) {
  struct proxyproto_bytes b;
  uint32_t u32;
  uint64_t u64;
  switch (t->type) {
    case PROXYPROTO_TLV_ALPN:
    case PROXYPROTO_TLV_AUTHORITY:
    case PROXYPROTO_TLV_UNIQUE_ID:
    case PROXYPROTO_TLV_NETNS:
      json_string(t->value, t->length);
      return;
    case PROXYPROTO_TLV_SSL:
      json_ssl(h);
      return;
    case PROXYPROTO_TLV_AWS:
      if (t->length > 0 && t->value[0] == PROXYPROTO_AWS_VPCE_ID &&
          proxyproto_get_aws_vpce_id(h, &b) == PROXYPROTO_TLV_OK) {
        json_string(b.data, b.length);
        fputs(",\"subtype\":1", stdout);
        return;
      }
      break;
    case PROXYPROTO_TLV_AZURE:
      if (t->length > 0 && t->value[0] == PROXYPROTO_AZURE_LINKID &&
          proxyproto_get_azure_linkid(h, &u32) == PROXYPROTO_TLV_OK) {
        printf("%" PRIu32 ",\"subtype\":1", u32);
        return;
      }
      break;
    case PROXYPROTO_TLV_GCP:
      if (proxyproto_get_gcp_psc_id(h, &u64) == PROXYPROTO_TLV_OK) {
        printf("%" PRIu64, u64);
        return;
      }
      break;
    default:
      break;
  }
  json_hex(t->value, t->length);
}

static const char *family_name(int family) {
  switch (family) {
    case AF_INET: return "inet";
    case AF_INET6: return "inet6";
    case AF_UNIX: return "unix";
    default: return "unspec";
  }
}

static const char *transport_name(int transport) {
  switch (transport) {
    case SOCK_STREAM: return "stream";
    case SOCK_DGRAM: return "dgram";
    default: return "unspec";
  }
}

static void print_json(int status, const struct proxyproto_header *h,
                       const char *peer, size_t received) {
  struct proxyproto_tlv_iterator it;
  struct proxyproto_tlv t;
  int first = 1;
  putchar('{');
  if (peer != NULL) {
    fputs("\"peer\":", stdout);
    json_cstring(peer);
    putchar(',');
  }
  if (status != PROXYPROTO_COMPLETE) {
    printf("\"error\":\"%s\"", status == PROXYPROTO_INVALID ? "invalid"
                               : status == PROXYPROTO_NOT_PROXY ? "not_proxy"
                                                               : "incomplete");
    if (status == PROXYPROTO_INVALID) printf(",\"defect\":\"%s\"", h->defect);
    printf(",\"received\":%zu}\n", received);
    return;
  }
  printf("\"version\":%d,\"command\":\"%s\",\"family\":\"%s\","
         "\"transport\":\"%s\",\"length\":%zu,\"source\":",
         h->version, h->command == PROXYPROTO_CMD_LOCAL ? "LOCAL" : "PROXY",
         family_name(h->family), transport_name(h->transport), h->length);
  json_address(&h->source, h->source_length);
  fputs(",\"destination\":", stdout);
  json_address(&h->destination, h->destination_length);
  fputs(",\"tlvs\":[", stdout);
  proxyproto_tlv_begin(&it, h->tlvs, h->tlvs_length);
  while (proxyproto_tlv_next(&it, &t)) {
    const char *name = proxyproto_tlv_name(t.type);
    printf("%s{\"type\":%u,\"name\":", first ? "" : ",", t.type);
    first = 0;
    if (name != NULL) json_cstring(name); else fputs("null", stdout);
    fputs(",\"value\":", stdout);
    json_tlv_value(h, &t);
    putchar('}');
  }
  fputs("]}\n", stdout);
}

static void print_text(int status, const struct proxyproto_header *h,
                       const char *peer, size_t received) {
  static char line[PROXYPROTO_HEADER_MAX_LENGTH * 4 + 1024];
  if (peer != NULL) printf("%s: ", peer);
  switch (status) {
    case PROXYPROTO_COMPLETE:
      proxyproto_describe(h, line, sizeof line);
      printf("%s\n", line);
      break;
    case PROXYPROTO_INVALID:
      printf("invalid header (%s) in %zu bytes\n", h->defect, received);
      break;
    case PROXYPROTO_NOT_PROXY:
      printf("no PROXY header (%zu bytes received)\n", received);
      break;
    default:
      printf("incomplete header (%zu bytes received)\n", received);
      break;
  }
}

static int json_output = 0;

static void report(int status, const struct proxyproto_header *h,
                   const char *peer, size_t received) {
  if (json_output)
    print_json(status, h, peer, received);
  else
    print_text(status, h, peer, received);
  fflush(stdout);
}

/* ---- Input -------------------------------------------------------------- */

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads from fd until the bytes decide (complete, invalid, not a header),
 * the peer stops sending, or timeout_ms pass (-1: no limit). */
static int read_header(int fd, int timeout_ms, struct proxyproto_header *h,
                       size_t *received) {
  const int64_t deadline = now_ms() + timeout_ms;
  size_t have = 0;
  int status = PROXYPROTO_NEED_MORE;
  memset(h, 0, sizeof *h);
  while (have < sizeof buffer) {
    ssize_t n;
    if (timeout_ms >= 0) {
      struct pollfd p = {fd, POLLIN, 0};
      const int64_t left = deadline - now_ms();
      if (left <= 0 || poll(&p, 1, (int)left) == 0) break;
    }
    n = read(fd, buffer + have, sizeof buffer - have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    have += (size_t)n;
    status = proxyproto_parse(buffer, have, PROXYPROTO_V1 | PROXYPROTO_V2, h);
    if (status != PROXYPROTO_NEED_MORE) break;
  }
  *received = have;
  if (have == 0) return PROXYPROTO_NEED_MORE;
  return proxyproto_parse(buffer, have, PROXYPROTO_V1 | PROXYPROTO_V2, h);
}

static int parse_listen(const char *spec, struct sockaddr_storage *ss,
                        socklen_t *len) {
  char host[INET6_ADDRSTRLEN + 2] = "127.0.0.1";
  const char *port_text = spec;
  const char *colon = strrchr(spec, ':');
  char *end;
  unsigned long port;
  memset(ss, 0, sizeof *ss);
  if (colon != NULL) {
    size_t n = (size_t)(colon - spec);
    const char *h = spec;
    if (n >= 2 && spec[0] == '[' && spec[n - 1] == ']') { h++; n -= 2; }
    if (n >= sizeof host) return 0;
    memcpy(host, h, n);
    host[n] = '\0';
    port_text = colon + 1;
  }
  errno = 0;
  port = strtoul(port_text, &end, 10);
  if (errno != 0 || *port_text == '\0' || *end != '\0' || port > 65535) return 0;
  {
    struct sockaddr_in *in = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &in->sin_addr) == 1) {
      in->sin_family = AF_INET;
      in->sin_port = htons((uint16_t)port);
      *len = sizeof *in;
      return 1;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons((uint16_t)port);
      *len = sizeof *in6;
      return 1;
    }
  }
  return 0;
}

static void peer_text(const struct sockaddr_storage *ss, char *out, size_t cap) {
  char text[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (ss->ss_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    port = ntohs(in->sin_port);
    snprintf(out, cap, "%s:%u", text, port);
  } else {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    port = ntohs(in6->sin6_port);
    snprintf(out, cap, "[%s]:%u", text, port);
  }
}

static int serve(const char *spec, long count, int timeout_ms) {
  struct sockaddr_storage addr;
  socklen_t len;
  const int on = 1;
  int listener;
  long served = 0;
  if (!parse_listen(spec, &addr, &len)) {
    fprintf(stderr, "proxyproto-inspect: cannot listen on '%s'\n", spec);
    return 2;
  }
  listener = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0 ||
      setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
      bind(listener, (struct sockaddr *)&addr, len) != 0 ||
      listen(listener, 64) != 0) {
    fprintf(stderr, "proxyproto-inspect: %s: %s\n", spec, strerror(errno));
    return 2;
  }
  fprintf(stderr, "proxyproto-inspect: listening on %s\n", spec);
  while (count < 0 || served < count) {
    struct sockaddr_storage peer;
    socklen_t peer_len = sizeof peer;
    struct proxyproto_header h;
    char peer_name[INET6_ADDRSTRLEN + 16];
    size_t received;
    int status;
    /* The system call itself: the accept() of libproxyproto, which this
     * program is linked against, would consume the header. */
    const int fd = (int)syscall(SYS_accept4, listener, (struct sockaddr *)&peer,
                                &peer_len, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      fprintf(stderr, "proxyproto-inspect: accept: %s\n", strerror(errno));
      return 2;
    }
    peer_text(&peer, peer_name, sizeof peer_name);
    status = read_header(fd, timeout_ms, &h, &received);
    report(status, &h, peer_name, received);
    close(fd);
    served++;
  }
  close(listener);
  return 0;
}

int main(int argc, char **argv) {
  const char *listen_spec = NULL;
  int from_stdin = 0, timeout_ms = 3000, i;
  long count = -1;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--json") == 0) {
      json_output = 1;
    } else if (strcmp(a, "--stdin") == 0) {
      from_stdin = 1;
    } else if (strcmp(a, "--listen") == 0 && i + 1 < argc) {
      listen_spec = argv[++i];
    } else if (strcmp(a, "--count") == 0 && i + 1 < argc) {
      char *end;
      count = strtol(argv[++i], &end, 10);
      if (*end != '\0' || count < 1) { usage(stderr); return 2; }
    } else if (strcmp(a, "--timeout") == 0 && i + 1 < argc) {
      char *end;
      const long t = strtol(argv[++i], &end, 10);
      if (*end != '\0' || t < 0 || t > 600000) { usage(stderr); return 2; }
      timeout_ms = (int)t;
    } else if (strcmp(a, "--version") == 0) {
      printf("proxyproto-inspect %s\n", PROXYPROTO_VERSION);
      return 0;
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return 2;
    }
  }
  if (from_stdin == (listen_spec != NULL)) {
    usage(stderr);
    return 2;
  }
  if (from_stdin) {
    struct proxyproto_header h;
    size_t received;
    const int status = read_header(STDIN_FILENO, -1, &h, &received);
    report(status, &h, NULL, received);
    return status == PROXYPROTO_COMPLETE ? 0 : 1;
  }
  return serve(listen_spec, count, timeout_ms);
}
