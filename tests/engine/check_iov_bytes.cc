// datagram/iov_bytes: a datagram over an application's iovecs. Capacity,
// gathering the first bytes, dropping a header from the front in place and
// copying between two iovec lists, each over one piece, several pieces,
// zero-length pieces (first, between, last, all), piece boundaries that
// fall on the cut, and lengths beyond what the pieces hold (truncation).
// Every byte outside what a call may write is checked to be untouched.
#include <check.h>
#include <sys/uio.h>

#include <cstring>
#include <string>
#include <vector>

#include "datagram/iov_bytes.h"
#include "suites.h"

using proxyproto::iov_capacity;
using proxyproto::iov_copy;
using proxyproto::iov_drop_front;
using proxyproto::iov_gather;
using proxyproto::iov_span;

namespace {

// Pieces of the given sizes, cut from one arena (with a guard byte after
// each piece, to see any write past a piece's end).
struct pieces {
  std::vector<std::string> store;
  std::vector<iovec> iov;

  explicit pieces(std::vector<size_t> sizes, char fill = '.') {
    store.reserve(sizes.size());
    for (size_t n : sizes) store.emplace_back(n + 1, fill);
    for (std::string &s : store) {
      s.back() = '#';
      iov.push_back({s.data(), s.size() - 1});
    }
  }
  iov_span span() const { return {iov.data(), iov.size()}; }
  // The pieces' bytes, in order, as one string.
  std::string joined() const {
    std::string out;
    for (const std::string &s : store) out.append(s, 0, s.size() - 1);
    return out;
  }
  void load(const std::string &text) {
    size_t at = 0;
    for (std::string &s : store)
      for (size_t i = 0; i + 1 < s.size() && at < text.size(); ++i) s[i] = text[at++];
  }
  bool guards_intact() const {
    for (const std::string &s : store)
      if (s.back() != '#') return false;
    return true;
  }
};

const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

}  // namespace

START_TEST(capacity) {
  ck_assert_uint_eq(iov_capacity({nullptr, 0}), 0);
  ck_assert_uint_eq(iov_capacity(pieces({0}).span()), 0);
  ck_assert_uint_eq(iov_capacity(pieces({0, 0, 0}).span()), 0);
  ck_assert_uint_eq(iov_capacity(pieces({7}).span()), 7);
  ck_assert_uint_eq(iov_capacity(pieces({0, 3, 0, 4, 0}).span()), 7);
}
END_TEST

START_TEST(gather) {
  char out[64];
  // One piece; several; zero-length ones anywhere.
  for (const std::vector<size_t> &sizes :
       std::vector<std::vector<size_t>>{{20}, {3, 5, 12}, {0, 1, 0, 0, 19, 0},
                                        {1, 1, 1, 1, 1, 15}, {20, 0}}) {
    pieces p(sizes);
    p.load(alphabet);
    for (size_t len : {0u, 1u, 3u, 4u, 8u, 19u, 20u}) {
      std::memset(out, '-', sizeof out);
      ck_assert_uint_eq(iov_gather(p.span(), reinterpret_cast<uint8_t *>(out), len), len);
      ck_assert_int_eq(std::memcmp(out, alphabet.data(), len), 0);
      ck_assert_int_eq(out[len], '-');  // nothing past len
    }
    // Asking for more than the pieces hold gives what they hold.
    std::memset(out, '-', sizeof out);
    ck_assert_uint_eq(iov_gather(p.span(), reinterpret_cast<uint8_t *>(out), 40), 20);
    ck_assert_int_eq(std::memcmp(out, alphabet.data(), 20), 0);
    ck_assert_int_eq(out[20], '-');
  }
  // Nothing to gather from.
  ck_assert_uint_eq(iov_gather({nullptr, 0}, reinterpret_cast<uint8_t *>(out), 10), 0);
  ck_assert_uint_eq(iov_gather(pieces({0, 0}).span(), reinterpret_cast<uint8_t *>(out), 10), 0);
}
END_TEST

// drop_front(skip, have) over every way of cutting 24 bytes into pieces
// of the listed sizes: the first have - skip bytes become bytes
// [skip, have) of what was there, and nothing at or after `have` changes.
START_TEST(drop_front) {
  const std::vector<std::vector<size_t>> layouts = {
      {24}, {30}, {12, 12}, {5, 0, 7, 12}, {0, 24}, {1, 1, 1, 21}, {16, 8, 0},
      {4, 4, 4, 4, 4, 4}, {28, 0}, {3, 0, 0, 25}};
  for (const auto &sizes : layouts) {
    for (size_t have : {24u, 20u, 17u}) {
      for (size_t skip : {0u, 1u, 4u, 5u, 12u, 16u, 17u, 19u, 20u, 23u, 24u, 30u}) {
        pieces p(sizes);
        p.load(alphabet);
        const std::string before = p.joined();
        iov_drop_front(p.span(), skip, have);
        const std::string after = p.joined();
        ck_assert_msg(p.guards_intact(), "write past a piece");
        if (skip == 0 || skip >= have) {
          // Nothing to move.
          ck_assert_msg(after == before, "skip %zu have %zu changed bytes", skip, have);
          continue;
        }
        ck_assert_msg(after.compare(0, have - skip, before, skip, have - skip) == 0,
                      "layout of %zu pieces, skip %zu have %zu: %s", sizes.size(),
                      skip, have, after.c_str());
        ck_assert_msg(after.compare(have, std::string::npos, before, have,
                                    std::string::npos) == 0,
                      "bytes after have %zu changed: %s", have, after.c_str());
      }
    }
  }
}
END_TEST

// Overlap within one piece and across pieces, a header bigger than the
// first pieces (the cut falls in a later piece), and the usual case: a
// 28-byte header in front of 32 bytes, in one buffer.
START_TEST(drop_front_usual_and_far) {
  pieces one({2048});
  std::string datagram = std::string(28, 'h') + std::string(32, 'p');
  one.load(datagram);
  iov_drop_front(one.span(), 28, 60);
  ck_assert(one.joined().compare(0, 32, std::string(32, 'p')) == 0);
  ck_assert(one.joined().compare(32, 28, datagram, 32, 28) == 0);  // untouched
  ck_assert_int_eq(one.joined()[60], '.');

  pieces far({2, 3, 0, 4, 40});
  far.load(alphabet);
  iov_drop_front(far.span(), 11, 49);
  ck_assert(far.joined().compare(0, 38, alphabet, 11, 38) == 0);
  ck_assert(far.guards_intact());
}
END_TEST

START_TEST(copy) {
  struct row {
    std::vector<size_t> to, from;
    size_t len, want;
  };
  const row rows[] = {
      {{20}, {20}, 20, 20},
      {{20}, {20}, 7, 7},
      {{20}, {20}, 0, 0},
      {{5, 5, 10}, {3, 17}, 20, 20},
      {{0, 20, 0}, {0, 0, 20}, 20, 20},
      {{1, 0, 1, 0, 18}, {10, 0, 10}, 15, 15},
      // Truncation: the destination holds less.
      {{8}, {20}, 20, 8},
      {{3, 0, 4}, {20}, 20, 7},
      {{0, 0}, {20}, 20, 0},
      {{}, {20}, 20, 0},
      // The source holds less than len.
      {{30}, {4, 6}, 20, 10},
      {{30}, {}, 20, 0},
  };
  for (const row &r : rows) {
    pieces from(r.from);
    from.load(alphabet);
    pieces to(r.to, '-');
    ck_assert_uint_eq(iov_copy(to.span(), from.span(), r.len), r.want);
    ck_assert(to.guards_intact());
    const std::string got = to.joined();
    ck_assert_msg(got.compare(0, r.want, alphabet, 0, r.want) == 0, "got %s", got.c_str());
    ck_assert_msg(got.find_first_not_of('-', r.want) == std::string::npos,
                  "past the copy: %s", got.c_str());
    ck_assert_msg(from.joined().compare(0, iov_capacity(from.span()), alphabet, 0,
                                        iov_capacity(from.span())) == 0,
                  "the source changed");
  }
}
END_TEST

Suite *make_iov_bytes_suite(void) {
  Suite *s = suite_create("iov_bytes");
  TCase *tc = tcase_create("rules");
  tcase_add_test(tc, capacity);
  tcase_add_test(tc, gather);
  tcase_add_test(tc, drop_front);
  tcase_add_test(tc, drop_front_usual_and_far);
  tcase_add_test(tc, copy);
  suite_add_tcase(s, tc);
  return s;
}
