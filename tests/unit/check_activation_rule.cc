// Whether the library acts in a process: programs, LD_PRELOAD, DT_NEEDED,
// variables.
#include <check.h>

#include <cstring>

#include "core/activation_rule.h"
#include "suites.h"

using proxyproto::activation_facts;
using proxyproto::library_should_act;
using proxyproto::names_server_library;
using proxyproto::preload_list_names_library;
using proxyproto::program_list_names;
using proxyproto::program_list_valid;

namespace {

bool names(const char *path) { return names_server_library(path, std::strlen(path)); }
bool preload(const char *list) {
  return preload_list_names_library(list, std::strlen(list));
}
bool programs(const char *list, const char *program) {
  return program_list_names(list, std::strlen(list), program);
}
bool valid(const char *list) { return program_list_valid(list, std::strlen(list)); }

}  // namespace

START_TEST(inert_unless_asked) {
  ck_assert(!library_should_act(activation_facts{}));
  activation_facts f{};
  f.preload_names_library = true;
  ck_assert(library_should_act(f));
  f = {};
  f.main_program_links_library = true;
  ck_assert(library_should_act(f));
  f = {};
  f.settings_in_environment = true;
  ck_assert(library_should_act(f));
}
END_TEST

START_TEST(programs_decides_alone_when_set) {
  activation_facts f{};
  f.programs_set = true;
  f.program_named = true;
  ck_assert(library_should_act(f));
  // Named elsewhere: inert even though the process asked in every way.
  f.program_named = false;
  f.preload_names_library = true;
  f.main_program_links_library = true;
  f.settings_in_environment = true;
  ck_assert(!library_should_act(f));
}
END_TEST

START_TEST(library_names) {
  ck_assert(names("libproxyproto.so"));
  ck_assert(names("libproxyproto.so.0"));
  ck_assert(names("libproxyproto.so.0.0.0"));
  ck_assert(names("/usr/lib/x86_64-linux-gnu/libproxyproto.so.0"));
  ck_assert(names("./lib/.libs/libproxyproto.so"));
  ck_assert(!names("libproxyproto_connect.so"));
  ck_assert(!names("libproxyproto_connect.so.0"));
  ck_assert(!names("libproxyproto.so."));
  ck_assert(!names("libproxyproto.so.0."));
  ck_assert(!names("libproxyproto.so..0"));
  ck_assert(!names("libproxyproto.so0"));
  ck_assert(!names("libproxyproto.so.x"));
  ck_assert(!names("libproxyproto.sox"));
  ck_assert(!names("xlibproxyproto.so"));
  ck_assert(!names("libproxyproto.so/"));
  ck_assert(!names("libproxyproto.s"));
  ck_assert(!names(""));
}
END_TEST

START_TEST(preload_lists) {
  ck_assert(preload("libproxyproto.so"));
  ck_assert(preload("/usr/lib/libasan.so.8:/build/lib/.libs/libproxyproto.so"));
  ck_assert(preload("libfoo.so libproxyproto.so.0"));
  ck_assert(preload("::libproxyproto.so::"));
  ck_assert(!preload(""));
  ck_assert(!preload("libproxyproto_connect.so"));
  ck_assert(!preload("/tmp/libproxyproto.so.bak"));
  ck_assert(!preload("libfoo.so"));
}
END_TEST

START_TEST(program_lists) {
  ck_assert(programs("nginx", "nginx"));
  ck_assert(programs("haproxy, nginx", "nginx"));
  ck_assert(programs(" nginx ,\tpp_server ", "pp_server"));
  ck_assert(!programs("nginx", "nginx2"));
  ck_assert(!programs("nginx2", "nginx"));
  ck_assert(!programs("ngin", "nginx"));
  ck_assert(!programs("NGINX", "nginx"));
  ck_assert(!programs("nginx", ""));
  ck_assert(!programs("", ""));
  ck_assert(!programs(",", ""));
  ck_assert(valid("nginx"));
  ck_assert(valid("nginx, haproxy"));
  ck_assert(!valid(""));
  ck_assert(!valid("nginx,"));
  ck_assert(!valid("nginx,,haproxy"));
  ck_assert(!valid(" , "));
}
END_TEST

Suite *make_activation_rule_suite(void) {
  Suite *s = suite_create("activation_rule");
  TCase *tc = tcase_create("rule");
  tcase_add_test(tc, inert_unless_asked);
  tcase_add_test(tc, programs_decides_alone_when_set);
  tcase_add_test(tc, library_names);
  tcase_add_test(tc, preload_lists);
  tcase_add_test(tc, program_lists);
  suite_add_tcase(s, tc);
  return s;
}
