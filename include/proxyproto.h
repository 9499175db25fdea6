/* libproxyproto: the public C interface.
 *
 * Plain C (C99 and later) and C++. Link with `pkg-config --cflags --libs
 * libproxyproto`.
 *
 * Two parts:
 *  - pure functions (parse, write, TLV access) for programs that do their
 *    own I/O: no allocation, no global state, safe from any thread;
 *  - for a descriptor returned by an accept() that libproxyproto.so
 *    intercepted, the header it received, kept only when the application
 *    asked for it (proxyproto_keep_headers(1) or LIBPROXYPROTO_KEEP_HEADER=1).
 *
 * Linking a program with -lproxyproto interposes accept() exactly as
 * LD_PRELOAD=libproxyproto.so does. Every function here is thread-safe and
 * never throws. Byte strings returned in struct proxyproto_bytes are NOT
 * NUL-terminated: use data and length. Addresses follow
 * haproxy:doc/proxy-protocol.txt (§2.1 v1, §2.2 v2). */
#ifndef PROXYPROTO_H
#define PROXYPROTO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <proxyproto_version.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Constants ----------------------------------------------------------- */

/* Versions to recognise, a mask for proxyproto_parse(). */
#define PROXYPROTO_V1 1u
#define PROXYPROTO_V2 2u

/* The largest header of each version: a v1 line, 16 + 65535 v2 bytes. */
#define PROXYPROTO_V1_MAX_LENGTH 107u
#define PROXYPROTO_HEADER_MAX_LENGTH (16u + 65535u)

/* proxyproto_parse() results. */
#define PROXYPROTO_COMPLETE 0  /* a valid header of header->length bytes */
#define PROXYPROTO_NEED_MORE 1 /* a strict prefix of a header: read more */
#define PROXYPROTO_NOT_PROXY 2 /* no header: the stream starts with data */
#define PROXYPROTO_INVALID 3   /* breaks the spec; header->defect says how */

/* Commands. v1 headers are always PROXY. */
#define PROXYPROTO_CMD_LOCAL 0
#define PROXYPROTO_CMD_PROXY 1

/* TLV types (§2.2) and the cloud providers' custom ones (§2.2.7). */
#define PROXYPROTO_TLV_ALPN 0x01
#define PROXYPROTO_TLV_AUTHORITY 0x02
#define PROXYPROTO_TLV_CRC32C 0x03
#define PROXYPROTO_TLV_NOOP 0x04
#define PROXYPROTO_TLV_UNIQUE_ID 0x05
#define PROXYPROTO_TLV_SSL 0x20
#define PROXYPROTO_SSL_VERSION 0x21
#define PROXYPROTO_SSL_CN 0x22
#define PROXYPROTO_SSL_CIPHER 0x23
#define PROXYPROTO_SSL_SIG_ALG 0x24
#define PROXYPROTO_SSL_KEY_ALG 0x25
#define PROXYPROTO_SSL_GROUP 0x26
#define PROXYPROTO_SSL_SIG_SCHEME 0x27
#define PROXYPROTO_SSL_CLIENT_CERT 0x28
#define PROXYPROTO_TLV_NETNS 0x30
#define PROXYPROTO_TLV_GCP 0xE0   /* PSC connection ID, 64-bit big-endian */
#define PROXYPROTO_TLV_AWS 0xEA   /* subtype 0x01: VPC endpoint ID */
#define PROXYPROTO_TLV_AZURE 0xEE /* subtype 0x01: LinkID, 32-bit LE */
#define PROXYPROTO_AWS_VPCE_ID 0x01
#define PROXYPROTO_AZURE_LINKID 0x01

/* The PP2_TYPE_SSL client field's bits (§2.2.6). */
#define PROXYPROTO_SSL_CLIENT_SSL 0x01
#define PROXYPROTO_SSL_CLIENT_CERT_CONN 0x02
#define PROXYPROTO_SSL_CLIENT_CERT_SESS 0x04

/* Typed accessor results. */
#define PROXYPROTO_TLV_OK 0        /* found and well formed */
#define PROXYPROTO_TLV_ABSENT 1    /* no such TLV (or no such subtype) */
#define PROXYPROTO_TLV_MALFORMED 2 /* present, but too short or too long */

/* The longest value each string accessor accepts; longer is MALFORMED. */
#define PROXYPROTO_ALPN_MAX 255u      /* RFC 7301: one protocol id */
#define PROXYPROTO_AUTHORITY_MAX 255u /* RFC 1035: a host name */
#define PROXYPROTO_UNIQUE_ID_MAX 128u /* §2.2.5 */
#define PROXYPROTO_NETNS_MAX 255u     /* a file name under /run/netns */
#define PROXYPROTO_AWS_VPCE_ID_MAX 255u

/* ---- Parsed headers ------------------------------------------------------ */

struct proxyproto_bytes {
  const unsigned char *data; /* NOT NUL-terminated */
  size_t length;
};

struct proxyproto_header {
  int version;   /* 1 or 2 */
  int command;   /* PROXYPROTO_CMD_LOCAL or PROXYPROTO_CMD_PROXY */
  int family;    /* AF_UNSPEC (v1 UNKNOWN, LOCAL), AF_INET, AF_INET6, AF_UNIX */
  int transport; /* SOCK_STREAM, SOCK_DGRAM, or 0 when unspecified */
  /* The addresses as sockaddr_in / sockaddr_in6 / sockaddr_un; lengths are
   * 0 when the header carries none (family AF_UNSPEC). */
  struct sockaddr_storage source;
  socklen_t source_length;
  struct sockaddr_storage destination;
  socklen_t destination_length;
  /* v2: the TLV area, pointing into the parsed buffer; empty for v1. */
  const unsigned char *tlvs;
  size_t tlvs_length;
  size_t length; /* bytes of the whole header, signature to last TLV */
  /* PROXYPROTO_INVALID: a short, stable name of the rule broken
   * ("v2_bad_family"); "none" otherwise. Static storage. */
  const char *defect;
};

/* Parses the header at the start of buf[0..length). `versions` is a mask of
 * PROXYPROTO_V1 | PROXYPROTO_V2. Returns one of PROXYPROTO_COMPLETE,
 * _NEED_MORE, _NOT_PROXY, _INVALID; *out is filled on COMPLETE (its
 * pointers point into buf) and out->defect is set on INVALID. A header with
 * a CRC32C TLV is INVALID unless its checksum matches. */
int proxyproto_parse(const void *buf, size_t length, unsigned versions,
                     struct proxyproto_header *out);

/* ---- Writing headers ------------------------------------------------------ */

struct proxyproto_fields {
  int command; /* PROXYPROTO_CMD_PROXY or PROXYPROTO_CMD_LOCAL */
  /* AF_INET or AF_INET6 sockaddrs; both null for UNKNOWN / AF_UNSPEC. When
   * one is IPv4 and the other IPv6, the IPv4 one is sent IPv4-mapped. */
  const struct sockaddr *source;
  socklen_t source_length;
  const struct sockaddr *destination;
  socklen_t destination_length;
  const void *tlvs; /* v2: TLV bytes (see proxyproto_tlv_put), or null */
  size_t tlvs_length;
  int add_crc32c; /* v2: non-zero appends a PP2_TYPE_CRC32C, filled in */
};

/* Write a v1 line or a v2 header into out[0..capacity). Return the length
 * written, or 0 when the fields are unusable (one address given without the
 * other, a family other than AF_INET/AF_INET6) or out is too small. v1 has
 * no LOCAL: it writes "PROXY UNKNOWN\r\n" then. */
size_t proxyproto_write_v1(const struct proxyproto_fields *fields, void *out,
                           size_t capacity);
size_t proxyproto_write_v2(const struct proxyproto_fields *fields, void *out,
                           size_t capacity);

/* Appends one TLV (type, 16-bit big-endian length, value) at out[offset].
 * Returns the new offset, or 0 when it does not fit in capacity or the value
 * exceeds 65535 bytes. */
size_t proxyproto_tlv_put(void *out, size_t capacity, size_t offset,
                          uint8_t type, const void *value, size_t length);

/* ---- TLVs ------------------------------------------------------------------ */

struct proxyproto_tlv {
  uint8_t type;
  const unsigned char *value;
  size_t length;
};

/* A cursor over a TLV area: a header's, or the sub-TLVs of an SSL TLV. */
struct proxyproto_tlv_iterator {
  const unsigned char *position;
  const unsigned char *end;
  int truncated; /* set when a TLV ran past the end of the area */
};

void proxyproto_tlv_begin(struct proxyproto_tlv_iterator *it,
                          const void *area, size_t length);
/* Returns 1 and fills *out with the next TLV, or 0 at the end (or at a
 * truncated TLV, which sets it->truncated). */
int proxyproto_tlv_next(struct proxyproto_tlv_iterator *it,
                        struct proxyproto_tlv *out);
/* The first TLV of `type` in the header: 1 when found, 0 otherwise. */
int proxyproto_tlv_find(const struct proxyproto_header *header, uint8_t type,
                        struct proxyproto_tlv *out);
/* A stable lower-case name for a TLV type ("alpn", "aws", "ssl_cn"...), or
 * null for an unregistered type. SSL sub-TLV types have names too. */
const char *proxyproto_tlv_name(uint8_t type);

/* Typed accessors: PROXYPROTO_TLV_OK, _ABSENT or _MALFORMED. Strings are
 * returned as they are on the wire (UTF-8 or ASCII by the spec, unchecked). */
int proxyproto_get_alpn(const struct proxyproto_header *h,
                        struct proxyproto_bytes *out);
int proxyproto_get_authority(const struct proxyproto_header *h,
                             struct proxyproto_bytes *out);
int proxyproto_get_unique_id(const struct proxyproto_header *h,
                             struct proxyproto_bytes *out);
int proxyproto_get_netns(const struct proxyproto_header *h,
                         struct proxyproto_bytes *out);
/* AWS: the first 0xEA TLV of subtype 0x01; the ID text follows the subtype. */
int proxyproto_get_aws_vpce_id(const struct proxyproto_header *h,
                               struct proxyproto_bytes *out);
/* Azure: the first 0xEE TLV of subtype 0x01; exactly 4 bytes, little-endian. */
int proxyproto_get_azure_linkid(const struct proxyproto_header *h,
                                uint32_t *out);
/* GCP: the 0xE0 TLV; exactly 8 bytes, big-endian. */
int proxyproto_get_gcp_psc_id(const struct proxyproto_header *h,
                              uint64_t *out);

/* §2.2.6: PP2_TYPE_SSL. Absent sub-TLVs have data null and length 0. */
struct proxyproto_ssl {
  uint8_t client;  /* PROXYPROTO_SSL_CLIENT_* bits */
  uint32_t verify; /* 0 when the client certificate was verified */
  struct proxyproto_bytes version, cn, cipher, sig_alg, key_alg, group,
      sig_scheme, client_cert; /* client_cert: DER */
};
int proxyproto_get_ssl(const struct proxyproto_header *h,
                       struct proxyproto_ssl *out);

/* Writes a one-line human description of the header (source, destination,
 * each TLV by name and decoded value) into out, NUL-terminated, cut to fit.
 * Returns the length it would have had (as snprintf). */
size_t proxyproto_describe(const struct proxyproto_header *h, char *out,
                           size_t capacity);

/* ---- The header of an accepted descriptor -------------------------------- */

/* Starts (on != 0) or stops keeping the header of each connection that an
 * intercepted accept() takes from now on. Returns the previous setting.
 * LIBPROXYPROTO_KEEP_HEADER=1 turns it on from the start. While on, each
 * kept header costs one private mapping of at most 64 KiB + 4 KiB (one page
 * for usual headers), released when the descriptor is closed. */
int proxyproto_keep_headers(int on);

/* Copies the header received on `fd` into buf[0..capacity) and parses the
 * copy into *out (its pointers then point into buf). Returns the header's
 * length; when that exceeds capacity nothing is copied (call again with a
 * buffer of that size, at most PROXYPROTO_HEADER_MAX_LENGTH). Returns -1
 * with errno ENOENT when no header is kept for fd (not accepted through the
 * library, no header received, keeping off, or fd since reused), EBADF when
 * fd is not open. */
ssize_t proxyproto_get_header(int fd, void *buf, size_t capacity,
                              struct proxyproto_header *out);

#ifdef __cplusplus
}
#endif

#endif /* PROXYPROTO_H */
