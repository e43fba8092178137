// The AVX2 table's matrix kernels on Eigen's single-threaded GEMM (compiled for AVX2 and FMA):
// gemm, and nearest_block (the scores of a block of rows against a block of columns, then each
// row's argmin eight lanes at a time). Only this file instantiates Eigen's float matrix product in
// the library, so no translation unit built without these flags can share (and replace) its
// template code.
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "core/vector/kernels.h"

#if defined(__AVX2__) && defined(__FMA__)

#define EIGEN_DONT_PARALLELIZE
#define EIGEN_NO_DEBUG
#include <Eigen/Core>

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

}  // namespace embedding::kernels

#endif
