// The rescaling of a unit vector that its grid levels keep closest in direction: the choice at the
// heart of multi-bit encoding (rabitq.cpp), and the former 24-candidate search it replaced.
#pragma once

#include <cstddef>

#include "core/quant/code_kernels.h"

namespace embedding::quant {

// Grid value of level k with `bits` bits: (2k + 1) / 2^bits - 1, in (-1, 1).
inline float grid(unsigned level, int bits) {
  return static_cast<float>(2 * level + 1) / static_cast<float>(1u << bits) - 1.0f;
}

// The level of v (u_i times a scale) with `bits` bits.
unsigned level_of(float v, int bits);

// cos(g, u) of the levels of u (a unit vector of n values) at scale t.
double cosine_at(const float* u, std::size_t n, int bits, float t);

// The scale t at which the grid values of u's levels make the largest cos(g, u); 1 for 1-bit
// codes (signs, whatever the scale). Candidates are factors of the scale that maps max_abs (u's
// largest absolute value) to the top level: 0.4 to 4.2 in steps of 0.2 (2-bit codes often do best
// at 2-3, past the former search's 1.55), then steps of 0.1, 0.05, 0.025 and 0.0125 on either side
// of the best so far: 28 scales in 9 passes of an AVX2 kernel (code_kernels.h, up to four scales a
// pass), where the former search made 24 scalar passes. On average as good or better than the
// former search (quant_kernels_test, test/bench/README.md).
float best_scale(const float* u, std::size_t n, int bits, float max_abs);
// The same with the given kernels.
float best_scale(const float* u, std::size_t n, int bits, float max_abs,
                 const CodeKernels& kernels);

// The former search: cosine_at at 24 scales, 0.4 to 1.55 times the same base (tests and benchmarks
// compare best_scale against it).
float best_of_24_scales(const float* u, std::size_t n, int bits, float max_abs);

}  // namespace embedding::quant
