// The TLV cursor (lib/core/tlv.h): TLVs in order, empty areas, the largest
// value, and truncated tails.
#include <check.h>

#include <cstring>
#include <string>

#include "core/tlv.h"
#include "suites.h"

using namespace pp_test;
using proxyproto::tlv_cursor;

// ---- tlv_cursor -----------------------------------------------------------------------

START_TEST(cursor_yields_in_order) {
  bytes area = tlv(0x01, {'h', '2'});
  append(area, tlv(0x04, {}));
  append(area, tlv(0xEE, bytes(300, 0x77)));
  append(area, tlv(0x03, {1, 2, 3, 4}));
  guarded g(area);
  tlv_cursor c(g.data(), g.size());
  proxyproto::tlv t;

  ck_assert(c.next(&t));
  ck_assert_uint_eq(t.type, 0x01);
  ck_assert_uint_eq(t.length, 2);
  ck_assert_ptr_eq(t.value, g.data() + 3);

  ck_assert(c.next(&t));
  ck_assert_uint_eq(t.type, 0x04);
  ck_assert_uint_eq(t.length, 0);

  ck_assert(c.next(&t));
  ck_assert_uint_eq(t.type, 0xEE);
  ck_assert_uint_eq(t.length, 300);
  ck_assert_ptr_eq(t.value, g.data() + 11);

  ck_assert(c.next(&t));
  ck_assert_uint_eq(t.type, 0x03);
  ck_assert_uint_eq(t.length, 4);
  ck_assert_ptr_eq(t.value, g.data() + 314);

  ck_assert(!c.next(&t));
  ck_assert(!c.truncated());
  ck_assert(!c.next(&t));  // stays at the end
  ck_assert(!c.truncated());
}
END_TEST

START_TEST(cursor_empty_area) {
  guarded g(bytes{});
  tlv_cursor c(g.data(), 0);
  proxyproto::tlv t;
  ck_assert(!c.next(&t));
  ck_assert(!c.truncated());
}
END_TEST

START_TEST(cursor_largest_value) {
  const bytes area = tlv(0xEA, bytes(65535, 1));
  guarded g(area);
  tlv_cursor c(g.data(), g.size());
  proxyproto::tlv t;
  ck_assert(c.next(&t));
  ck_assert_uint_eq(t.type, 0xEA);
  ck_assert_uint_eq(t.length, 65535);
  ck_assert(!c.next(&t));
  ck_assert(!c.truncated());
}
END_TEST

// A good TLV, then one that does not fit: the first is yielded, then the
// cursor stops and says it was truncated.
const bytes truncated_tails[] = {
    {0x05},
    {0x05, 0x00},
    {0x05, 0x00, 0x01},
    {0x05, 0x00, 0x04, 1, 2, 3},
    {0x05, 0xFF, 0xFF, 1},
    {0x05, 0x01, 0x00},
};

START_TEST(cursor_truncated) {
  bytes area = tlv(0x02, {'a', 'b', 'c'});
  append(area, truncated_tails[_i]);
  guarded g(area);
  tlv_cursor c(g.data(), g.size());
  proxyproto::tlv t;
  ck_assert(c.next(&t));
  ck_assert_uint_eq(t.type, 0x02);
  ck_assert_uint_eq(t.length, 3);
  ck_assert(!c.truncated());
  ck_assert(!c.next(&t));
  ck_assert(c.truncated());
  ck_assert(!c.next(&t));
  ck_assert(c.truncated());
  // On its own, too.
  guarded alone(truncated_tails[_i]);
  tlv_cursor d(alone.data(), alone.size());
  ck_assert(!d.next(&t));
  ck_assert(d.truncated());
}
END_TEST

Suite *make_tlv_suite(void) {
  Suite *s = suite_create("tlv");

  TCase *tc = tcase_create("tlv_cursor");
  tcase_add_test(tc, cursor_yields_in_order);
  tcase_add_test(tc, cursor_empty_area);
  tcase_add_test(tc, cursor_largest_value);
  tcase_add_loop_test(
      tc, cursor_truncated, 0,
      static_cast<int>(sizeof truncated_tails / sizeof truncated_tails[0]));
  suite_add_tcase(s, tc);
  return s;
}
