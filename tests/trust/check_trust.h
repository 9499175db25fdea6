// The suites of tests/trust/check_trust: the pure pieces of trust and scope
// (lib/core) and the capture of the environment.
#pragma once

#include <check.h>

#include <cstring>
#include <string>

Suite *make_address_list_suite(void);
Suite *make_port_list_suite(void);
Suite *make_config_text_suite(void);
Suite *make_setting_sources_suite(void);
Suite *make_activation_rule_suite(void);
Suite *make_captured_environment_suite(void);

// Compares a std::string result with the expected text. (ck_assert_str_eq
// on a temporary's c_str() would read freed memory.)
#define PP_ASSERT_STR(got_expr, want)                                      \
  do {                                                                     \
    const std::string pp_got = (got_expr);                                 \
    ck_assert_msg(pp_got == (want), "got \"%s\", want \"%s\"",          \
                  pp_got.c_str(), (want));                                 \
  } while (0)

namespace pp_trust {

// A C string as (pointer, length).
struct text {
  const char *p;
  size_t n;
};
inline text t(const char *s) { return text{s, std::strlen(s)}; }

}  // namespace pp_trust
