// IEEE 754 binary16 ("half") elements of the `halfvec` type: scalar conversions that are exact
// from half to float and round to nearest-even from float to half (as F16C's _cvtss_sh(x, 0)).
// Bulk conversions with F16C live in the kernel tables (kernels.h).
#pragma once

#include <cstdint>
#include <cstring>

namespace embedding::vec {

using Half = std::uint16_t;

inline constexpr int kMaxHalfDim = 16000;
inline constexpr float kHalfMax = 65504.0f;

// Exact: every half is a float. Inline: the scalar kernels call it per element.
inline float half_to_float(Half h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exponent = (h >> 10) & 0x1fu;
  const std::uint32_t mantissa = h & 0x3ffu;
  std::uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);  // inf, NaN
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else {
    // Zero or subnormal: mantissa * 2^-24, exact in float.
    const float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
    std::memcpy(&bits, &magnitude, sizeof bits);
    bits |= sign;
  }
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
// Nearest half, ties to even; beyond the largest finite half the result is +-infinity, NaN
// stays NaN (a quiet NaN).
Half float_to_half(float f);

inline bool half_is_inf(Half h) { return (h & 0x7fffu) == 0x7c00u; }
inline bool half_is_nan(Half h) { return (h & 0x7c00u) == 0x7c00u && (h & 0x03ffu) != 0; }
inline bool half_is_zero(Half h) { return (h & 0x7fffu) == 0; }

}  // namespace embedding::vec
