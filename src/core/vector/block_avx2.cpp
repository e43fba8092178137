// The AVX2 table's kernels on Eigen (compiled for AVX2 and FMA): gemm (Eigen's single-threaded
// GEMM), nearest_block (a block of scores, then each row's argmin eight lanes at a time), and
// the transformer's softmax and GELU on Eigen's vectorised exp and erf. Only this file instantiates
// Eigen's float matrix product in the library, so no translation unit built without these flags can
// share (and replace) its template code.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/vector/kernels.h"

#if defined(__AVX2__) && defined(__FMA__)

#define EIGEN_DONT_PARALLELIZE
#define EIGEN_NO_DEBUG
// Always the blocked GEMM kernels, never the coefficient-wise product Eigen picks for tiny sizes,
// whose vectorised loops peel unaligned heads (results would depend on buffer addresses).
#define EIGEN_GEMM_TO_COEFFBASED_THRESHOLD 0
#include <Eigen/Core>
#include <unsupported/Eigen/SpecialFunctions>

namespace embedding::kernels {
namespace {

// Lowers `value` to the smallest of k scores when one is smaller, and sets `index` to its
// position (the lowest among equals); NaN never wins. Each lane keeps its first minimum (strict
// <), then the lanes are merged by value, then index.
void argmin(const float* scores, std::size_t k, float& value, std::uint32_t& index) {
  std::size_t j = 0;
  if (k >= 8) {
    __m256 lane_min = _mm256_set1_ps(value);
    __m256i lane_index = _mm256_set1_epi32(-1);
    __m256i current = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i step = _mm256_set1_epi32(8);
    for (; j + 8 <= k; j += 8) {
      const __m256 s = _mm256_loadu_ps(scores + j);
      const __m256 less = _mm256_cmp_ps(s, lane_min, _CMP_LT_OQ);
      lane_min = _mm256_blendv_ps(lane_min, s, less);
      lane_index = _mm256_blendv_epi8(lane_index, current, _mm256_castps_si256(less));
      current = _mm256_add_epi32(current, step);
    }
    alignas(32) float mins[8];
    alignas(32) std::int32_t indexes[8];
    _mm256_store_ps(mins, lane_min);
    _mm256_store_si256(reinterpret_cast<__m256i*>(indexes), lane_index);
    for (int lane = 0; lane < 8; ++lane) {
      if (indexes[lane] < 0) continue;  // nothing in this lane beat the starting value
      const auto at = static_cast<std::uint32_t>(indexes[lane]);
      if (mins[lane] < value || (mins[lane] == value && at < index)) value = mins[lane], index = at;
    }
  }
  for (; j < k; ++j)
    if (scores[j] < value) value = scores[j], index = static_cast<std::uint32_t>(j);
}

}  // namespace

void detail::nearest_block_avx2(const float* rows, std::size_t n, const float* cols, std::size_t k,
                                std::size_t dims, const float* bias, float scale, float* best,
                                std::uint32_t* best_index, std::uint32_t first_index,
                                float* scratch) {
  using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const auto r = static_cast<Eigen::Index>(n), c = static_cast<Eigen::Index>(k),
             d = static_cast<Eigen::Index>(dims);
  const Eigen::Map<const Matrix> a(rows, r, d), b(cols, c, d);
  Eigen::Map<Matrix> scores(scratch, r, c);
  scores.noalias() = scale * (a * b.transpose());
  if (bias != nullptr) scores.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(bias, c);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t index = UINT32_MAX;
    argmin(scratch + i * k, k, best[i], index);
    if (index != UINT32_MAX) best_index[i] = first_index + index;
  }
}

void detail::gemm_avx2(std::size_t n, std::size_t m, std::size_t k, const float* a, std::size_t lda,
                       const float* b, std::size_t ldb, bool trans_b, float* c, std::size_t ldc,
                       bool accumulate) {
  using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Stride = Eigen::OuterStride<>;
  const auto rows = static_cast<Eigen::Index>(n), cols = static_cast<Eigen::Index>(m),
             depth = static_cast<Eigen::Index>(k);
  const Eigen::Map<const Matrix, 0, Stride> left(a, rows, depth, Stride(lda));
  Eigen::Map<Matrix, 0, Stride> out(c, rows, cols, Stride(ldc));
  if (trans_b) {
    const Eigen::Map<const Matrix, 0, Stride> right(b, cols, depth, Stride(ldb));
    if (accumulate)
      out.noalias() += left * right.transpose();
    else
      out.noalias() = left * right.transpose();
  } else {
    const Eigen::Map<const Matrix, 0, Stride> right(b, depth, cols, Stride(ldb));
    if (accumulate)
      out.noalias() += left * right;
    else
      out.noalias() = left * right;
  }
}

// The element-wise kernels below process 8 floats at a time from index 0 and the tail through
// one zero-padded packet, with sums in a fixed lane order: a result depends on its values and
// position only, never on the buffer's alignment (Eigen's own array loops peel unaligned heads
// with scalar code, which would make embed() vary with where malloc put its buffers).
namespace {

using Packet = Eigen::internal::Packet8f;

template <class Op>
void map_packets(float* x, std::size_t n, Op op) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, op(_mm256_loadu_ps(x + i)));
  if (i < n) {
    alignas(32) float tail[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::memcpy(tail, x + i, (n - i) * sizeof(float));
    _mm256_store_ps(tail, op(_mm256_load_ps(tail)));
    std::memcpy(x + i, tail, (n - i) * sizeof(float));
  }
}

float lane_sum(Packet p) {
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, p);
  return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
         ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}

}  // namespace

void detail::softmax_rows_avx2(float* x, std::size_t rows, std::size_t cols, std::size_t ld,
                               float scale) {
  const Packet factor = _mm256_set1_ps(scale);
  for (std::size_t r = 0; r < rows; ++r) {
    float* row = x + r * ld;
    float top = -__builtin_inff();
    map_packets(row, cols, [&](Packet p) { return _mm256_mul_ps(p, factor); });
    for (std::size_t j = 0; j < cols; ++j) top = row[j] > top ? row[j] : top;
    const Packet shift = _mm256_set1_ps(top);
    map_packets(row, cols,
                [&](Packet p) { return Eigen::internal::pexp<Packet>(_mm256_sub_ps(p, shift)); });
    // The tail's padding became exp(0 - top): sum the real columns only.
    Packet sum = _mm256_setzero_ps();
    std::size_t j = 0;
    for (; j + 8 <= cols; j += 8) sum = _mm256_add_ps(sum, _mm256_loadu_ps(row + j));
    float total = lane_sum(sum);
    for (; j < cols; ++j) total += row[j];
    const Packet inverse = _mm256_set1_ps(1.0f / total);
    map_packets(row, cols, [&](Packet p) { return _mm256_mul_ps(p, inverse); });
  }
}

// Eigen's vectorised erf is a rational approximation within a couple of ulps on [-4, 4] (and
// exactly +-1 in float beyond).
void detail::gelu_avx2(float* x, std::size_t n) {
  const Packet half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f),
               root_half = _mm256_set1_ps(0.70710678118654752f);
  map_packets(x, n, [&](Packet p) {
    const Packet phi = _mm256_add_ps(
        one, Eigen::internal::generic_fast_erf_float<Packet>(_mm256_mul_ps(p, root_half)));
    return _mm256_mul_ps(_mm256_mul_ps(half, p), phi);
  });
}

}  // namespace embedding::kernels

#endif
