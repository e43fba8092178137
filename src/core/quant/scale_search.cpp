// best_scale: a coarse-to-fine search over the scale with the cosine from code_kernels().scale_sums
// (see scale_search.h), and the former 24-candidate search.
#include "core/quant/scale_search.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace embedding::quant {
namespace {

constexpr float kLowest = 0.4f;
constexpr int kCoarse = 20;  // 0.4 .. 4.2
constexpr float kCoarseStep = 0.2f, kFinest = 0.01f;

float base_scale(int bits, float max_abs) {
  return (1.0f - 1.0f / static_cast<float>(1u << bits)) / max_abs;
}

}  // namespace

unsigned level_of(float v, int bits) {
  const float levels = static_cast<float>(1u << bits);
  const float k = std::floor((v + 1.0f) * 0.5f * levels);
  return static_cast<unsigned>(std::clamp(k, 0.0f, levels - 1.0f));
}

double cosine_at(const float* u, std::size_t n, int bits, float t) {
  double dot = 0.0, norm2 = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double g = grid(level_of(u[i] * t, bits), bits);
    dot += g * u[i];
    norm2 += g * g;
  }
  return norm2 > 0.0 ? dot / std::sqrt(norm2) : 0.0;
}

float best_of_24_scales(const float* u, std::size_t n, int bits, float max_abs) {
  if (bits == 1) return 1.0f;
  const float base = base_scale(bits, max_abs);
  float best_t = 1.0f;
  double best_cos = -1.0;
  for (int s = 0; s < 24; ++s) {
    const float t = base * (0.4f + 0.05f * static_cast<float>(s));
    const double c = cosine_at(u, n, bits, t);
    if (c > best_cos) best_cos = c, best_t = t;
  }
  return best_t;
}

// With H = 2^(bits-1), the level of a * t (a = |u_i|) is j = min(floor(a t H), H - 1) steps from
// the middle, and its grid value (2j + 1) / 2^bits in absolute value (the grid is symmetric), so
// cos(g, u) = sum a (2j + 1) / sqrt(sum (2j + 1)^2): one pass of code_kernels().scale_sums.
float best_scale(const float* u, std::size_t n, int bits, float max_abs) {
  return best_scale(u, n, bits, max_abs, code_kernels());
}

float best_scale(const float* u, std::size_t n, int bits, float max_abs,
                 const CodeKernels& kernels) {
  if (bits == 1 || !(max_abs > 0.0f)) return 1.0f;
  const float base = base_scale(bits, max_abs);
  const int half = 1 << (bits - 1);
  float best_f = 0.0f;  // the best factor of base so far
  double best = -1.0;
  // Evaluates up to kMaxScales factors in one pass.
  auto consider = [&](const float* factors, int count) {
    float scaled[kMaxScales], dot[kMaxScales];
    std::int64_t norm2[kMaxScales];
    for (int k = 0; k < count; ++k) scaled[k] = base * factors[k] * static_cast<float>(half);
    kernels.scale_sums(u, n, scaled, count, half, dot, norm2);
    for (int k = 0; k < count; ++k) {
      const double c = dot[k] / std::sqrt(static_cast<double>(norm2[k]));
      if (c > best) best = c, best_f = factors[k];
    }
  };
  // Coarse: kCoarse factors kCoarseStep apart from kLowest (2-bit codes clip many coordinates:
  // their best scale is often 2-3 times base), then halving steps on either side of the best.
  static_assert(kCoarse % kMaxScales == 0);
  for (int s = 0; s < kCoarse; s += kMaxScales) {
    float factors[kMaxScales];
    for (int k = 0; k < kMaxScales; ++k)
      factors[k] = kLowest + kCoarseStep * static_cast<float>(s + k);
    consider(factors, kMaxScales);
  }
  for (float step = kCoarseStep / 2; step > kFinest; step /= 2) {
    const float pair[2] = {best_f - step, best_f + step};
    consider(pair, 2);
  }
  return base * best_f;
}

}  // namespace embedding::quant
