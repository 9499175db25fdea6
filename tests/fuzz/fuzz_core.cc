// libFuzzer target for the core: every input goes through the invariants
// of invariants.cc; a broken invariant aborts, and libFuzzer keeps the input.
// Built by `./configure --enable-fuzzing && make fuzz` (see local.mk).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "invariants.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // A copy of exactly `size` bytes, so that ASan catches a read past the end.
  std::vector<uint8_t> copy(data, data + size);
  pp_fuzz::check_invariants(copy.data(), copy.size(), pp_fuzz::prefix_walk::sampled);
  return 0;
}
