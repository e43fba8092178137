// Rotation: random sign flips and Walsh-Hadamard transforms (see rotation.h).
#include "core/quant/rotation.h"

#include <cmath>
#include <cstring>
#include <random>

#include "core/common/error.h"

namespace embedding::quant {

void detail::walsh_hadamard_scalar(float* x, std::size_t n) {
  for (std::size_t half = 1; half < n; half *= 2) {
    for (std::size_t start = 0; start < n; start += 2 * half) {
      float* a = x + start;
      float* b = a + half;
      for (std::size_t i = 0; i < half; ++i) {
        const float s = a[i] + b[i];
        const float d = a[i] - b[i];
        a[i] = s;
        b[i] = d;
      }
    }
  }
  const float scale = 1.0f / std::sqrt(static_cast<float>(n));
  for (std::size_t i = 0; i < n; ++i) x[i] *= scale;
}

void walsh_hadamard(float* x, std::size_t n) { code_kernels().walsh_hadamard(x, n); }

Rotation::Rotation(std::size_t dims, std::uint64_t seed)
    : dims_(dims), padded_(padded_dims(dims)), block_(1) {
  if (dims == 0)
    throw Error(ErrorCode::kInvalidParameter, "a rotation needs at least one dimension");
  while (block_ * 2 <= padded_) block_ *= 2;
  signs_.resize(kRounds * padded_);
  std::mt19937_64 rng(seed);
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < signs_.size(); ++i) {
    if (i % 64 == 0) bits = rng();
    signs_[i] = (bits >> (i % 64)) & 1 ? -1.0f : 1.0f;
  }
}

void Rotation::apply(const float* in, float* out) const { apply(in, out, code_kernels()); }

void Rotation::apply(const float* in, float* out, const CodeKernels& kernels) const {
  std::memcpy(out, in, dims_ * sizeof(float));
  std::memset(out + dims_, 0, (padded_ - dims_) * sizeof(float));
  for (int round = 0; round < kRounds; ++round) {
    kernels.flip_signs(out, signs_.data() + round * padded_, padded_);
    kernels.walsh_hadamard(round % 2 == 0 ? out : out + (padded_ - block_), block_);
  }
}

void Rotation::invert(const float* in, float* out, float* scratch) const {
  std::memcpy(scratch, in, padded_ * sizeof(float));
  for (int round = kRounds - 1; round >= 0; --round) {
    walsh_hadamard(round % 2 == 0 ? scratch : scratch + (padded_ - block_),
                   block_);  // H = H^T = H^-1
    const float* sign = signs_.data() + round * padded_;
    for (std::size_t i = 0; i < padded_; ++i) scratch[i] *= sign[i];
  }
  std::memcpy(out, scratch, dims_ * sizeof(float));
}

}  // namespace embedding::quant
