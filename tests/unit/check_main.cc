// tests/unit/check_core: every suite of the protocol core (lib/core) in one
// program, one suite per unit.
#include <check.h>

#include <cstdlib>

#include "suites.h"

int main(void) {
  SRunner *sr = srunner_create(make_parse_header_suite());
  srunner_add_suite(sr, make_parse_v1_suite());
  srunner_add_suite(sr, make_parse_v2_suite());
  srunner_add_suite(sr, make_inet_text_suite());
  srunner_add_suite(sr, make_header_writer_suite());
  srunner_add_suite(sr, make_sockaddr_convert_suite());
  srunner_add_suite(sr, make_crc32c_suite());
  srunner_add_suite(sr, make_tlv_suite());
  srunner_add_suite(sr, make_setting_values_suite());
  srunner_add_suite(sr, make_address_list_suite());
  srunner_add_suite(sr, make_port_list_suite());
  srunner_add_suite(sr, make_config_text_suite());
  srunner_add_suite(sr, make_setting_sources_suite());
  srunner_add_suite(sr, make_activation_rule_suite());
  srunner_add_suite(sr, make_tlv_setting_suite());
  srunner_add_suite(sr, make_corpus_suite());
  srunner_run_all(sr, CK_NORMAL);
  const int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
