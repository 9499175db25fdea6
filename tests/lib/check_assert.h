// Assertions the Check programs share (tests/unit, tests/engine).
#pragma once

#include <check.h>

#include <string>

// Compares a std::string result with the expected text. (ck_assert_str_eq
// on a temporary's c_str() would read freed memory.)
#define PP_ASSERT_STR(got_expr, want)                                      \
  do {                                                                     \
    const std::string pp_got = (got_expr);                                 \
    ck_assert_msg(pp_got == (want), "got \"%s\", want \"%s\"",             \
                  pp_got.c_str(), (want));                                 \
  } while (0)
