/* Check tests of the public C interface (include/proxyproto.h), written in
 * C99 against the header alone: parse, write, TLV iteration, every typed
 * accessor (valid, truncated, over-long, wrong subtype), describe, and the
 * per-descriptor calls' errors. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <proxyproto.h>

static struct sockaddr_in ep4(const char *ip, uint16_t port) {
  struct sockaddr_in in;
  memset(&in, 0, sizeof in);
  in.sin_family = AF_INET;
  in.sin_port = htons(port);
  inet_pton(AF_INET, ip, &in.sin_addr);
  return in;
}

static struct sockaddr_in6 ep6(const char *ip, uint16_t port) {
  struct sockaddr_in6 in6;
  memset(&in6, 0, sizeof in6);
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(port);
  inet_pton(AF_INET6, ip, &in6.sin6_addr);
  return in6;
}

/* A v2 PROXY TCP4 header carrying tlvs[0..n), parsed into *h. */
static unsigned char wire[70000];
static void v2_with(const void *tlvs, size_t n, int crc,
                    struct proxyproto_header *h) {
  struct sockaddr_in s = ep4("192.0.2.1", 5000), d = ep4("10.0.0.1", 443);
  struct proxyproto_fields f;
  size_t len;
  memset(&f, 0, sizeof f);
  f.command = PROXYPROTO_CMD_PROXY;
  f.source = (const struct sockaddr *)&s;
  f.source_length = sizeof s;
  f.destination = (const struct sockaddr *)&d;
  f.destination_length = sizeof d;
  f.tlvs = tlvs;
  f.tlvs_length = n;
  f.add_crc32c = crc;
  len = proxyproto_write_v2(&f, wire, sizeof wire);
  ck_assert_uint_gt(len, 0);
  ck_assert_int_eq(proxyproto_parse(wire, len, PROXYPROTO_V2, h),
                   PROXYPROTO_COMPLETE);
  ck_assert_uint_eq(h->length, len);
}

/* One TLV of `type` with `value`. */
static unsigned char area[70000];
static size_t one(uint8_t type, const void *value, size_t n) {
  const size_t end = proxyproto_tlv_put(area, sizeof area, 0, type, value, n);
  ck_assert_uint_eq(end, 3 + n);
  return end;
}

/* A hand-made header whose TLV area is `bytes` (not parsed, so that an
 * accessor meets what the parser would have rejected). */
static struct proxyproto_header raw_area(const void *bytes, size_t n) {
  struct proxyproto_header h;
  memset(&h, 0, sizeof h);
  h.version = 2;
  h.command = PROXYPROTO_CMD_PROXY;
  h.tlvs = bytes;
  h.tlvs_length = n;
  return h;
}

/* ---- parse ------------------------------------------------------------- */

START_TEST(parse_v1_tcp4) {
  const char line[] = "PROXY TCP4 192.0.2.1 10.0.0.1 5000 443\r\nGET";
  struct proxyproto_header h;
  const struct sockaddr_in *s = (const struct sockaddr_in *)&h.source;
  const struct sockaddr_in *d = (const struct sockaddr_in *)&h.destination;
  ck_assert_int_eq(proxyproto_parse(line, sizeof line - 1, PROXYPROTO_V1, &h),
                   PROXYPROTO_COMPLETE);
  ck_assert_int_eq(h.version, 1);
  ck_assert_int_eq(h.command, PROXYPROTO_CMD_PROXY);
  ck_assert_int_eq(h.family, AF_INET);
  ck_assert_int_eq(h.transport, SOCK_STREAM);
  ck_assert_uint_eq(h.length, sizeof line - 1 - 3);
  ck_assert_uint_eq(h.source_length, sizeof(struct sockaddr_in));
  ck_assert_uint_eq(ntohs(s->sin_port), 5000);
  ck_assert_uint_eq(ntohs(d->sin_port), 443);
  ck_assert_uint_eq(ntohl(s->sin_addr.s_addr), 0xC0000201u);
  ck_assert_uint_eq(ntohl(d->sin_addr.s_addr), 0x0A000001u);
  ck_assert_uint_eq(h.tlvs_length, 0);
}
END_TEST

START_TEST(parse_statuses) {
  struct proxyproto_header h;
  const char bad[] = "PROXY TCP4 192.0.2.1  10.0.0.1 5000 443\r\n";
  ck_assert_int_eq(proxyproto_parse("PROXY TCP4 1", 12, 3, &h),
                   PROXYPROTO_NEED_MORE);
  ck_assert_int_eq(proxyproto_parse("GET / HTTP/1.1\r\n", 16, 3, &h),
                   PROXYPROTO_NOT_PROXY);
  ck_assert_int_eq(proxyproto_parse(bad, sizeof bad - 1, 3, &h),
                   PROXYPROTO_INVALID);
  ck_assert_str_eq(h.defect, "v1_bad_space");
  /* A version not in the mask is not a header. */
  ck_assert_int_eq(proxyproto_parse("PROXY UNKNOWN\r\n", 15, PROXYPROTO_V2, &h),
                   PROXYPROTO_NOT_PROXY);
}
END_TEST

START_TEST(parse_v2_unix) {
  static const unsigned char hdr[16 + 216] = {
      0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
      0x21, 0x31, 0x00, 216, '/', 'a', 0};
  struct proxyproto_header h;
  unsigned char copy[sizeof hdr];
  memcpy(copy, hdr, sizeof hdr);
  memcpy(copy + 16 + 108, "/b", 2);
  ck_assert_int_eq(proxyproto_parse(copy, sizeof copy, 2, &h),
                   PROXYPROTO_COMPLETE);
  ck_assert_int_eq(h.family, AF_UNIX);
  ck_assert_int_eq(h.source.ss_family, AF_UNIX);
  ck_assert_str_eq(((const struct sockaddr_un *)&h.source)->sun_path, "/a");
  ck_assert_str_eq(((const struct sockaddr_un *)&h.destination)->sun_path, "/b");
}
END_TEST

/* ---- write -------------------------------------------------------------- */

START_TEST(write_v1_round_trip) {
  struct sockaddr_in6 s = ep6("2001:db8::1", 1), d = ep6("2001:db8::2", 2);
  struct proxyproto_fields f;
  struct proxyproto_header h;
  unsigned char out[PROXYPROTO_V1_MAX_LENGTH];
  size_t n;
  memset(&f, 0, sizeof f);
  f.command = PROXYPROTO_CMD_PROXY;
  f.source = (const struct sockaddr *)&s;
  f.source_length = sizeof s;
  f.destination = (const struct sockaddr *)&d;
  f.destination_length = sizeof d;
  n = proxyproto_write_v1(&f, out, sizeof out);
  ck_assert_uint_eq(n, strlen("PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n"));
  ck_assert_int_eq(memcmp(out, "PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n", n), 0);
  ck_assert_int_eq(proxyproto_parse(out, n, 1, &h), PROXYPROTO_COMPLETE);
  ck_assert_int_eq(h.family, AF_INET6);
  /* Too small a buffer writes nothing. */
  ck_assert_uint_eq(proxyproto_write_v1(&f, out, n - 1), 0);
}
END_TEST

START_TEST(write_v2_mixed_families_mapped) {
  struct sockaddr_in s = ep4("192.0.2.1", 1);
  struct sockaddr_in6 d = ep6("2001:db8::2", 2);
  struct proxyproto_fields f;
  struct proxyproto_header h;
  unsigned char out[64];
  size_t n;
  const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&h.source;
  memset(&f, 0, sizeof f);
  f.command = PROXYPROTO_CMD_PROXY;
  f.source = (const struct sockaddr *)&s;
  f.source_length = sizeof s;
  f.destination = (const struct sockaddr *)&d;
  f.destination_length = sizeof d;
  n = proxyproto_write_v2(&f, out, sizeof out);
  ck_assert_uint_eq(n, 16 + 36);
  ck_assert_int_eq(proxyproto_parse(out, n, 2, &h), PROXYPROTO_COMPLETE);
  ck_assert_int_eq(h.family, AF_INET6);
  ck_assert(IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr));
  /* One address without the other cannot be written. */
  f.destination = NULL;
  ck_assert_uint_eq(proxyproto_write_v2(&f, out, sizeof out), 0);
  ck_assert_uint_eq(proxyproto_write_v1(&f, out, sizeof out), 0);
}
END_TEST

START_TEST(write_v2_local_and_crc) {
  struct proxyproto_fields f;
  struct proxyproto_header h;
  struct proxyproto_tlv t;
  unsigned char out[64];
  size_t n;
  memset(&f, 0, sizeof f);
  f.command = PROXYPROTO_CMD_LOCAL;
  n = proxyproto_write_v2(&f, out, sizeof out);
  ck_assert_uint_eq(n, 16);
  ck_assert_int_eq(out[12], 0x20);
  ck_assert_int_eq(proxyproto_parse(out, n, 2, &h), PROXYPROTO_COMPLETE);
  ck_assert_int_eq(h.command, PROXYPROTO_CMD_LOCAL);
  ck_assert_uint_eq(h.source_length, 0);
  /* With a checksum, every flipped bit of the header is caught. */
  v2_with(NULL, 0, 1, &h);
  ck_assert(proxyproto_tlv_find(&h, PROXYPROTO_TLV_CRC32C, &t));
  ck_assert_uint_eq(t.length, 4);
  wire[20] ^= 1;
  ck_assert_int_eq(proxyproto_parse(wire, h.length, 2, &h), PROXYPROTO_INVALID);
  ck_assert_str_eq(h.defect, "v2_crc32c_mismatch");
}
END_TEST

START_TEST(tlv_put_bounds) {
  unsigned char out[8];
  ck_assert_uint_eq(proxyproto_tlv_put(out, sizeof out, 0, 1, "abcde", 5), 8);
  ck_assert_uint_eq(proxyproto_tlv_put(out, sizeof out, 0, 1, "abcdef", 6), 0);
  ck_assert_uint_eq(proxyproto_tlv_put(out, sizeof out, 8, 1, "", 0), 0);
  ck_assert_uint_eq(proxyproto_tlv_put(out, sizeof out, 9, 1, "", 0), 0);
  ck_assert_uint_eq(proxyproto_tlv_put(area, sizeof area, 0, 1, area, 65536), 0);
}
END_TEST

/* ---- iteration ----------------------------------------------------------- */

START_TEST(iterate_in_order) {
  struct proxyproto_header h;
  struct proxyproto_tlv_iterator it;
  struct proxyproto_tlv t;
  size_t n = proxyproto_tlv_put(area, sizeof area, 0, 0x02, "a.example", 9);
  n = proxyproto_tlv_put(area, sizeof area, n, 0xF1, "\x00\x01", 2);
  n = proxyproto_tlv_put(area, sizeof area, n, 0x04, NULL, 0);
  v2_with(area, n, 0, &h);
  proxyproto_tlv_begin(&it, h.tlvs, h.tlvs_length);
  ck_assert(proxyproto_tlv_next(&it, &t));
  ck_assert_uint_eq(t.type, 0x02);
  ck_assert_uint_eq(t.length, 9);
  ck_assert(proxyproto_tlv_next(&it, &t));
  ck_assert_uint_eq(t.type, 0xF1);
  ck_assert_uint_eq(t.value[1], 1);
  ck_assert(proxyproto_tlv_next(&it, &t));
  ck_assert_uint_eq(t.type, 0x04);
  ck_assert_uint_eq(t.length, 0);
  ck_assert(!proxyproto_tlv_next(&it, &t));
  ck_assert(!it.truncated);
  ck_assert_str_eq(proxyproto_tlv_name(0x02), "authority");
  ck_assert_ptr_null(proxyproto_tlv_name(0xF1));
  ck_assert(!proxyproto_tlv_find(&h, 0x05, &t));
}
END_TEST

START_TEST(iterate_truncated_area) {
  static const unsigned char bytes[] = {0x02, 0x00, 0x05, 'a', 'b'};
  struct proxyproto_tlv_iterator it;
  struct proxyproto_tlv t;
  proxyproto_tlv_begin(&it, bytes, sizeof bytes);
  ck_assert(!proxyproto_tlv_next(&it, &t));
  ck_assert(it.truncated);
}
END_TEST

/* ---- string accessors ------------------------------------------------- */

typedef int (*string_getter)(const struct proxyproto_header *,
                             struct proxyproto_bytes *);

static void check_string(uint8_t type, string_getter get, size_t max) {
  struct proxyproto_header h;
  struct proxyproto_bytes b;
  static unsigned char value[70000];
  unsigned char truncated[] = {type, 0x00, 0x09, 'x'};
  memset(value, 'v', sizeof value);
  /* valid, at the maximum */
  v2_with(area, one(type, value, max), 0, &h);
  ck_assert_int_eq(get(&h, &b), PROXYPROTO_TLV_OK);
  ck_assert_uint_eq(b.length, max);
  ck_assert_ptr_eq(b.data, h.tlvs + 3);
  /* over-long */
  v2_with(area, one(type, value, max + 1), 0, &h);
  ck_assert_int_eq(get(&h, &b), PROXYPROTO_TLV_MALFORMED);
  /* absent */
  v2_with(area, one(0xF0, value, 3), 0, &h);
  ck_assert_int_eq(get(&h, &b), PROXYPROTO_TLV_ABSENT);
  /* truncated: the parser rejects it; a hand-made area finds nothing */
  h = raw_area(truncated, sizeof truncated);
  ck_assert_int_eq(get(&h, &b), PROXYPROTO_TLV_ABSENT);
}

START_TEST(alpn) {
  struct proxyproto_header h;
  struct proxyproto_bytes b;
  check_string(PROXYPROTO_TLV_ALPN, proxyproto_get_alpn, PROXYPROTO_ALPN_MAX);
  v2_with(area, one(PROXYPROTO_TLV_ALPN, "h2", 2), 0, &h);
  ck_assert_int_eq(proxyproto_get_alpn(&h, &b), PROXYPROTO_TLV_OK);
  ck_assert_int_eq(memcmp(b.data, "h2", 2), 0);
}
END_TEST

START_TEST(authority) {
  check_string(PROXYPROTO_TLV_AUTHORITY, proxyproto_get_authority,
               PROXYPROTO_AUTHORITY_MAX);
}
END_TEST

START_TEST(unique_id) {
  /* Over 128 bytes the parser itself rejects the header (§2.2.5). */
  struct proxyproto_header h;
  struct proxyproto_bytes b;
  static const unsigned char value[129] = {0};
  size_t n = one(PROXYPROTO_TLV_UNIQUE_ID, value, 128);
  v2_with(area, n, 0, &h);
  ck_assert_int_eq(proxyproto_get_unique_id(&h, &b), PROXYPROTO_TLV_OK);
  ck_assert_uint_eq(b.length, 128);
  h = raw_area(area, one(PROXYPROTO_TLV_UNIQUE_ID, value, 129));
  ck_assert_int_eq(proxyproto_get_unique_id(&h, &b), PROXYPROTO_TLV_MALFORMED);
  v2_with(NULL, 0, 0, &h);
  ck_assert_int_eq(proxyproto_get_unique_id(&h, &b), PROXYPROTO_TLV_ABSENT);
}
END_TEST

START_TEST(netns) {
  check_string(PROXYPROTO_TLV_NETNS, proxyproto_get_netns, PROXYPROTO_NETNS_MAX);
}
END_TEST

/* ---- provider accessors ------------------------------------------------- */

START_TEST(aws_vpce_id) {
  struct proxyproto_header h;
  struct proxyproto_bytes b;
  static unsigned char long_id[1 + 256];
  size_t n;
  v2_with(area, one(0xEA, "\x01vpce-0abc", 10), 0, &h);
  ck_assert_int_eq(proxyproto_get_aws_vpce_id(&h, &b), PROXYPROTO_TLV_OK);
  ck_assert_uint_eq(b.length, 9);
  ck_assert_int_eq(memcmp(b.data, "vpce-0abc", 9), 0);
  /* wrong subtype: not a VPC endpoint ID */
  v2_with(area, one(0xEA, "\x02vpce-0abc", 10), 0, &h);
  ck_assert_int_eq(proxyproto_get_aws_vpce_id(&h, &b), PROXYPROTO_TLV_ABSENT);
  /* another subtype first, then the ID: found */
  n = proxyproto_tlv_put(area, sizeof area, 0, 0xEA, "\x02zz", 3);
  n = proxyproto_tlv_put(area, sizeof area, n, 0xEA, "\x01vpce-1", 7);
  v2_with(area, n, 0, &h);
  ck_assert_int_eq(proxyproto_get_aws_vpce_id(&h, &b), PROXYPROTO_TLV_OK);
  ck_assert_uint_eq(b.length, 6);
  /* truncated: the subtype alone, or nothing at all */
  v2_with(area, one(0xEA, "\x01", 1), 0, &h);
  ck_assert_int_eq(proxyproto_get_aws_vpce_id(&h, &b), PROXYPROTO_TLV_MALFORMED);
  v2_with(area, one(0xEA, "", 0), 0, &h);
  ck_assert_int_eq(proxyproto_get_aws_vpce_id(&h, &b), PROXYPROTO_TLV_MALFORMED);
  /* over-long */
  memset(long_id, 'a', sizeof long_id);
  long_id[0] = 0x01;
  v2_with(area, one(0xEA, long_id, sizeof long_id), 0, &h);
  ck_assert_int_eq(proxyproto_get_aws_vpce_id(&h, &b), PROXYPROTO_TLV_MALFORMED);
  v2_with(area, one(0xEA, long_id, sizeof long_id - 1), 0, &h);
  ck_assert_int_eq(proxyproto_get_aws_vpce_id(&h, &b), PROXYPROTO_TLV_OK);
}
END_TEST

START_TEST(azure_linkid) {
  struct proxyproto_header h;
  uint32_t id = 0;
  v2_with(area, one(0xEE, "\x01\x78\x56\x34\x12", 5), 0, &h);
  ck_assert_int_eq(proxyproto_get_azure_linkid(&h, &id), PROXYPROTO_TLV_OK);
  ck_assert_uint_eq(id, 0x12345678u); /* little-endian */
  v2_with(area, one(0xEE, "\x02\x78\x56\x34\x12", 5), 0, &h);
  ck_assert_int_eq(proxyproto_get_azure_linkid(&h, &id), PROXYPROTO_TLV_ABSENT);
  v2_with(area, one(0xEE, "\x01\x78\x56\x34", 4), 0, &h);
  ck_assert_int_eq(proxyproto_get_azure_linkid(&h, &id), PROXYPROTO_TLV_MALFORMED);
  v2_with(area, one(0xEE, "\x01\x78\x56\x34\x12\x00", 6), 0, &h);
  ck_assert_int_eq(proxyproto_get_azure_linkid(&h, &id), PROXYPROTO_TLV_MALFORMED);
  v2_with(NULL, 0, 0, &h);
  ck_assert_int_eq(proxyproto_get_azure_linkid(&h, &id), PROXYPROTO_TLV_ABSENT);
}
END_TEST

START_TEST(gcp_psc_id) {
  struct proxyproto_header h;
  uint64_t id = 0;
  v2_with(area, one(0xE0, "\x01\x02\x03\x04\x05\x06\x07\x08", 8), 0, &h);
  ck_assert_int_eq(proxyproto_get_gcp_psc_id(&h, &id), PROXYPROTO_TLV_OK);
  ck_assert(id == UINT64_C(0x0102030405060708)); /* big-endian */
  v2_with(area, one(0xE0, "\xff\xff\xff\xff\xff\xff\xff\xff", 8), 0, &h);
  ck_assert_int_eq(proxyproto_get_gcp_psc_id(&h, &id), PROXYPROTO_TLV_OK);
  ck_assert(id == UINT64_MAX);
  v2_with(area, one(0xE0, "\x01\x02\x03\x04\x05\x06\x07", 7), 0, &h);
  ck_assert_int_eq(proxyproto_get_gcp_psc_id(&h, &id), PROXYPROTO_TLV_MALFORMED);
  v2_with(area, one(0xE0, "\x01\x02\x03\x04\x05\x06\x07\x08\x09", 9), 0, &h);
  ck_assert_int_eq(proxyproto_get_gcp_psc_id(&h, &id), PROXYPROTO_TLV_MALFORMED);
  /* 0xE0 has no subtype; a neighbouring custom type is not it. */
  v2_with(area, one(0xE1, "\x01\x02\x03\x04\x05\x06\x07\x08", 8), 0, &h);
  ck_assert_int_eq(proxyproto_get_gcp_psc_id(&h, &id), PROXYPROTO_TLV_ABSENT);
}
END_TEST

/* ---- SSL ------------------------------------------------------------------ */

static size_t ssl_value(unsigned char *v, int with_all) {
  size_t n = 5;
  v[0] = PROXYPROTO_SSL_CLIENT_SSL | PROXYPROTO_SSL_CLIENT_CERT_CONN;
  v[1] = 0; v[2] = 0; v[3] = 0; v[4] = 7; /* verify, big-endian */
  n = proxyproto_tlv_put(v, 512, n, PROXYPROTO_SSL_VERSION, "TLSv1.3", 7);
  n = proxyproto_tlv_put(v, 512, n, PROXYPROTO_SSL_CN, "client", 6);
  if (with_all) {
    n = proxyproto_tlv_put(v, 512, n, PROXYPROTO_SSL_CIPHER, "TLS_AES_128_GCM_SHA256", 22);
    n = proxyproto_tlv_put(v, 512, n, PROXYPROTO_SSL_SIG_ALG, "RSA-SHA256", 10);
    n = proxyproto_tlv_put(v, 512, n, PROXYPROTO_SSL_KEY_ALG, "RSA2048", 7);
    n = proxyproto_tlv_put(v, 512, n, PROXYPROTO_SSL_GROUP, "X25519", 6);
    n = proxyproto_tlv_put(v, 512, n, PROXYPROTO_SSL_SIG_SCHEME, "rsa_pss_rsae_sha256", 19);
    n = proxyproto_tlv_put(v, 512, n, PROXYPROTO_SSL_CLIENT_CERT, "\x30\x82", 2);
    n = proxyproto_tlv_put(v, 512, n, 0x2F, "?", 1); /* unknown: skipped */
  }
  return n;
}

#define CK_BYTES(b, s)                                   \
  do {                                                   \
    ck_assert_uint_eq((b).length, strlen(s));            \
    ck_assert_int_eq(memcmp((b).data, s, strlen(s)), 0); \
  } while (0)

START_TEST(ssl) {
  unsigned char v[512];
  struct proxyproto_header h;
  struct proxyproto_ssl s;
  size_t n = ssl_value(v, 1);
  v2_with(area, one(PROXYPROTO_TLV_SSL, v, n), 0, &h);
  ck_assert_int_eq(proxyproto_get_ssl(&h, &s), PROXYPROTO_TLV_OK);
  ck_assert_uint_eq(s.client, 3);
  ck_assert_uint_eq(s.verify, 7);
  CK_BYTES(s.version, "TLSv1.3");
  CK_BYTES(s.cn, "client");
  CK_BYTES(s.cipher, "TLS_AES_128_GCM_SHA256");
  CK_BYTES(s.sig_alg, "RSA-SHA256");
  CK_BYTES(s.key_alg, "RSA2048");
  CK_BYTES(s.group, "X25519");
  CK_BYTES(s.sig_scheme, "rsa_pss_rsae_sha256");
  CK_BYTES(s.client_cert, "\x30\x82");
  /* Absent sub-TLVs are null. */
  n = ssl_value(v, 0);
  v2_with(area, one(PROXYPROTO_TLV_SSL, v, n), 0, &h);
  ck_assert_int_eq(proxyproto_get_ssl(&h, &s), PROXYPROTO_TLV_OK);
  ck_assert_ptr_null(s.cipher.data);
  ck_assert_uint_eq(s.cipher.length, 0);
}
END_TEST

START_TEST(ssl_truncated) {
  unsigned char v[512];
  struct proxyproto_header h;
  struct proxyproto_ssl s;
  size_t n = ssl_value(v, 0), len;
  /* Shorter than client + verify: the parser rejects the header, the
   * accessor calls it malformed. */
  len = one(PROXYPROTO_TLV_SSL, v, 4);
  h = raw_area(area, len);
  ck_assert_int_eq(proxyproto_get_ssl(&h, &s), PROXYPROTO_TLV_MALFORMED);
  /* A sub-TLV running past the SSL value (over-long sub-TLV length). */
  v[5 + 2] = 0x7F;
  len = one(PROXYPROTO_TLV_SSL, v, n);
  h = raw_area(area, len);
  ck_assert_int_eq(proxyproto_get_ssl(&h, &s), PROXYPROTO_TLV_MALFORMED);
  {
    struct proxyproto_header parsed;
    unsigned char hdr[600];
    struct proxyproto_fields f;
    struct sockaddr_in a = ep4("192.0.2.1", 1);
    size_t w;
    memset(&f, 0, sizeof f);
    f.command = PROXYPROTO_CMD_PROXY;
    f.source = f.destination = (const struct sockaddr *)&a;
    f.source_length = f.destination_length = sizeof a;
    f.tlvs = area;
    f.tlvs_length = len;
    w = proxyproto_write_v2(&f, hdr, sizeof hdr);
    ck_assert_int_eq(proxyproto_parse(hdr, w, 2, &parsed), PROXYPROTO_INVALID);
    ck_assert_str_eq(parsed.defect, "v2_ssl_truncated");
  }
  v2_with(NULL, 0, 0, &h);
  ck_assert_int_eq(proxyproto_get_ssl(&h, &s), PROXYPROTO_TLV_ABSENT);
}
END_TEST

/* ---- describe ------------------------------------------------------------ */

START_TEST(describe) {
  struct proxyproto_header h;
  char text[512];
  size_t n = proxyproto_tlv_put(area, sizeof area, 0, 0x02, "a\"b\n", 4);
  size_t full;
  n = proxyproto_tlv_put(area, sizeof area, n, 0xEE, "\x01\x01\x00\x00\x00", 5);
  n = proxyproto_tlv_put(area, sizeof area, n, 0xE0, "\0\0\0\0\0\0\0\x2a", 8);
  n = proxyproto_tlv_put(area, sizeof area, n, 0xF5, "\xab", 1);
  v2_with(area, n, 0, &h);
  full = proxyproto_describe(&h, text, sizeof text);
  ck_assert_uint_eq(full, strlen(text));
  ck_assert_str_eq(text,
                   "v2 PROXY TCP4 source 192.0.2.1 port 5000 destination "
                   "10.0.0.1 port 443 tlvs authority=\"a\\x22b\\x0a\" "
                   "azure.linkid=1 gcp.psc_connection_id=42 0xf5=0xab");
  /* Cut to fit, NUL-terminated, full length returned. */
  ck_assert_uint_eq(proxyproto_describe(&h, text, 10), full);
  ck_assert_str_eq(text, "v2 PROXY ");
}
END_TEST

/* ---- per-descriptor -------------------------------------------------------- */

START_TEST(get_header_errors) {
  unsigned char buf[64];
  struct proxyproto_header h;
  int p[2];
  ck_assert_int_eq(pipe(p), 0);
  errno = 0;
  ck_assert_int_eq(proxyproto_get_header(p[0], buf, sizeof buf, &h), -1);
  ck_assert_int_eq(errno, ENOENT);
  close(p[0]);
  close(p[1]);
  errno = 0;
  ck_assert_int_eq(proxyproto_get_header(p[0], buf, sizeof buf, &h), -1);
  ck_assert_int_eq(errno, EBADF);
  ck_assert_int_eq(proxyproto_keep_headers(1), 0);
  ck_assert_int_eq(proxyproto_keep_headers(0), 1);
}
END_TEST

static Suite *api_suite(void) {
  Suite *s = suite_create("public_api");
  TCase *t = tcase_create("parse_write");
  tcase_add_test(t, parse_v1_tcp4);
  tcase_add_test(t, parse_statuses);
  tcase_add_test(t, parse_v2_unix);
  tcase_add_test(t, write_v1_round_trip);
  tcase_add_test(t, write_v2_mixed_families_mapped);
  tcase_add_test(t, write_v2_local_and_crc);
  tcase_add_test(t, tlv_put_bounds);
  tcase_add_test(t, iterate_in_order);
  tcase_add_test(t, iterate_truncated_area);
  tcase_add_test(t, describe);
  tcase_add_test(t, get_header_errors);
  suite_add_tcase(s, t);
  t = tcase_create("tlv_decoders");
  tcase_add_test(t, alpn);
  tcase_add_test(t, authority);
  tcase_add_test(t, unique_id);
  tcase_add_test(t, netns);
  tcase_add_test(t, aws_vpce_id);
  tcase_add_test(t, azure_linkid);
  tcase_add_test(t, gcp_psc_id);
  tcase_add_test(t, ssl);
  tcase_add_test(t, ssl_truncated);
  suite_add_tcase(s, t);
  return s;
}

int main(void) {
  SRunner *r = srunner_create(api_suite());
  int failed;
  srunner_run_all(r, CK_NORMAL);
  failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
