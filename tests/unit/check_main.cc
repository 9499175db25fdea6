// tests/unit/check_core: every suite of the protocol core in one program.
#include <check.h>

#include <cstdlib>

#include "suites.h"

int main(void) {
  SRunner *sr = srunner_create(make_detect_suite());
  srunner_add_suite(sr, make_parse_v1_suite());
  srunner_add_suite(sr, make_parse_v2_suite());
  srunner_add_suite(sr, make_inet_text_suite());
  srunner_add_suite(sr, make_writer_suite());
  srunner_add_suite(sr, make_sockaddr_suite());
  srunner_add_suite(sr, make_crc32c_tlv_suite());
  srunner_add_suite(sr, make_settings_suite());
  srunner_add_suite(sr, make_corpus_suite());
  srunner_run_all(sr, CK_NORMAL);
  const int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
