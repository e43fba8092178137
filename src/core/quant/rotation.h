// A random orthogonal rotation stored as a seed: sign flips and fast Walsh-Hadamard transforms on
// overlapping power-of-two blocks, so that every coordinate of a rotated vector carries a similar
// share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/quant/code_kernels.h"

namespace embedding::quant {

// Rotated vectors have padded_dims(dims) coordinates: dims rounded up to a multiple of 64, so that
// codes fill whole 64-bit words at every bit width.
constexpr std::size_t padded_dims(std::size_t dims) { return (dims + 63) & ~std::size_t{63}; }

// R = H_b D_4 H_f D_3 H_b D_2 H_f D_1: D_k flips signs (drawn from the seed), H_f and H_b are
// orthonormal Walsh-Hadamard transforms of the first and the last 2^k coordinates (2^k the largest
// power of two not above the padded size; the two blocks are one when the size is a power of two,
// and overlap otherwise, which mixes the coordinates between them). O(P log P) a vector, and O(P)
// to keep; the same seed gives the same rotation on every machine (std::mt19937_64 is specified).
class Rotation {
 public:
  Rotation(std::size_t dims, std::uint64_t seed);

  std::size_t dims() const { return dims_; }
  std::size_t padded() const { return padded_; }

  // out[0, padded) = R (in[0, dims), zeros). `in` and `out` must not overlap.
  void apply(const float* in, float* out) const;
  // The same with the given kernels (the default: code_kernels()).
  void apply(const float* in, float* out, const CodeKernels& kernels) const;
  // out[0, dims) = the first dims coordinates of R^T in (the inverse; tests and tools).
  void invert(const float* in, float* out, float* scratch) const;

 private:
  static constexpr int kRounds = 4;
  std::size_t dims_;
  std::size_t padded_;
  std::size_t block_;         // 2^k
  std::vector<float> signs_;  // kRounds x padded_, each +1 or -1
};

// In-place orthonormal Walsh-Hadamard transform of x[0, n), n a power of two (code_kernels()).
void walsh_hadamard(float* x, std::size_t n);

}  // namespace embedding::quant
