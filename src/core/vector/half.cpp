// Scalar float -> half conversion (see half.h), by bit manipulation so that they behave the
// same on every CPU and compiler; the kernel tables use F16C for bulk conversions.
#include "core/vector/half.h"

#include <cstring>

namespace embedding::vec {
namespace {

std::uint32_t bits_of(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

float float_of(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

}  // namespace

Half float_to_half(float f) {
  const std::uint32_t u = bits_of(f);
  const auto sign = static_cast<Half>((u >> 16) & 0x8000u);
  const std::uint32_t abs = u & 0x7fffffffu;
  if (abs >= 0x7f800000u)  // inf or NaN (NaN stays a quiet NaN)
    return static_cast<Half>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0u));
  if (abs >= 0x477ff000u) return static_cast<Half>(sign | 0x7c00u);  // rounds past 65504
  if (abs < 0x38800000u) {
    // Below the smallest normal half (2^-14): a subnormal half, mantissa = round(|f| * 2^24).
    // Adding 0.5 (2^-1) in float aligns |f| so that the float addition itself rounds to
    // nearest-even at 2^-24 granularity.
    const float shifted = float_of(abs) + 0.5f;
    return static_cast<Half>(sign | (bits_of(shifted) - 0x3f000000u));
  }
  // Normal: rebias the exponent and round the 13 dropped mantissa bits to nearest-even.
  const std::uint32_t odd = (abs >> 13) & 1u;
  const std::uint32_t rounded = abs + 0xfffu + odd;
  return static_cast<Half>(sign | ((rounded - 0x38000000u) >> 13));
}

}  // namespace embedding::vec
