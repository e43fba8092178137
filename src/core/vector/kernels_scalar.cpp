// Scalar float32 distance kernels: the portable reference every SIMD table is tested against.
// Plain loops with one float accumulator per sum, as pgvector computes them.
#include <cmath>

#include "core/vector/kernels.h"

namespace embedding::kernels {
namespace {

float l2_squared_scalar(const float* a, const float* b, std::size_t n) {
  float sum = 0.0f;
  for (std::size_t i = 0; i < n; ++i) {
    const float diff = a[i] - b[i];
    sum += diff * diff;
  }
  return sum;
}

float dot_scalar(const float* a, const float* b, std::size_t n) {
  float sum = 0.0f;
  for (std::size_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

float l1_scalar(const float* a, const float* b, std::size_t n) {
  float sum = 0.0f;
  for (std::size_t i = 0; i < n; ++i) sum += std::fabs(a[i] - b[i]);
  return sum;
}

void dot_norms_scalar(const float* a, const float* b, std::size_t n, float* dot, float* norm_a,
                      float* norm_b) {
  float sum_ab = 0.0f;
  float sum_aa = 0.0f;
  float sum_bb = 0.0f;
  for (std::size_t i = 0; i < n; ++i) {
    sum_ab += a[i] * b[i];
    sum_aa += a[i] * a[i];
    sum_bb += b[i] * b[i];
  }
  *dot = sum_ab;
  *norm_a = sum_aa;
  *norm_b = sum_bb;
}

// Constant-initialised: no code runs before main or _PG_init.
constexpr KernelTable kScalarTable{"scalar", l2_squared_scalar, dot_scalar, l1_scalar,
                                   dot_norms_scalar};

}  // namespace

const KernelTable& scalar_table() { return kScalarTable; }

}  // namespace embedding::kernels
