// Sigmoid tables and the scalar update kernels (see update.h); the AVX2 ones are in
// update_avx2.cpp and are used only when the distance kernels in use are AVX2.
#include "core/train/update.h"

#include <cmath>
#include <cstring>

#include "core/vector/kernels.h"

namespace embedding::train {
namespace {

float scalar_dot(const float* a, const float* b, std::size_t n) {
  float sum[4] = {0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (int j = 0; j < 4; ++j) sum[j] += a[i + j] * b[i + j];
  for (; i < n; ++i) sum[0] += a[i] * b[i];
  return (sum[0] + sum[1]) + (sum[2] + sum[3]);
}

void scalar_pair_step(const float* input, float* output, float* grad, float g, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const float out = output[i];
    grad[i] += g * out;
    output[i] = out + g * input[i];
  }
}

void scalar_axpy(float a, const float* x, float* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] += a * x[i];
}

constexpr UpdateKernels kScalar = {"scalar", scalar_dot, scalar_pair_step, scalar_axpy};

}  // namespace

SigmoidTable::SigmoidTable() : sigmoid_(kSize + 1), log_sigmoid_(kSize + 1) {
  for (int i = 0; i <= kSize; ++i) {
    const double x = -kLimit + 2.0 * kLimit * i / kSize;
    const double s = 1.0 / (1.0 + std::exp(-x));
    sigmoid_[i] = static_cast<float>(s);
    log_sigmoid_[i] = static_cast<float>(std::log(s));
  }
}

const UpdateKernels& scalar_update_kernels() { return kScalar; }

const UpdateKernels& update_kernels() {
  const UpdateKernels* avx2 = detail::avx2_update_kernels_unchecked();
  if (avx2 != nullptr && std::strcmp(kernels::active().name, "avx2") == 0) return *avx2;
  return kScalar;
}

}  // namespace embedding::train
