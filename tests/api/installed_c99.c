/* Compiled against the installed <proxyproto.h> by `make installcheck`
 * (strict C99, -pedantic) and linked with -lproxyproto, then run: the
 * header is self-contained and the library exports what it declares.
 * Also built and run by `make check` against the source tree. Valid C++ as
 * well, to show the header works from both. */
#include <proxyproto.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  struct sockaddr_in source, destination;
  struct proxyproto_fields fields;
  struct proxyproto_header header;
  struct proxyproto_bytes authority;
  unsigned char tlvs[64], wire[128];
  size_t tlvs_length, length;

  memset(&source, 0, sizeof source);
  source.sin_family = AF_INET;
  source.sin_port = htons(5000);
  inet_pton(AF_INET, "192.0.2.1", &source.sin_addr);
  destination = source;
  destination.sin_port = htons(443);

  tlvs_length = proxyproto_tlv_put(tlvs, sizeof tlvs, 0, PROXYPROTO_TLV_AUTHORITY,
                                   "example.com", 11);
  memset(&fields, 0, sizeof fields);
  fields.command = PROXYPROTO_CMD_PROXY;
  fields.source = (const struct sockaddr *)&source;
  fields.source_length = sizeof source;
  fields.destination = (const struct sockaddr *)&destination;
  fields.destination_length = sizeof destination;
  fields.tlvs = tlvs;
  fields.tlvs_length = tlvs_length;
  fields.add_crc32c = 1;
  length = proxyproto_write_v2(&fields, wire, sizeof wire);
  if (length != 16 + 12 + 14 + 7) {
    fprintf(stderr, "write_v2 wrote %zu bytes\n", length);
    return 1;
  }
  if (proxyproto_parse(wire, length, PROXYPROTO_V1 | PROXYPROTO_V2, &header) !=
          PROXYPROTO_COMPLETE ||
      proxyproto_get_authority(&header, &authority) != PROXYPROTO_TLV_OK ||
      authority.length != 11 || memcmp(authority.data, "example.com", 11) != 0) {
    fprintf(stderr, "round trip failed\n");
    return 1;
  }
  printf("libproxyproto %s (%d.%d.%d): C API round trip ok\n", PROXYPROTO_VERSION,
         PROXYPROTO_VERSION_MAJOR, PROXYPROTO_VERSION_MINOR,
         PROXYPROTO_VERSION_PATCH);
  return 0;
}
