// tests/trust/check_trust: every suite of trust and scope in one program.
#include <check.h>

#include <cstdlib>

#include "check_trust.h"

int main(void) {
  SRunner *sr = srunner_create(make_address_list_suite());
  srunner_add_suite(sr, make_port_list_suite());
  srunner_add_suite(sr, make_config_text_suite());
  srunner_add_suite(sr, make_setting_sources_suite());
  srunner_add_suite(sr, make_activation_rule_suite());
  srunner_add_suite(sr, make_captured_environment_suite());
  srunner_run_all(sr, CK_NORMAL);
  const int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
