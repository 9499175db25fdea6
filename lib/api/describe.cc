// proxyproto_describe(): one line of text for a header, used by
// LIBPROXYPROTO_DEBUG and by proxyproto-inspect's default output.
//
//   v2 PROXY TCP4 source 192.0.2.1 port 5000 destination 10.0.0.1 port 443
//   tlvs authority="example.com" aws.vpce_id="vpce-123" crc32c=0x1a2b3c4d
//
// Strings are quoted; a byte outside printable ASCII, a quote or a backslash
// is written \xHH, so a hostile header cannot forge a second log line.
#include <netinet/in.h>
#include <sys/un.h>

#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "core/inet_text.h"
#include "api/internal_names.h"
#include "proxyproto.h"
#include "runtime/export.h"

namespace proxyproto {

namespace {

// snprintf semantics over several appends: counts what would have been
// written, writes what fits, always NUL-terminates.
class text_out {
 public:
  text_out(char *buf, size_t capacity) noexcept : buf_(buf), capacity_(capacity) {
    if (capacity_ > 0) buf_[0] = '\0';
  }
  void put(const char *s, size_t n) noexcept {
    if (capacity_ > 0 && used_ < capacity_ - 1) {
      const size_t room = capacity_ - 1 - used_;
      const size_t k = n < room ? n : room;
      std::memcpy(buf_ + used_, s, k);
      buf_[used_ + k] = '\0';
    }
    used_ += n;
  }
  void put(const char *s) noexcept { put(s, std::strlen(s)); }
  void printf(const char *format, ...) noexcept __attribute__((format(printf, 2, 3))) {
    char tmp[64];
    va_list args;
    va_start(args, format);
    const int n = std::vsnprintf(tmp, sizeof tmp, format, args);
    va_end(args);
    if (n > 0) put(tmp, static_cast<size_t>(n) < sizeof tmp ? static_cast<size_t>(n) : sizeof tmp - 1);
  }
  void quoted(const unsigned char *s, size_t n) noexcept {
    put("\"");
    for (size_t i = 0; i < n; ++i) {
      const unsigned char c = s[i];
      if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
        const char ch = static_cast<char>(c);
        put(&ch, 1);
      } else {
        printf("\\x%02x", c);
      }
    }
    put("\"");
  }
  void hex(const unsigned char *s, size_t n) noexcept {
    for (size_t i = 0; i < n; ++i) printf("%02x", s[i]);
  }
  size_t used() const noexcept { return used_; }

 private:
  char *buf_;
  size_t capacity_;
  size_t used_ = 0;
};

void put_address(text_out &o, const sockaddr_storage &ss, socklen_t len) noexcept {
  char text[ipv6_text_max + 1];
  if (ss.ss_family == AF_INET && len >= sizeof(sockaddr_in)) {
    sockaddr_in in;
    std::memcpy(&in, &ss, sizeof in);
    const size_t n = format_ipv4(reinterpret_cast<const uint8_t *>(&in.sin_addr),
                                 text, sizeof text - 1);
    text[n] = '\0';
    o.printf("%s port %u", text, ntohs(in.sin_port));
  } else if (ss.ss_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    sockaddr_in6 in6;
    std::memcpy(&in6, &ss, sizeof in6);
    const size_t n = format_ipv6(in6.sin6_addr.s6_addr, text, sizeof text - 1);
    text[n] = '\0';
    o.printf("%s port %u", text, ntohs(in6.sin6_port));
  } else if (ss.ss_family == AF_UNIX) {
    sockaddr_un un;
    std::memcpy(&un, &ss, sizeof un);
    o.quoted(reinterpret_cast<const unsigned char *>(un.sun_path),
             strnlen(un.sun_path, sizeof un.sun_path));
  } else {
    o.put("none");
  }
}

const char *family_name(const proxyproto_header &h) noexcept {
  switch (h.family) {
    case AF_INET: return h.transport == SOCK_DGRAM ? "UDP4" : "TCP4";
    case AF_INET6: return h.transport == SOCK_DGRAM ? "UDP6" : "TCP6";
    case AF_UNIX: return h.transport == SOCK_DGRAM ? "UNIX_DGRAM" : "UNIX_STREAM";
    default: return "UNSPEC";
  }
}

void put_ssl(text_out &o, const proxyproto_header &h) noexcept {
  proxyproto_ssl ssl;
  if (proxyproto_get_ssl_internal(&h, &ssl) != PROXYPROTO_TLV_OK) {
    o.put("(malformed)");
    return;
  }
  o.printf("{client=0x%02x verify=%" PRIu32, ssl.client, ssl.verify);
  const struct {
    const char *name;
    const proxyproto_bytes *value;
  } fields[] = {{"version", &ssl.version},     {"cn", &ssl.cn},
                {"cipher", &ssl.cipher},       {"sig_alg", &ssl.sig_alg},
                {"key_alg", &ssl.key_alg},     {"group", &ssl.group},
                {"sig_scheme", &ssl.sig_scheme}};
  for (const auto &f : fields) {
    if (f.value->data == nullptr) continue;
    o.printf(" %s=", f.name);
    o.quoted(f.value->data, f.value->length);
  }
  if (ssl.client_cert.data != nullptr)
    o.printf(" client_cert=(%zu bytes)", ssl.client_cert.length);
  o.put("}");
}

void put_tlv(text_out &o, const proxyproto_header &h,
             const proxyproto_tlv &t) noexcept {
  const char *name = proxyproto_tlv_name_internal(t.type);
  proxyproto_bytes b;
  switch (t.type) {
    case PROXYPROTO_TLV_ALPN:
    case PROXYPROTO_TLV_AUTHORITY:
    case PROXYPROTO_TLV_UNIQUE_ID:
    case PROXYPROTO_TLV_NETNS:
      o.printf("%s=", name);
      o.quoted(t.value, t.length);
      return;
    case PROXYPROTO_TLV_CRC32C:
      o.put("crc32c=0x");
      o.hex(t.value, t.length);
      return;
    case PROXYPROTO_TLV_NOOP:
      o.printf("noop=(%zu bytes)", t.length);
      return;
    case PROXYPROTO_TLV_SSL:
      o.put("ssl=");
      put_ssl(o, h);
      return;
    case PROXYPROTO_TLV_AWS:
      if (t.length > 0 && t.value[0] == PROXYPROTO_AWS_VPCE_ID &&
          proxyproto_get_aws_vpce_id_internal(&h, &b) == PROXYPROTO_TLV_OK) {
        o.put("aws.vpce_id=");
        o.quoted(b.data, b.length);
        return;
      }
      break;
    case PROXYPROTO_TLV_AZURE: {
      uint32_t id;
      if (t.length > 0 && t.value[0] == PROXYPROTO_AZURE_LINKID &&
          proxyproto_get_azure_linkid_internal(&h, &id) == PROXYPROTO_TLV_OK) {
        o.printf("azure.linkid=%" PRIu32, id);
        return;
      }
      break;
    }
    case PROXYPROTO_TLV_GCP: {
      uint64_t id;
      if (proxyproto_get_gcp_psc_id_internal(&h, &id) == PROXYPROTO_TLV_OK) {
        o.printf("gcp.psc_connection_id=%" PRIu64, id);
        return;
      }
      break;
    }
    default:
      break;
  }
  // Anything else, or a provider TLV that does not decode: its bytes in hex.
  if (name != nullptr)
    o.printf("%s=0x", name);
  else
    o.printf("0x%02x=0x", t.type);
  o.hex(t.value, t.length);
}

}  // namespace

}  // namespace proxyproto

extern "C" PROXYPROTO_EXPORT size_t proxyproto_describe(
    const proxyproto_header *h, char *out, size_t capacity) {
  using namespace proxyproto;
  text_out o(out, capacity);
  if (h == nullptr) return 0;
  o.printf("v%d %s", h->version,
           h->command == PROXYPROTO_CMD_LOCAL ? "LOCAL" : "PROXY");
  if (h->command == PROXYPROTO_CMD_LOCAL) {
    o.put(" (real endpoints kept)");
  } else {
    o.printf(" %s", family_name(*h));
    if (h->family != AF_UNSPEC) {
      o.put(" source ");
      put_address(o, h->source, h->source_length);
      o.put(" destination ");
      put_address(o, h->destination, h->destination_length);
    }
  }
  proxyproto_tlv_iterator it;
  proxyproto_tlv_begin_internal(&it, h->tlvs, h->tlvs_length);
  proxyproto_tlv t;
  bool first = true;
  while (proxyproto_tlv_next_internal(&it, &t)) {
    o.put(first ? " tlvs " : " ");
    first = false;
    put_tlv(o, *h, t);
  }
  return o.used();
}

PROXYPROTO_INTERNAL_NAME(proxyproto_describe);
