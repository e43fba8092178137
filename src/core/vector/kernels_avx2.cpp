// AVX2+FMA+F16C+POPCNT distance kernels (float32, half-precision and bit strings) and the
// function that hands out their table. Built with -mavx2 -mfma -mf16c -mpopcnt: nothing here
// may run before dispatch.cpp has checked the CPU.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "core/vector/kernels.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__) && defined(__POPCNT__)

namespace embedding::kernels {
namespace {

constexpr std::size_t kLanes = 8;
constexpr std::size_t kBlock = 4 * kLanes;

// Lane masks, read at an offset: kMasks + 2 * kLanes - k sets lanes [0, k) (the first k
// elements), kMasks + k sets lanes [8 - k, 8) (the last k).
alignas(32) constexpr std::int32_t kMasks[3 * kLanes] = {
    0,  0,  0,  0,  0,  0,  0,  0,   // last_lanes(k) starts k into this row
    -1, -1, -1, -1, -1, -1, -1, -1,  //
    0,  0,  0,  0,  0,  0,  0,  0,   // first_lanes(k) ends k into this row
};

inline __m256i first_lanes(std::size_t k) {  // 0 <= k <= 8
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMasks + 2 * kLanes - k));
}
inline __m256i last_lanes(std::size_t k) {  // 0 <= k <= 8
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMasks + k));
}

inline float horizontal_sum(__m256 v) {
  __m128 sum = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
  sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
  return _mm_cvtss_f32(sum);
}

// ---- Loading 8 elements as float32 ------------------------------------------------------

inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }

inline __m128i load8_raw(const Half* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}
inline __m256 load8(const Half* p) { return _mm256_cvtph_ps(load8_raw(p)); }

// The elements [i, n) with 0 < n - i < 8, in some lanes of one vector; the other lanes read as
// 0, which adds nothing to any of the sums below. Nothing past p[n - 1] is read.
//
// maskload reads the lanes whose sign bit is set and never faults on the others.
inline __m256 load_tail(const float* p, std::size_t i, std::size_t n) {
  return _mm256_maskload_ps(p + i, first_lanes(n - i));
}

// F16C has no masked load. With at least 8 elements, the last 8 are loaded again and the lanes
// summed already are cleared; shorter vectors go through a zeroed buffer. (The position of the
// elements in the vector does not matter: a and b use the same one.)
inline __m256 load_tail(const Half* p, std::size_t i, std::size_t n) {
  const std::size_t remaining = n - i;
  if (n >= kLanes)
    return _mm256_and_ps(load8(p + n - kLanes), _mm256_castsi256_ps(last_lanes(remaining)));
  alignas(16) Half buffer[kLanes] = {};
  std::memcpy(buffer, p + i, remaining * sizeof(Half));
  return load8(buffer);
}

// ---- Sums over two vectors --------------------------------------------------------------

// One sum over a and b with four independent accumulators: an FMA has a latency of about four
// cycles and two issue per cycle, so a single chain would use an eighth of the machine. The
// leftover whole vectors go to different accumulators too, and the tail to the last.
template <typename T, typename Step>
inline float reduce(const T* a, const T* b, std::size_t n, Step step) {
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps();
  __m256 acc3 = _mm256_setzero_ps();
  std::size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    acc0 = step(acc0, load8(a + i), load8(b + i));
    acc1 = step(acc1, load8(a + i + kLanes), load8(b + i + kLanes));
    acc2 = step(acc2, load8(a + i + 2 * kLanes), load8(b + i + 2 * kLanes));
    acc3 = step(acc3, load8(a + i + 3 * kLanes), load8(b + i + 3 * kLanes));
  }
  if (i + kLanes <= n) {
    acc0 = step(acc0, load8(a + i), load8(b + i));
    i += kLanes;
  }
  if (i + kLanes <= n) {
    acc1 = step(acc1, load8(a + i), load8(b + i));
    i += kLanes;
  }
  if (i + kLanes <= n) {
    acc2 = step(acc2, load8(a + i), load8(b + i));
    i += kLanes;
  }
  if (i < n) acc3 = step(acc3, load_tail(a, i, n), load_tail(b, i, n));
  return horizontal_sum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

template <typename T>
float l2_squared_avx2(const T* a, const T* b, std::size_t n) {
  return reduce(a, b, n, [](__m256 acc, __m256 x, __m256 y) {
    const __m256 diff = _mm256_sub_ps(x, y);
    return _mm256_fmadd_ps(diff, diff, acc);
  });
}

template <typename T>
float dot_avx2(const T* a, const T* b, std::size_t n) {
  return reduce(a, b, n, [](__m256 acc, __m256 x, __m256 y) { return _mm256_fmadd_ps(x, y, acc); });
}

template <typename T>
float l1_avx2(const T* a, const T* b, std::size_t n) {
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

template <typename T>
void dot_norms_avx2(const T* a, const T* b, std::size_t n, float* dot, float* norm_a,
                    float* norm_b) {
  DotNorms acc0, acc1, acc2, acc3;
  std::size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    acc0.add(load8(a + i), load8(b + i));
    acc1.add(load8(a + i + kLanes), load8(b + i + kLanes));
    acc2.add(load8(a + i + 2 * kLanes), load8(b + i + 2 * kLanes));
    acc3.add(load8(a + i + 3 * kLanes), load8(b + i + 3 * kLanes));
  }
  if (i + kLanes <= n) {
    acc0.add(load8(a + i), load8(b + i));
    i += kLanes;
  }
  if (i + kLanes <= n) {
    acc1.add(load8(a + i), load8(b + i));
    i += kLanes;
  }
  if (i + kLanes <= n) {
    acc2.add(load8(a + i), load8(b + i));
    i += kLanes;
  }
  if (i < n) acc3.add(load_tail(a, i, n), load_tail(b, i, n));
  acc0.merge(acc1);
  acc2.merge(acc3);
  acc0.merge(acc2);
  *dot = horizontal_sum(acc0.dot);
  *norm_a = horizontal_sum(acc0.norm_a);
  *norm_b = horizontal_sum(acc0.norm_b);
}

// ---- Bulk half <-> float conversions ----------------------------------------------------

// F16C agrees with vec::half_to_float and vec::float_to_half on every value but NaN payloads:
// it sets the quiet bit of a NaN and keeps its upper payload bits, where the scalar functions
// keep a half NaN's quiet bit as it is and turn every float NaN into the quiet NaN 0x7e00 (with
// its sign). NaNs are rare (halfvec rejects them), so blocks without one take a single test.
inline __m256 half_block_to_float(__m128i h) {
  const __m256 f = _mm256_cvtph_ps(h);
  const __m256 nan = _mm256_cmp_ps(f, f, _CMP_UNORD_Q);
  if (_mm256_movemask_ps(nan) == 0) return f;
  // A half NaN's quiet bit (bit 9) lands on the float's bit 22, as in the scalar conversion.
  const __m256i quiet_bit = _mm256_set1_epi32(0x00400000);
  const __m256i half_quiet =
      _mm256_and_si256(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 13), quiet_bit);
  const __m256i clear =
      _mm256_andnot_si256(half_quiet, _mm256_and_si256(_mm256_castps_si256(nan), quiet_bit));
  return _mm256_castsi256_ps(_mm256_andnot_si256(clear, _mm256_castps_si256(f)));
}

inline __m128i float_block_to_half(__m256 f) {
  const __m256 nan = _mm256_cmp_ps(f, f, _CMP_UNORD_Q);
  if (_mm256_movemask_ps(nan) != 0) {
    // Every NaN becomes the float quiet NaN with its sign, which F16C turns into 0x7e00.
    const __m256 quiet = _mm256_or_ps(_mm256_and_ps(f, _mm256_set1_ps(-0.0f)),
                                      _mm256_castsi256_ps(_mm256_set1_epi32(0x7fc00000)));
    f = _mm256_blendv_ps(f, quiet, nan);
  }
  // Round to nearest-even whatever MXCSR says.
  return _mm256_cvtps_ph(f, _MM_FROUND_TO_NEAREST_INT);
}

// The last n % 8 elements go through a buffer on the half side and a masked load or store on
// the float side: nothing outside [0, n) is read or written.
void half_to_float_avx2(const Half* in, float* out, std::size_t n) {
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    _mm256_storeu_ps(out + i, half_block_to_float(load8_raw(in + i)));
  if (i == n) return;
  alignas(16) Half buffer[kLanes] = {};
  std::memcpy(buffer, in + i, (n - i) * sizeof(Half));
  _mm256_maskstore_ps(out + i, first_lanes(n - i), half_block_to_float(load8_raw(buffer)));
}

void float_to_half_avx2(const float* in, Half* out, std::size_t n) {
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), float_block_to_half(load8(in + i)));
  if (i == n) return;
  alignas(16) Half buffer[kLanes];
  _mm_store_si128(reinterpret_cast<__m128i*>(buffer), float_block_to_half(load_tail(in, i, n)));
  std::memcpy(out + i, buffer, (n - i) * sizeof(Half));
}

// ---- Bit strings ----------------------------------------------------------------------

constexpr std::size_t kWord = sizeof(std::uint64_t);

inline std::uint64_t load_word(const std::uint8_t* p) {
  std::uint64_t word;
  std::memcpy(&word, p, sizeof word);
  return word;
}

// The last 1 to 7 bytes, zero-padded to a word: one popcount instead of a loop over bytes.
inline std::uint64_t load_partial_word(const std::uint8_t* p, std::size_t bytes) {
  std::uint64_t word = 0;
  std::memcpy(&word, p, bytes);
  return word;
}

inline std::uint64_t popcount(std::uint64_t word) {
  return static_cast<std::uint64_t>(_mm_popcnt_u64(word));
}

// popcount(a ^ b) with four accumulators (POPCNT has a latency of up to three cycles and
// issues at least once a cycle): four words per iteration, then single words, then the tail.
std::uint64_t bit_hamming_avx2(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes) {
  std::uint64_t sum0 = 0, sum1 = 0, sum2 = 0, sum3 = 0;
  std::size_t i = 0;
  for (; i + 4 * kWord <= bytes; i += 4 * kWord) {
    sum0 += popcount(load_word(a + i) ^ load_word(b + i));
    sum1 += popcount(load_word(a + i + kWord) ^ load_word(b + i + kWord));
    sum2 += popcount(load_word(a + i + 2 * kWord) ^ load_word(b + i + 2 * kWord));
    sum3 += popcount(load_word(a + i + 3 * kWord) ^ load_word(b + i + 3 * kWord));
  }
  for (; i + kWord <= bytes; i += kWord) sum0 += popcount(load_word(a + i) ^ load_word(b + i));
  if (i < bytes)
    sum1 += popcount(load_partial_word(a + i, bytes - i) ^ load_partial_word(b + i, bytes - i));
  return (sum0 + sum1) + (sum2 + sum3);
}

// Three popcounts per word are three independent chains already; two words per iteration
// give six, enough to keep the POPCNT unit busy.
struct JaccardCounts {
  std::uint64_t both = 0, a = 0, b = 0;

  inline void add(std::uint64_t x, std::uint64_t y) {
    both += popcount(x & y);
    a += popcount(x);
    b += popcount(y);
  }
};

void bit_jaccard_counts_avx2(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes,
                             std::uint64_t* both, std::uint64_t* count_a, std::uint64_t* count_b) {
  JaccardCounts even, odd;
  std::size_t i = 0;
  for (; i + 2 * kWord <= bytes; i += 2 * kWord) {
    even.add(load_word(a + i), load_word(b + i));
    odd.add(load_word(a + i + kWord), load_word(b + i + kWord));
  }
  if (i + kWord <= bytes) {
    even.add(load_word(a + i), load_word(b + i));
    i += kWord;
  }
  if (i < bytes) odd.add(load_partial_word(a + i, bytes - i), load_partial_word(b + i, bytes - i));
  *both = even.both + odd.both;
  *count_a = even.a + odd.a;
  *count_b = even.b + odd.b;
}

// Constant-initialised data: handing out its address runs no AVX2 instruction.
constexpr KernelTable kAvx2Table{"avx2",
                                 l2_squared_avx2<float>,
                                 dot_avx2<float>,
                                 l1_avx2<float>,
                                 dot_norms_avx2<float>,
                                 l2_squared_avx2<Half>,
                                 dot_avx2<Half>,
                                 l1_avx2<Half>,
                                 dot_norms_avx2<Half>,
                                 half_to_float_avx2,
                                 float_to_half_avx2,
                                 bit_hamming_avx2,
                                 bit_jaccard_counts_avx2,
                                 detail::nearest_block_avx2,
                                 detail::gemm_avx2,
                                 detail::softmax_rows_avx2,
                                 detail::gelu_avx2};

}  // namespace

const KernelTable* detail::avx2_table_unchecked() { return &kAvx2Table; }

}  // namespace embedding::kernels

#else  // built without -mavx2 -mfma -mf16c -mpopcnt (another compiler or build): no AVX2 table

const embedding::kernels::KernelTable* embedding::kernels::detail::avx2_table_unchecked() {
  return nullptr;
}

#endif
