// settings/captured_environment: the copy of the environment taken at load
// time, and its secure-mode branch (AT_SECURE: nothing copied). The setuid
// integration test (tests/trust/secure.sh) runs the real branch in a
// set-user-ID process.
#include <check.h>

#include <cstring>
#include <string>

#include "settings/captured_environment.h"
#include "suites.h"

using proxyproto::capture_environment;
using proxyproto::captured_config_path;
using proxyproto::captured_ld_preload;
using proxyproto::captured_program_name;
using proxyproto::captured_secure_mode;
using proxyproto::captured_setting;
using proxyproto::captured_settings_present;
using proxyproto::captured_value;
using proxyproto::setting_key;

namespace {

std::string str(const captured_value &v) {
  return v.text != nullptr ? std::string(v.text, v.len) : std::string("<unset>");
}

}  // namespace

START_TEST(copies_the_settings) {
  char e1[] = "PATH=/bin";
  char e2[] = "LIBPROXYPROTO_ALLOW=10.0.0.0/8";
  char e3[] = "LIBPROXYPROTO_CONFIG=/tmp/pp.conf";
  char e4[] = "LD_PRELOAD=/x/libproxyproto.so";
  char e5[] = "LIBPROXYPROTO_PROGRAMS=nginx";
  char e6[] = "LIBPROXYPROTO_DEBUG=";
  char e7[] = "LIBPROXYPROTO_KEEP_HEADER=1";
  char e8[] = "LIBPROXYPROTO_GETSOCKNAME=1";
  char *env[] = {e1, e2, e3, e4, e5, e6, e7, e8, nullptr};
  capture_environment(env, "pp_server", false);
  // Changing or clearing the environment afterwards changes nothing.
  std::memset(e2, 'x', sizeof e2 - 1);
  env[0] = nullptr;
  PP_ASSERT_STR(str(captured_setting(setting_key::allow)), "10.0.0.0/8");
  PP_ASSERT_STR(str(captured_setting(setting_key::programs)), "nginx");
  PP_ASSERT_STR(str(captured_setting(setting_key::debug)), "<unset>");
  PP_ASSERT_STR(str(captured_setting(setting_key::ports)), "<unset>");
  PP_ASSERT_STR(str(captured_setting(setting_key::keep_header)), "1");
  PP_ASSERT_STR(str(captured_setting(setting_key::getsockname)), "1");
  PP_ASSERT_STR(str(captured_config_path()), "/tmp/pp.conf");
  PP_ASSERT_STR(str(captured_ld_preload()), "/x/libproxyproto.so");
  ck_assert_str_eq(captured_program_name(), "pp_server");
  ck_assert(captured_settings_present());
  ck_assert(!captured_secure_mode());
}
END_TEST

START_TEST(config_alone_is_not_a_request) {
  char e1[] = "LIBPROXYPROTO_CONFIG=/tmp/pp.conf";
  char e2[] = "LIBPROXYPROTO_DEBUG=";  // empty: unset
  char e3[] = "LIBPROXYPROTOX=1";
  char *env[] = {e1, e2, e3, nullptr};
  capture_environment(env, "sh", false);
  ck_assert(!captured_settings_present());
  char f1[] = "LIBPROXYPROTO_SOMETHING_ELSE=1";  // unknown, but a request
  char *env2[] = {f1, nullptr};
  capture_environment(env2, "sh", false);
  ck_assert(captured_settings_present());
  char g1[] = "LIBPROXYPROTO_ADDR=8.8.8.8";  // the client's, still a request
  char *env3[] = {g1, nullptr};
  capture_environment(env3, "sh", false);
  ck_assert(captured_settings_present());
}
END_TEST

START_TEST(secure_mode_copies_nothing) {
  char e1[] = "LIBPROXYPROTO_ALLOW=0.0.0.0/0";
  char e2[] = "LIBPROXYPROTO_CONFIG=/tmp/evil.conf";
  char e3[] = "LD_PRELOAD=libproxyproto.so";
  char e4[] = "LIBPROXYPROTO_DEBUG=1";
  char e5[] = "LIBPROXYPROTO_KEEP_HEADER=1";
  char e6[] = "LIBPROXYPROTO_GETSOCKNAME=1";
  char *env[] = {e1, e2, e3, e4, e5, e6, nullptr};
  capture_environment(env, "passwd", true);
  ck_assert(captured_secure_mode());
  ck_assert(captured_setting(setting_key::allow).text == nullptr);
  ck_assert(captured_setting(setting_key::debug).text == nullptr);
  ck_assert(captured_setting(setting_key::keep_header).text == nullptr);
  ck_assert(captured_setting(setting_key::getsockname).text == nullptr);
  ck_assert(captured_config_path().text == nullptr);
  ck_assert(captured_ld_preload().text == nullptr);
  ck_assert(!captured_settings_present());
  // A second capture (not secure) starts afresh, and secure mode clears it.
  capture_environment(env, "x", false);
  ck_assert(captured_config_path().text != nullptr);
  capture_environment(env, "x", true);
  ck_assert(captured_config_path().text == nullptr);
}
END_TEST

START_TEST(too_long_values_are_marked) {
  std::string allow = "LIBPROXYPROTO_ALLOW=" + std::string(5000, '1');
  std::string preload = "LD_PRELOAD=" + std::string(5000, 'a');
  char *env[] = {allow.data(), preload.data(), nullptr};
  capture_environment(env, "x", false);
  const captured_value v = captured_setting(setting_key::allow);
  ck_assert(v.text != nullptr);
  ck_assert(v.too_long);
  ck_assert(captured_ld_preload().too_long);
  char short_allow[] = "LIBPROXYPROTO_ALLOW=1.2.3.4";
  char *env2[] = {short_allow, nullptr};
  capture_environment(env2, "x", false);
  ck_assert(!captured_setting(setting_key::allow).too_long);
}
END_TEST

Suite *make_captured_environment_suite(void) {
  Suite *s = suite_create("captured_environment");
  TCase *tc = tcase_create("capture");
  tcase_add_test(tc, copies_the_settings);
  tcase_add_test(tc, config_alone_is_not_a_request);
  tcase_add_test(tc, secure_mode_copies_nothing);
  tcase_add_test(tc, too_long_values_are_marked);
  suite_add_tcase(s, tc);
  return s;
}
