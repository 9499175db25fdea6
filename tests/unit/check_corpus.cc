// The corpus of tests/corpus (made by tests/corpus/make_corpus.py): every
// input parsed with versions = v1|v2, every line of its `expected` checked.
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/proxy_header.h"
#include "suites.h"

#ifndef PP_CORPUS_DIR
#error "PP_CORPUS_DIR must name the corpus directory"
#endif

using namespace pp_test;
using proxyproto::address_family;
using proxyproto::command;
using proxyproto::parse_status;
using proxyproto::transport;

namespace {

struct corpus_case {
  std::string kind;  // "valid" or "invalid"
  std::string name;
  std::string path;
};

// Filled when the suite is made; the forked tests inherit it.
std::vector<corpus_case> cases;
std::string scan_error;  // why a directory could not be listed
size_t valid_count = 0;
size_t invalid_count = 0;

void scan(const char *kind, size_t *count) {
  const std::string dir = std::string(PP_CORPUS_DIR) + "/" + kind;
  DIR *d = opendir(dir.c_str());
  if (d == nullptr) {
    scan_error += "cannot open " + dir + "; ";
    return;
  }
  std::vector<std::string> names;
  // readdir() returns null both at the end and on an error, which only
  // errno tells apart: an error must not read as a short corpus.
  for (;;) {
    errno = 0;
    const dirent *e = readdir(d);
    if (e == nullptr) break;
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    names.push_back(name);
  }
  const int read_errno = errno;
  closedir(d);
  if (read_errno != 0) {
    scan_error += "cannot read " + dir + ": " + std::strerror(read_errno) + "; ";
    return;
  }
  std::sort(names.begin(), names.end());
  for (const std::string &name : names)
    cases.push_back({kind, name, dir + "/" + name});
  *count = names.size();
}

bool read_file(const std::string &path, bytes *out) {
  std::FILE *f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  out->clear();
  uint8_t chunk[65536];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0)
    out->insert(out->end(), chunk, chunk + n);
  const bool ok = std::ferror(f) == 0;
  std::fclose(f);
  return ok;
}

std::vector<std::string> split(const std::string &line) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

const char *family_word(address_family f) {
  switch (f) {
    case address_family::unspec: return "unspec";
    case address_family::inet: return "inet";
    case address_family::inet6: return "inet6";
    case address_family::unix_domain: return "unix";
  }
  return "?";
}

const char *transport_word(transport t) {
  switch (t) {
    case transport::unspec: return "unspec";
    case transport::stream: return "stream";
    case transport::dgram: return "dgram";
  }
  return "?";
}

bool parse_size(const std::string &s, size_t *out) {
  if (s.empty() || s.size() > 9) return false;
  size_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<size_t>(c - '0');
  }
  *out = v;
  return true;
}

// Checks `source`/`destination ADDRESS PORT` against an endpoint.
void check_endpoint(const char *where, const std::vector<std::string> &w,
                    const proxyproto::header &h, const proxyproto::ip_endpoint &ep) {
  ck_assert_msg(w.size() == 3, "%s: \"%s\" needs an address and a port", where,
                w[0].c_str());
  ck_assert_msg(h.family == address_family::inet || h.family == address_family::inet6,
                "%s: %s given for family %s", where, w[0].c_str(),
                family_word(h.family));
  const bool v4 = h.family == address_family::inet;
  uint8_t want[16];
  ck_assert_msg(inet_pton(v4 ? AF_INET : AF_INET6, w[1].c_str(), want) == 1,
                "%s: bad address \"%s\" in expected", where, w[1].c_str());
  char got[INET6_ADDRSTRLEN];
  inet_ntop(v4 ? AF_INET : AF_INET6, ep.address, got, sizeof got);
  ck_assert_msg(std::memcmp(ep.address, want, v4 ? 4 : 16) == 0,
                "%s: %s is %s, expected %s", where, w[0].c_str(), got, w[1].c_str());
  size_t port;
  ck_assert_msg(parse_size(w[2], &port), "%s: bad port in expected", where);
  ck_assert_msg(ep.port == port, "%s: %s port %u, expected %zu", where,
                w[0].c_str(), static_cast<unsigned>(ep.port), port);
}

void check_unix_path(const char *where, const std::vector<std::string> &w,
                     const proxyproto::header &h, const uint8_t *block) {
  ck_assert_msg(h.family == address_family::unix_domain, "%s: %s for family %s",
                where, w[0].c_str(), family_word(h.family));
  ck_assert_msg(block != nullptr, "%s: %s is null", where, w[0].c_str());
  const std::string want = w.size() > 1 ? w[1] : "";
  ck_assert_msg(want.size() < 108, "%s: path too long", where);
  // The path and its NUL terminator.
  ck_assert_msg(std::memcmp(block, want.c_str(), want.size() + 1) == 0,
                "%s: %s is \"%.*s\", expected \"%s\"", where, w[0].c_str(), 108,
                reinterpret_cast<const char *>(block), want.c_str());
}

}  // namespace

START_TEST(corpus_directories_are_not_empty) {
  ck_assert_msg(scan_error.empty(), "%s", scan_error.c_str());
  ck_assert_msg(valid_count > 0, "no case in %s/valid", PP_CORPUS_DIR);
  ck_assert_msg(invalid_count > 0, "no case in %s/invalid", PP_CORPUS_DIR);
}
END_TEST

START_TEST(corpus_entry) {
  const corpus_case &c = cases[static_cast<size_t>(_i)];
  const std::string where_s = c.kind + "/" + c.name;
  const char *where = where_s.c_str();

  bytes input, expected_raw;
  ck_assert_msg(read_file(c.path + "/input.bin", &input), "%s: cannot read input.bin",
                where);
  ck_assert_msg(read_file(c.path + "/expected", &expected_raw),
                "%s: cannot read expected", where);

  guarded g(input);
  proxyproto::header h;
  std::memset(&h, 0, sizeof h);
  const proxyproto::parse_result r =
      proxyproto::parse_header(g.data(), g.size(), proxyproto::accept_v1_v2, &h);

  const std::string expected(expected_raw.begin(), expected_raw.end());
  size_t checked = 0;
  bool saw_status = false;
  size_t pos = 0;
  while (pos < expected.size()) {
    size_t end = expected.find('\n', pos);
    if (end == std::string::npos) end = expected.size();
    const std::string line = expected.substr(pos, end - pos);
    pos = end + 1;
    const std::vector<std::string> w = split(line);
    if (w.empty() || w[0][0] == '#') continue;
    const std::string &key = w[0];
    const std::string value = w.size() > 1 ? w[1] : "";
    if (key != "status") {
      // Field checks only make sense on the status the file states first.
      ck_assert_msg(saw_status, "%s: \"%s\" before status", where, key.c_str());
    }
    if (key == "status") {
      ck_assert_msg(value == (c.kind == "valid" ? "complete" : "invalid"),
                    "%s: a %s case expecting status %s", where, c.kind.c_str(),
                    value.c_str());
      ck_assert_msg(value == status_name(r.status), "%s: status %s (%s), expected %s",
                    where, status_name(r.status), defect_id(r.why), value.c_str());
      saw_status = true;
    } else if (key == "defect") {
      ck_assert_msg(value == proxyproto::defect_name(r.why),
                    "%s: defect %s, expected %s", where, proxyproto::defect_name(r.why),
                    value.c_str());
    } else if (key == "length") {
      size_t n;
      ck_assert_msg(parse_size(value, &n), "%s: bad length in expected", where);
      ck_assert_msg(r.length == n, "%s: length %zu, expected %zu", where, r.length, n);
      ck_assert_msg(h.length == n, "%s: header.length %zu, expected %zu", where,
                    h.length, n);
    } else if (key == "version") {
      ck_assert_msg(std::to_string(h.version) == value, "%s: version %u, expected %s",
                    where, static_cast<unsigned>(h.version), value.c_str());
    } else if (key == "command") {
      const char *got = h.cmd == command::local ? "local" : "proxy";
      ck_assert_msg(value == got, "%s: command %s, expected %s", where, got,
                    value.c_str());
    } else if (key == "family") {
      ck_assert_msg(value == family_word(h.family), "%s: family %s, expected %s",
                    where, family_word(h.family), value.c_str());
    } else if (key == "transport") {
      ck_assert_msg(value == transport_word(h.proto), "%s: transport %s, expected %s",
                    where, transport_word(h.proto), value.c_str());
    } else if (key == "source") {
      check_endpoint(where, w, h, h.source);
    } else if (key == "destination") {
      check_endpoint(where, w, h, h.destination);
    } else if (key == "tlvs_length") {
      size_t n;
      ck_assert_msg(parse_size(value, &n), "%s: bad tlvs_length in expected", where);
      ck_assert_msg(h.tlvs_length == n, "%s: tlvs_length %zu, expected %zu", where,
                    h.tlvs_length, n);
      if (n > 0) {
        // The TLVs are the last n bytes of the header.
        ck_assert_msg(h.tlvs == g.data() + r.length - n,
                      "%s: tlvs do not end the header", where);
      }
    } else if (key == "unix_source") {
      check_unix_path(where, w, h, h.unix_source);
    } else if (key == "unix_destination") {
      check_unix_path(where, w, h, h.unix_destination);
    } else {
      ck_abort_msg("%s: unknown key \"%s\" in expected", where, key.c_str());
    }
    ++checked;
  }
  ck_assert_msg(saw_status, "%s: expected has no status line", where);
  ck_assert_msg(checked >= 2, "%s: expected checks only %zu facts", where, checked);

  // A complete header is need_more on every strict prefix of it.
  if (r.status == parse_status::complete) {
    for (size_t n = 0; n < r.length; ++n) {
      proxyproto::header ph;
      const proxyproto::parse_result pr =
          proxyproto::parse_header(input.data(), n, proxyproto::accept_v1_v2, &ph);
      ck_assert_msg(pr.status == parse_status::need_more,
                    "%s: %zu of %zu header bytes give %s (%s)", where, n, r.length,
                    status_name(pr.status), defect_id(pr.why));
    }
  }
}
END_TEST

Suite *make_corpus_suite(void) {
  cases.clear();
  scan_error.clear();
  scan("valid", &valid_count);
  scan("invalid", &invalid_count);

  Suite *s = suite_create("corpus");
  TCase *tc = tcase_create("directories");
  tcase_add_test(tc, corpus_directories_are_not_empty);
  suite_add_tcase(s, tc);

  tc = tcase_create("cases");
  tcase_add_loop_test(tc, corpus_entry, 0, static_cast<int>(cases.size()));
  suite_add_tcase(s, tc);
  return s;
}
