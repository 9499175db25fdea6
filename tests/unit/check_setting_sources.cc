// The configuration file's keys and the environment's precedence over it.
#include <check.h>

#include <cstring>
#include <string>

#include "core/setting_sources.h"
#include "suites.h"

using proxyproto::config_file_problem;
using proxyproto::config_file_result;
using proxyproto::effective_setting;
using proxyproto::read_config_text;
using proxyproto::setting_environment_name;
using proxyproto::setting_file_name;
using proxyproto::setting_key;
using proxyproto::setting_key_count;
using proxyproto::setting_sources;
using proxyproto::setting_text;

namespace {

std::string value(const setting_sources &s, setting_key k) {
  const setting_text t = effective_setting(s, k);
  return t.is_set() ? std::string(t.text, t.len) : std::string("<unset>");
}

config_file_result read(const char *text, setting_sources *s) {
  return read_config_text(text, std::strlen(text), s);
}

}  // namespace

START_TEST(names) {
  // Every file key is its variable's name without the prefix, lower case.
  for (size_t i = 0; i < setting_key_count; ++i) {
    const auto k = static_cast<setting_key>(i);
    std::string expected = std::string("LIBPROXYPROTO_") + setting_file_name(k);
    for (char &c : expected) c = static_cast<char>(std::toupper(c));
    ck_assert_str_eq(setting_environment_name(k), expected.c_str());
  }
  ck_assert_str_eq(setting_file_name(setting_key::allow), "allow");
  ck_assert_str_eq(setting_file_name(setting_key::must_use_protocol_header),
                   "must_use_protocol_header");
  ck_assert_str_eq(setting_file_name(setting_key::programs), "programs");
  ck_assert_str_eq(setting_environment_name(setting_key::keep_header),
                   "LIBPROXYPROTO_KEEP_HEADER");
  ck_assert_str_eq(setting_environment_name(setting_key::getsockname),
                   "LIBPROXYPROTO_GETSOCKNAME");
}
END_TEST

START_TEST(every_key_read_from_the_file) {
  setting_sources s{};
  const config_file_result r = read(
      "allow = 10.0.0.0/8\nports = 80\ntimeout = 100\nversion = 1\n"
      "must_use_protocol_header = 1\ndebug = 1\nprograms = nginx\n"
      "keep_header = 1\ngetsockname = yes\n",
      &s);
  ck_assert(r.problem == config_file_problem::none);
  PP_ASSERT_STR(value(s, setting_key::allow), "10.0.0.0/8");
  PP_ASSERT_STR(value(s, setting_key::ports), "80");
  PP_ASSERT_STR(value(s, setting_key::timeout), "100");
  PP_ASSERT_STR(value(s, setting_key::version), "1");
  PP_ASSERT_STR(value(s, setting_key::must_use_protocol_header), "1");
  PP_ASSERT_STR(value(s, setting_key::debug), "1");
  PP_ASSERT_STR(value(s, setting_key::programs), "nginx");
  PP_ASSERT_STR(value(s, setting_key::keep_header), "1");
  PP_ASSERT_STR(value(s, setting_key::getsockname), "yes");
}
END_TEST

START_TEST(environment_overrides_the_file) {
  setting_sources s{};
  read("allow = 10.0.0.0/8\nports = 80\n", &s);
  s.environment[static_cast<size_t>(setting_key::allow)] = {"127.0.0.1", 9};
  PP_ASSERT_STR(value(s, setting_key::allow), "127.0.0.1");
  // Key by key: the file's ports still hold.
  PP_ASSERT_STR(value(s, setting_key::ports), "80");
  // Set only in the environment.
  s.environment[static_cast<size_t>(setting_key::debug)] = {"1", 1};
  PP_ASSERT_STR(value(s, setting_key::debug), "1");
  PP_ASSERT_STR(value(s, setting_key::timeout), "<unset>");
}
END_TEST

START_TEST(empty_and_repeated_values) {
  setting_sources s{};
  // An empty value is unset; a later line replaces an earlier one.
  read("allow = 10.0.0.0/8\nallow =\nports = 80\nports = 443\n", &s);
  PP_ASSERT_STR(value(s, setting_key::allow), "<unset>");
  PP_ASSERT_STR(value(s, setting_key::ports), "443");
}
END_TEST

START_TEST(problems_are_reported_with_their_line) {
  setting_sources s{};
  config_file_result r = read("debug = 1\nalow = 10.0.0.0/8\nports = 80\n", &s);
  ck_assert(r.problem == config_file_problem::unknown_key);
  ck_assert_uint_eq(r.line_number, 2);
  // The good lines are still read; the caller fails closed on the problem.
  PP_ASSERT_STR(value(s, setting_key::debug), "1");
  PP_ASSERT_STR(value(s, setting_key::ports), "80");
  PP_ASSERT_STR(value(s, setting_key::allow), "<unset>");

  setting_sources m{};
  r = read("# ok\n\nallow 10.0.0.0/8\nfoo = 1\n", &m);
  ck_assert(r.problem == config_file_problem::malformed_line);
  ck_assert_uint_eq(r.line_number, 3);  // the first problem

  setting_sources e{};
  r = read("LIBPROXYPROTO_ALLOW = 1\n", &e);
  ck_assert(r.problem == config_file_problem::malformed_line);
  setting_sources c{};
  r = read("config = /tmp/x\n", &c);  // the file cannot name another file
  ck_assert(r.problem == config_file_problem::unknown_key);
}
END_TEST

Suite *make_setting_sources_suite(void) {
  Suite *s = suite_create("setting_sources");
  TCase *tc = tcase_create("precedence");
  tcase_add_test(tc, names);
  tcase_add_test(tc, every_key_read_from_the_file);
  tcase_add_test(tc, environment_overrides_the_file);
  tcase_add_test(tc, empty_and_repeated_values);
  tcase_add_test(tc, problems_are_reported_with_their_line);
  suite_add_tcase(s, tc);
  return s;
}
