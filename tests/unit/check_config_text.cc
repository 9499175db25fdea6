// The configuration file's lines: comments, spaces, malformed lines.
#include <check.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/config_text.h"
#include "suites.h"

using proxyproto::config_cursor;
using proxyproto::config_line;
using proxyproto::config_line_status;
using proxyproto::config_text_begin;
using proxyproto::next_config_line;

namespace {

// "key=value@line" for each entry, "!line" for each malformed line.
std::string walk(const char *text, size_t len) {
  config_cursor c = config_text_begin(text, len);
  config_line l;
  std::string out;
  for (int guard = 0; guard < 1000; ++guard) {
    switch (next_config_line(&c, &l)) {
      case config_line_status::end:
        return out;
      case config_line_status::malformed:
        out += "!" + std::to_string(l.line_number) + " ";
        break;
      case config_line_status::entry:
        out += std::string(l.key, l.key_len) + "=" +
               std::string(l.value, l.value_len) + "@" +
               std::to_string(l.line_number) + " ";
        break;
    }
  }
  ck_abort_msg("the cursor did not reach the end");
  return out;
}

std::string walk(const char *text) { return walk(text, std::strlen(text)); }

}  // namespace

START_TEST(empty_and_comments) {
  PP_ASSERT_STR(walk(""), "");
  PP_ASSERT_STR(walk("\n\n   \n\t\n"), "");
  PP_ASSERT_STR(walk("# a comment\n  # another = not a key\n"), "");
}
END_TEST

START_TEST(entries_and_spaces) {
  PP_ASSERT_STR(walk("allow = 10.0.0.0/8\n"), "allow=10.0.0.0/8@1 ");
  PP_ASSERT_STR(walk("allow=10.0.0.0/8"), "allow=10.0.0.0/8@1 ");
  PP_ASSERT_STR(walk("  \tports\t=  80, 443  \r\n"), "ports=80, 443@1 ");
  PP_ASSERT_STR(walk("# c\n\ndebug = 1\nversion=2\n"),
                   "debug=1@3 version=2@4 ");
  // The value runs to the end of the line, or to '#'.
  PP_ASSERT_STR(walk("allow = 10.0.0.0/8 # proxies\n"),
                   "allow=10.0.0.0/8@1 ");
  PP_ASSERT_STR(walk("allow = # nothing\n"), "allow=@1 ");
  PP_ASSERT_STR(walk("allow =\n"), "allow=@1 ");
  // Only the first '=' separates.
  PP_ASSERT_STR(walk("programs = a=b\n"), "programs=a=b@1 ");
  PP_ASSERT_STR(walk("must_use_protocol_header = 1"),
                   "must_use_protocol_header=1@1 ");
  // CR LF endings, no newline at the end.
  PP_ASSERT_STR(walk("a = 1\r\nb = 2\r\nc = 3"), "a=1@1 b=2@2 c=3@3 ");
}
END_TEST

START_TEST(malformed_lines) {
  PP_ASSERT_STR(walk("allow 10.0.0.0/8\n"), "!1 ");
  PP_ASSERT_STR(walk("= 1\n"), "!1 ");
  PP_ASSERT_STR(walk("Allow = 1\n"), "!1 ");
  PP_ASSERT_STR(walk("LIBPROXYPROTO_ALLOW = 1\n"), "!1 ");
  PP_ASSERT_STR(walk("al low = 1\n"), "!1 ");
  PP_ASSERT_STR(walk("allow-list = 1\n"), "!1 ");
  PP_ASSERT_STR(walk("[section]\n"), "!1 ");
  // A malformed line does not hide the lines around it.
  PP_ASSERT_STR(walk("debug = 1\noops\nports = 80\n"),
                   "debug=1@1 !2 ports=80@3 ");
  // A NUL byte makes the line malformed, not shorter.
  static const char with_nul[] = "allow = 10.0.0.0/8\0, 0.0.0.0/0\nports = 80\n";
  PP_ASSERT_STR(walk(with_nul, sizeof with_nul - 1), "!1 ports=80@2 ");
}
END_TEST

START_TEST(stops_at_the_given_length) {
  const char text[] = "debug = 1\nports = 80\n";
  PP_ASSERT_STR(walk(text, 10), "debug=1@1 ");
  PP_ASSERT_STR(walk(text, 7), "debug=@1 ");
  PP_ASSERT_STR(walk(text, 5), "!1 ");
}
END_TEST

Suite *make_config_text_suite(void) {
  Suite *s = suite_create("config_text");
  TCase *tc = tcase_create("lines");
  tcase_add_test(tc, empty_and_comments);
  tcase_add_test(tc, entries_and_spaces);
  tcase_add_test(tc, malformed_lines);
  tcase_add_test(tc, stops_at_the_given_length);
  suite_add_tcase(s, tc);
  return s;
}
