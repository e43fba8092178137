// AVX2+FMA float32 distance kernels and the function that hands out their table.
// Built with -mavx2 -mfma: nothing here may run before dispatch.cpp has checked the CPU.
#include <immintrin.h>

#include <cstdint>

#include "core/vector/kernels.h"

#if defined(__AVX2__) && defined(__FMA__)

namespace embedding::kernels {
namespace {

constexpr std::size_t kLanes = 8;
constexpr std::size_t kBlock = 4 * kLanes;

// maskload reads the lanes whose sign bit is set and never faults on the others, so the last
// n % 8 elements need neither a scalar loop nor a read past the end. Lanes it skips read as 0,
// which adds nothing to any of the sums below.
alignas(32) constexpr std::int32_t kTailMask[2 * kLanes] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                            0,  0,  0,  0,  0,  0,  0,  0};

inline __m256i tail_mask(std::size_t remaining) {  // 0 < remaining < 8
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kTailMask + kLanes - remaining));
}

inline float horizontal_sum(__m256 v) {
  __m128 sum = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
  sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
  return _mm_cvtss_f32(sum);
}

// One sum over a and b with four independent accumulators: an FMA has a latency of about four
// cycles and two issue per cycle, so a single chain would use an eighth of the machine. The
// leftover whole vectors go to different accumulators too, and the masked tail to the last.
template <typename Step>
inline float reduce(const float* a, const float* b, std::size_t n, Step step) {
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps();
  __m256 acc3 = _mm256_setzero_ps();
  std::size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    acc0 = step(acc0, _mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    acc1 = step(acc1, _mm256_loadu_ps(a + i + kLanes), _mm256_loadu_ps(b + i + kLanes));
    acc2 = step(acc2, _mm256_loadu_ps(a + i + 2 * kLanes), _mm256_loadu_ps(b + i + 2 * kLanes));
    acc3 = step(acc3, _mm256_loadu_ps(a + i + 3 * kLanes), _mm256_loadu_ps(b + i + 3 * kLanes));
  }
  if (i + kLanes <= n) {
    acc0 = step(acc0, _mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    i += kLanes;
  }
  if (i + kLanes <= n) {
    acc1 = step(acc1, _mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    i += kLanes;
  }
  if (i + kLanes <= n) {
    acc2 = step(acc2, _mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    i += kLanes;
  }
  if (i < n) {
    const __m256i mask = tail_mask(n - i);
    acc3 = step(acc3, _mm256_maskload_ps(a + i, mask), _mm256_maskload_ps(b + i, mask));
  }
  return horizontal_sum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

float l2_squared_avx2(const float* a, const float* b, std::size_t n) {
  return reduce(a, b, n, [](__m256 acc, __m256 x, __m256 y) {
    const __m256 diff = _mm256_sub_ps(x, y);
    return _mm256_fmadd_ps(diff, diff, acc);
  });
}

float dot_avx2(const float* a, const float* b, std::size_t n) {
  return reduce(a, b, n, [](__m256 acc, __m256 x, __m256 y) { return _mm256_fmadd_ps(x, y, acc); });
}

float l1_avx2(const float* a, const float* b, std::size_t n) {
  return reduce(a, b, n, [](__m256 acc, __m256 x, __m256 y) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    return _mm256_add_ps(acc, _mm256_andnot_ps(sign, _mm256_sub_ps(x, y)));
  });
}

// Three sums at once: two loads feed three FMAs, so the loop is bound by FMA throughput.
struct DotNorms {
  __m256 dot = _mm256_setzero_ps();
  __m256 norm_a = _mm256_setzero_ps();
  __m256 norm_b = _mm256_setzero_ps();

  inline void add(__m256 x, __m256 y) {
    dot = _mm256_fmadd_ps(x, y, dot);
    norm_a = _mm256_fmadd_ps(x, x, norm_a);
    norm_b = _mm256_fmadd_ps(y, y, norm_b);
  }
  inline void merge(const DotNorms& other) {
    dot = _mm256_add_ps(dot, other.dot);
    norm_a = _mm256_add_ps(norm_a, other.norm_a);
    norm_b = _mm256_add_ps(norm_b, other.norm_b);
  }
};

void dot_norms_avx2(const float* a, const float* b, std::size_t n, float* dot, float* norm_a,
                    float* norm_b) {
  DotNorms acc0, acc1, acc2, acc3;
  std::size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    acc0.add(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    acc1.add(_mm256_loadu_ps(a + i + kLanes), _mm256_loadu_ps(b + i + kLanes));
    acc2.add(_mm256_loadu_ps(a + i + 2 * kLanes), _mm256_loadu_ps(b + i + 2 * kLanes));
    acc3.add(_mm256_loadu_ps(a + i + 3 * kLanes), _mm256_loadu_ps(b + i + 3 * kLanes));
  }
  if (i + kLanes <= n) {
    acc0.add(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    i += kLanes;
  }
  if (i + kLanes <= n) {
    acc1.add(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    i += kLanes;
  }
  if (i + kLanes <= n) {
    acc2.add(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    i += kLanes;
  }
  if (i < n) {
    const __m256i mask = tail_mask(n - i);
    acc3.add(_mm256_maskload_ps(a + i, mask), _mm256_maskload_ps(b + i, mask));
  }
  acc0.merge(acc1);
  acc2.merge(acc3);
  acc0.merge(acc2);
  *dot = horizontal_sum(acc0.dot);
  *norm_a = horizontal_sum(acc0.norm_a);
  *norm_b = horizontal_sum(acc0.norm_b);
}

// Constant-initialised data: handing out its address runs no AVX2 instruction.
constexpr KernelTable kAvx2Table{"avx2", l2_squared_avx2, dot_avx2, l1_avx2, dot_norms_avx2};

}  // namespace

const KernelTable* detail::avx2_table_unchecked() { return &kAvx2Table; }

}  // namespace embedding::kernels

#else  // built without -mavx2 -mfma (another compiler or build): no AVX2 table

const embedding::kernels::KernelTable* embedding::kernels::detail::avx2_table_unchecked() {
  return nullptr;
}

#endif
