// The AVX2+FMA+POPCNT code kernels (code_kernels.h) and the function that hands out their table.
// Built with -mavx2 -mfma -mf16c -mpopcnt: nothing here may run before the CPU check.
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/quant/code_kernels.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__POPCNT__)

namespace embedding::quant {
namespace {

inline float horizontal_sum(__m256 v) {
  __m128 sum = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
  sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
  return _mm_cvtss_f32(sum);
}

// Eight levels (bytes 0-7 of `levels`) as floats.
inline __m256 low8(__m128i levels) { return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(levels)); }
inline __m256 high8(__m128i levels) { return low8(_mm_srli_si128(levels, 8)); }

// Adds the products of 32 levels, as 32 bytes in two registers, with y[0, 32).
inline void add32(__m128i first, __m128i second, const float* y, __m256 acc[4]) {
  acc[0] = _mm256_fmadd_ps(low8(first), _mm256_loadu_ps(y), acc[0]);
  acc[1] = _mm256_fmadd_ps(high8(first), _mm256_loadu_ps(y + 8), acc[1]);
  acc[2] = _mm256_fmadd_ps(low8(second), _mm256_loadu_ps(y + 16), acc[2]);
  acc[3] = _mm256_fmadd_ps(high8(second), _mm256_loadu_ps(y + 24), acc[3]);
}

inline float finish(const __m256 acc[4]) {
  return horizontal_sum(
      _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
}

// The coordinates past the last whole block of 32, one at a time.
template <int kBits>
float tail(const std::uint8_t* code, const float* y, std::size_t from, std::size_t n) {
  constexpr unsigned kMask = (1u << kBits) - 1;
  constexpr std::size_t kPerByte = 8 / kBits;
  float sum = 0.0f;
  for (std::size_t i = from; i < n; ++i)
    sum += static_cast<float>((code[i / kPerByte] >> ((i % kPerByte) * kBits)) & kMask) * y[i];
  return sum;
}

// 1 bit: y_i where the bit is set, with lane masks (the bit of each lane compared to its mask).
float level_dot1(const std::uint8_t* code, const float* y, std::size_t n) {
  // Lane l of part p tests bit 8p + l of the 32-bit word, broadcast once.
  __m256i bit[4];
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (int part = 0; part < 4; ++part)
    bit[part] = _mm256_sllv_epi32(_mm256_set1_epi32(1),
                                  _mm256_add_epi32(lanes, _mm256_set1_epi32(8 * part)));
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    std::uint32_t word;
    std::memcpy(&word, code + i / 8, sizeof word);
    const __m256i bits = _mm256_set1_epi32(static_cast<int>(word));
    for (int part = 0; part < 4; ++part) {
      const __m256i mask = bit[part];
      const __m256 set =
          _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(bits, mask), mask));
      acc[part] = _mm256_add_ps(acc[part], _mm256_and_ps(set, _mm256_loadu_ps(y + i + 8 * part)));
    }
  }
  return finish(acc) + tail<1>(code, y, i, n);
}

// 2 bits: 8 bytes hold 32 levels, four a byte from the low bits up.
float level_dot2(const std::uint8_t* code, const float* y, std::size_t n) {
  const __m128i mask = _mm_set1_epi8(3);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(code + i / 4));
    const __m128i l0 = _mm_and_si128(v, mask), l1 = _mm_and_si128(_mm_srli_epi16(v, 2), mask);
    const __m128i l2 = _mm_and_si128(_mm_srli_epi16(v, 4), mask);
    const __m128i l3 = _mm_and_si128(_mm_srli_epi16(v, 6), mask);
    const __m128i pairs01 = _mm_unpacklo_epi8(l0, l1), pairs23 = _mm_unpacklo_epi8(l2, l3);
    add32(_mm_unpacklo_epi16(pairs01, pairs23), _mm_unpackhi_epi16(pairs01, pairs23), y + i, acc);
  }
  return finish(acc) + tail<2>(code, y, i, n);
}

// 4 bits: 16 bytes hold 32 levels, the low nibble first.
float level_dot4(const std::uint8_t* code, const float* y, std::size_t n) {
  const __m128i mask = _mm_set1_epi8(0x0f);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(code + i / 2));
    const __m128i low = _mm_and_si128(v, mask), high = _mm_and_si128(_mm_srli_epi16(v, 4), mask);
    add32(_mm_unpacklo_epi8(low, high), _mm_unpackhi_epi8(low, high), y + i, acc);
  }
  return finish(acc) + tail<4>(code, y, i, n);
}

// 8 bits: a byte a level.
float level_dot8(const std::uint8_t* code, const float* y, std::size_t n) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32)
    add32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(code + i)),
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(code + i + 16)), y + i, acc);
  return finish(acc) + tail<8>(code, y, i, n);
}

void plane_dot_popcnt(const std::uint8_t* code, const std::uint64_t* planes, std::size_t words,
                      std::uint32_t* weighted, std::uint32_t* ones) {
  static_assert(kQueryPlanes == 6, "one sum a plane below");
  const std::uint64_t *p0 = planes, *p1 = p0 + words, *p2 = p1 + words, *p3 = p2 + words,
                      *p4 = p3 + words, *p5 = p4 + words;
  std::uint64_t count = 0, s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0;
  for (std::size_t w = 0; w < words; ++w) {
    std::uint64_t b;
    std::memcpy(&b, code + 8 * w, sizeof b);
    count += _mm_popcnt_u64(b);
    s0 += _mm_popcnt_u64(b & p0[w]);
    s1 += _mm_popcnt_u64(b & p1[w]);
    s2 += _mm_popcnt_u64(b & p2[w]);
    s3 += _mm_popcnt_u64(b & p3[w]);
    s4 += _mm_popcnt_u64(b & p4[w]);
    s5 += _mm_popcnt_u64(b & p5[w]);
  }
  *weighted = static_cast<std::uint32_t>(s0 + 2 * s1 + 4 * s2 + 8 * s3 + 16 * s4 + 32 * s5);
  *ones = static_cast<std::uint32_t>(count);
}

// Truncation is floor here: |u_i| * scaled >= 0. Products up to 1e9 convert to INT_MIN and the
// minimum then takes INT_MIN: clamp in float first so that huge scales give the top level. kCount
// scales share each load, with a chain of sums each.
template <int kCount>
void scale_sums_of(const float* u, std::size_t n, const float* scaled, int half, float* dot,
                   std::int64_t* norm2) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256 top = _mm256_set1_ps(static_cast<float>(half - 1));
  const __m256i one = _mm256_set1_epi32(1);
  __m256 s[kCount], d[kCount];
  __m256i squares[kCount];
  for (int k = 0; k < kCount; ++k) {
    s[k] = _mm256_set1_ps(scaled[k]);
    d[k] = _mm256_setzero_ps();
    squares[k] = _mm256_setzero_si256();
  }
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 a = _mm256_and_ps(_mm256_loadu_ps(u + i), abs_mask);
    for (int k = 0; k < kCount; ++k) {
      const __m256i j = _mm256_cvttps_epi32(_mm256_min_ps(_mm256_mul_ps(a, s[k]), top));
      const __m256i g = _mm256_add_epi32(_mm256_add_epi32(j, j), one);
      d[k] = _mm256_fmadd_ps(a, _mm256_cvtepi32_ps(g), d[k]);
      squares[k] = _mm256_add_epi32(squares[k], _mm256_mullo_epi32(g, g));
    }
  }
  // Each int32 lane holds at most n / 8 squares below 2^16 (n <= 2^15 stays exact).
  for (int k = 0; k < kCount; ++k) {
    alignas(32) std::int32_t lanes[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), squares[k]);
    std::int64_t sum = 0;
    for (std::int32_t v : lanes) sum += v;
    float dots = horizontal_sum(d[k]);
    for (std::size_t t = i; t < n; ++t) {
      const float a = std::fabs(u[t]);
      const int g = 2 * static_cast<int>(std::min(a * scaled[k], static_cast<float>(half - 1))) + 1;
      dots += a * static_cast<float>(g);
      sum += g * g;
    }
    dot[k] = dots;
    norm2[k] = sum;
  }
}

void scale_sums_avx2(const float* u, std::size_t n, const float* scaled, int count, int half,
                     float* dot, std::int64_t* norm2) {
  switch (count) {
    case 1:
      return scale_sums_of<1>(u, n, scaled, half, dot, norm2);
    case 2:
      return scale_sums_of<2>(u, n, scaled, half, dot, norm2);
    case 3:
      return scale_sums_of<3>(u, n, scaled, half, dot, norm2);
    default:
      return scale_sums_of<4>(u, n, scaled, half, dot, norm2);
  }
}

// Eight levels at a time; 1, 2 and 4 bits are shifted into place and OR-ed across lanes, 8 bits
// stored a byte each.
void encode_levels_avx2(const float* u, std::size_t n, float t, int bits, std::uint8_t* code,
                        float* dot, std::int64_t* squares) {
  const int levels = 1 << bits;
  const __m256 tv = _mm256_set1_ps(t), one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
  const __m256 half = _mm256_set1_ps(static_cast<float>(levels / 2));
  const __m256 top = _mm256_set1_ps(static_cast<float>(levels) - 0.5f);
  const __m256i offset = _mm256_set1_epi32(1 - levels);
  const __m256i shifts =
      _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(bits));
  __m256 d = _mm256_setzero_ps();
  __m256i sq = _mm256_setzero_si256();
  for (std::size_t i = 0; i < n; i += 8) {
    const __m256 x = _mm256_loadu_ps(u + i);
    const __m256 v = _mm256_mul_ps(_mm256_fmadd_ps(x, tv, one), half);
    const __m256i level = _mm256_cvttps_epi32(_mm256_min_ps(_mm256_max_ps(v, zero), top));
    const __m256i g = _mm256_add_epi32(_mm256_add_epi32(level, level), offset);
    d = _mm256_fmadd_ps(_mm256_cvtepi32_ps(g), x, d);
    sq = _mm256_add_epi32(sq, _mm256_mullo_epi32(g, g));
    if (bits == 8) {
      const __m128i words =
          _mm_packus_epi32(_mm256_castsi256_si128(level), _mm256_extracti128_si256(level, 1));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(code + i), _mm_packus_epi16(words, words));
    } else {
      __m256i placed = _mm256_sllv_epi32(level, shifts);
      __m128i folded =
          _mm_or_si128(_mm256_castsi256_si128(placed), _mm256_extracti128_si256(placed, 1));
      folded = _mm_or_si128(folded, _mm_shuffle_epi32(folded, 0x4e));
      folded = _mm_or_si128(folded, _mm_shuffle_epi32(folded, 0xb1));
      const auto packed = static_cast<std::uint32_t>(_mm_cvtsi128_si32(folded));
      std::memcpy(code + i * bits / 8, &packed, static_cast<std::size_t>(bits));  // 8 x bits bits
    }
  }
  // Each int32 lane holds n / 8 squares below 2^16 (n <= 2^18 stays exact).
  alignas(32) std::int32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), sq);
  std::int64_t sum = 0;
  for (std::int32_t v : lanes) sum += v;
  *dot = horizontal_sum(d);
  *squares = sum;
}

void flip_signs_avx2(float* x, const float* signs, std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(signs + i)));
  for (; i < n; ++i) x[i] *= signs[i];
}

// One butterfly stage inside each 8-lane register: partner = the lanes `swapped`, lanes in `high`
// (a blend mask) take partner - x, the others x + partner.
template <int kHigh>
inline __m256 stage(__m256 x, __m256 partner) {
  return _mm256_blend_ps(_mm256_add_ps(x, partner), _mm256_sub_ps(partner, x), kHigh);
}

// The first three stages (distance 1, 2, 4) in registers, then distance 8 and up across registers,
// then the scale 1 / sqrt(n).
void walsh_hadamard_avx2(float* x, std::size_t n) {
  if (n < 8) return detail::walsh_hadamard_scalar(x, n);
  for (std::size_t i = 0; i < n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    v = stage<0xaa>(v, _mm256_permute_ps(v, 0xb1));
    v = stage<0xcc>(v, _mm256_permute_ps(v, 0x4e));
    v = stage<0xf0>(v, _mm256_permute2f128_ps(v, v, 1));
    _mm256_storeu_ps(x + i, v);
  }
  for (std::size_t half = 8; half < n; half *= 2) {
    for (std::size_t start = 0; start < n; start += 2 * half) {
      float* a = x + start;
      float* b = a + half;
      for (std::size_t i = 0; i < half; i += 8) {
        const __m256 va = _mm256_loadu_ps(a + i), vb = _mm256_loadu_ps(b + i);
        _mm256_storeu_ps(a + i, _mm256_add_ps(va, vb));
        _mm256_storeu_ps(b + i, _mm256_sub_ps(va, vb));
      }
    }
  }
  const __m256 scale = _mm256_set1_ps(1.0f / std::sqrt(static_cast<float>(n)));
  for (std::size_t i = 0; i < n; i += 8)
    _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), scale));
}

// Two groups an iteration: lane 0 of every register serves group g, lane 1 group g + 1. Lanes
// widen to 16 bits and add up to 256 iterations (256 * 255 fits), then flush into 32 bits.
void block_sums_avx2(const std::uint8_t* block, const std::uint8_t* luts, std::size_t groups,
                     std::uint32_t* sums) {
  const __m256i low_nibbles = _mm256_set1_epi8(0x0F);
  const __m256i zero = _mm256_setzero_si256();
  __m256i total[4] = {zero, zero, zero, zero};  // neighbours 0-7, 8-15, 16-23, 24-31 (32-bit)
  for (std::size_t start = 0; start < groups; start += 512) {
    const std::size_t end = std::min(groups, start + 512);
    __m256i acc[4] = {zero, zero, zero, zero};  // 16-bit: lane 0 even groups, lane 1 odd ones
    for (std::size_t g = start; g < end; g += 2) {
      const __m256i cells = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 16 * g));
      const __m256i table = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(luts + 16 * g));
      const __m256i low = _mm256_shuffle_epi8(table, _mm256_and_si256(cells, low_nibbles));
      const __m256i high =
          _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(cells, 4), low_nibbles));
      acc[0] = _mm256_add_epi16(acc[0], _mm256_unpacklo_epi8(low, zero));
      acc[1] = _mm256_add_epi16(acc[1], _mm256_unpackhi_epi8(low, zero));
      acc[2] = _mm256_add_epi16(acc[2], _mm256_unpacklo_epi8(high, zero));
      acc[3] = _mm256_add_epi16(acc[3], _mm256_unpackhi_epi8(high, zero));
    }
    for (int k = 0; k < 4; ++k) {
      const __m256i even = _mm256_cvtepu16_epi32(_mm256_castsi256_si128(acc[k]));
      const __m256i odd = _mm256_cvtepu16_epi32(_mm256_extracti128_si256(acc[k], 1));
      total[k] = _mm256_add_epi32(total[k], _mm256_add_epi32(even, odd));
    }
  }
  for (int k = 0; k < 4; ++k)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(sums + 8 * k), total[k]);
}

constexpr CodeKernels kAvx2{"avx2",
                            {level_dot1, level_dot2, level_dot4, level_dot8},
                            plane_dot_popcnt,
                            scale_sums_avx2,
                            encode_levels_avx2,
                            flip_signs_avx2,
                            walsh_hadamard_avx2,
                            block_sums_avx2};

}  // namespace

const CodeKernels* detail::avx2_code_kernels_unchecked() { return &kAvx2; }

}  // namespace embedding::quant

#else  // built without the instruction-set flags: no AVX2 table

const embedding::quant::CodeKernels* embedding::quant::detail::avx2_code_kernels_unchecked() {
  return nullptr;
}

#endif
