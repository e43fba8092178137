// Scalar distance kernels: the portable reference every SIMD table is tested against. Plain
// loops with one float accumulator per sum, as pgvector computes them; half-precision elements
// are converted one at a time, bit strings are counted a 64-bit word at a time.
#include <cmath>
#include <cstring>

#include "core/vector/kernels.h"

namespace embedding::kernels {
namespace {

inline float value(float x) { return x; }
inline float value(Half h) { return vec::half_to_float(h); }

template <typename T>
float l2_squared_scalar(const T* a, const T* b, std::size_t n) {
  float sum = 0.0f;
  for (std::size_t i = 0; i < n; ++i) {
    const float diff = value(a[i]) - value(b[i]);
    sum += diff * diff;
  }
  return sum;
}

template <typename T>
float dot_scalar(const T* a, const T* b, std::size_t n) {
  float sum = 0.0f;
  for (std::size_t i = 0; i < n; ++i) sum += value(a[i]) * value(b[i]);
  return sum;
}

template <typename T>
float l1_scalar(const T* a, const T* b, std::size_t n) {
  float sum = 0.0f;
  for (std::size_t i = 0; i < n; ++i) sum += std::fabs(value(a[i]) - value(b[i]));
  return sum;
}

template <typename T>
void dot_norms_scalar(const T* a, const T* b, std::size_t n, float* dot, float* norm_a,
                      float* norm_b) {
  float sum_ab = 0.0f;
  float sum_aa = 0.0f;
  float sum_bb = 0.0f;
  for (std::size_t i = 0; i < n; ++i) {
    const float x = value(a[i]);
    const float y = value(b[i]);
    sum_ab += x * y;
    sum_aa += x * x;
    sum_bb += y * y;
  }
  *dot = sum_ab;
  *norm_a = sum_aa;
  *norm_b = sum_bb;
}

void half_to_float_scalar(const Half* in, float* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = vec::half_to_float(in[i]);
}

void float_to_half_scalar(const float* in, Half* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = vec::float_to_half(in[i]);
}

constexpr std::size_t kWord = sizeof(std::uint64_t);

inline std::uint64_t load_word(const std::uint8_t* p) {
  std::uint64_t word;
  std::memcpy(&word, p, sizeof word);
  return word;
}

inline std::uint64_t popcount(std::uint64_t word) {
  return static_cast<std::uint64_t>(__builtin_popcountll(word));
}

std::uint64_t bit_hamming_scalar(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes) {
  std::uint64_t count = 0;
  std::size_t i = 0;
  for (; i + kWord <= bytes; i += kWord) count += popcount(load_word(a + i) ^ load_word(b + i));
  for (; i < bytes; ++i) count += popcount(a[i] ^ b[i]);
  return count;
}

void bit_jaccard_counts_scalar(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes,
                               std::uint64_t* both, std::uint64_t* count_a,
                               std::uint64_t* count_b) {
  std::uint64_t ab = 0, aa = 0, bb = 0;
  std::size_t i = 0;
  for (; i + kWord <= bytes; i += kWord) {
    const std::uint64_t x = load_word(a + i), y = load_word(b + i);
    ab += popcount(x & y);
    aa += popcount(x);
    bb += popcount(y);
  }
  for (; i < bytes; ++i) {
    ab += popcount(a[i] & b[i]);
    aa += popcount(a[i]);
    bb += popcount(b[i]);
  }
  *both = ab;
  *count_a = aa;
  *count_b = bb;
}

void nearest_block_scalar(const float* rows, std::size_t n, const float* cols, std::size_t k,
                          std::size_t dims, const float* bias, float scale, float* best,
                          std::uint32_t* best_index, std::uint32_t first_index, float*) {
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < k; ++j) {
      const float score = (bias == nullptr ? 0.0f : bias[j]) +
                          scale * dot_scalar(rows + i * dims, cols + j * dims, dims);
      if (score < best[i]) {
        best[i] = score;
        best_index[i] = first_index + static_cast<std::uint32_t>(j);
      }
    }
}

void gemm_scalar(std::size_t n, std::size_t m, std::size_t k, const float* a, std::size_t lda,
                 const float* b, std::size_t ldb, bool trans_b, float* c, std::size_t ldc,
                 bool accumulate) {
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < m; ++j) {
      float sum = 0.0f;
      for (std::size_t p = 0; p < k; ++p)
        sum += a[i * lda + p] * (trans_b ? b[j * ldb + p] : b[p * ldb + j]);
      c[i * ldc + j] = accumulate ? c[i * ldc + j] + sum : sum;
    }
}

void softmax_rows_scalar(float* x, std::size_t rows, std::size_t cols, std::size_t ld,
                         float scale) {
  for (std::size_t i = 0; i < rows; ++i) {
    float* row = x + i * ld;
    float top = -INFINITY;
    for (std::size_t j = 0; j < cols; ++j) top = std::fmax(top, row[j] *= scale);
    float sum = 0.0f;
    for (std::size_t j = 0; j < cols; ++j) sum += (row[j] = std::exp(row[j] - top));
    for (std::size_t j = 0; j < cols; ++j) row[j] /= sum;
  }
}

void gelu_scalar(float* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.70710678118654752f));
}

// Constant-initialised: no code runs before main or _PG_init.
constexpr KernelTable kScalarTable{"scalar",
                                   l2_squared_scalar<float>,
                                   dot_scalar<float>,
                                   l1_scalar<float>,
                                   dot_norms_scalar<float>,
                                   l2_squared_scalar<Half>,
                                   dot_scalar<Half>,
                                   l1_scalar<Half>,
                                   dot_norms_scalar<Half>,
                                   half_to_float_scalar,
                                   float_to_half_scalar,
                                   bit_hamming_scalar,
                                   bit_jaccard_counts_scalar,
                                   nearest_block_scalar,
                                   gemm_scalar,
                                   softmax_rows_scalar,
                                   gelu_scalar};

}  // namespace

const KernelTable& scalar_table() { return kScalarTable; }

}  // namespace embedding::kernels
