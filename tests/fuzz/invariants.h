// Properties of the core that must hold for every input, whatever its bytes:
// shared by the libFuzzer target (fuzz_core.cc) and by fuzz_replay, which
// runs them over the corpus and the regressions in every `make check`.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pp_fuzz {

// How many prefixes of an input the prefix invariants walk. Every prefix is
// quadratic work; the fuzzer's time is better spent on new inputs, so it
// walks them for a fixed sample of its inputs (chosen by the input's own
// bytes, so a failing input fails again when replayed) and checks only the
// decisive prefixes (the whole input, a header's length and the byte before
// it) of the rest. fuzz_replay walks them all.
enum class prefix_walk { every_input, sampled };

// Checks every invariant on one input; on a violation prints what broke
// and aborts (the fuzzer then saves the input as a crash).
void check_invariants(const uint8_t *data, size_t size, prefix_walk walk);

}  // namespace pp_fuzz
