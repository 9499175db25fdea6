// Properties of the core that must hold for every input, whatever its bytes:
// shared by the libFuzzer target (fuzz_core.cc) and by fuzz_replay, which
// runs them over the corpus and the regressions in every `make check`.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pp_fuzz {

// Checks every invariant on one input; on a violation prints what broke
// and aborts (the fuzzer then saves the input as a crash).
void check_invariants(const uint8_t *data, size_t size);

}  // namespace pp_fuzz
