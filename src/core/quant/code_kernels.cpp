// The scalar code kernels (the reference the AVX2 ones are tested against) and the choice of table.
#include "core/quant/code_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/vector/kernels.h"

namespace embedding::quant {
namespace {

template <int kBits>
float level_dot_scalar(const std::uint8_t* code, const float* y, std::size_t n) {
  constexpr unsigned kMask = (1u << kBits) - 1;
  constexpr std::size_t kPerByte = 8 / kBits;
  float sum = 0.0f;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned level = (code[i / kPerByte] >> ((i % kPerByte) * kBits)) & kMask;
    sum += static_cast<float>(level) * y[i];
  }
  return sum;
}

void plane_dot_scalar(const std::uint8_t* code, const std::uint64_t* planes, std::size_t words,
                      std::uint32_t* weighted, std::uint32_t* ones) {
  std::uint32_t sum = 0, count = 0;
  for (std::size_t w = 0; w < words; ++w) {
    std::uint64_t b;
    std::memcpy(&b, code + 8 * w, sizeof b);
    count += static_cast<std::uint32_t>(__builtin_popcountll(b));
    for (int j = 0; j < kQueryPlanes; ++j)
      sum += static_cast<std::uint32_t>(__builtin_popcountll(b & planes[j * words + w])) << j;
  }
  *weighted = sum;
  *ones = count;
}

void scale_sums_scalar(const float* u, std::size_t n, const float* scaled, int count, int half,
                       float* dot, std::int64_t* norm2) {
  const auto top = static_cast<float>(half - 1);
  for (int k = 0; k < count; ++k) {
    double d = 0.0;  // a float sum of 1,536 terms would lose the 1e-7 that tells 8-bit scales apart
    std::int64_t sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const float a = std::fabs(u[i]);
      const int g = 2 * static_cast<int>(std::min(a * scaled[k], top)) + 1;
      d += static_cast<double>(a) * g;
      sum += g * g;
    }
    dot[k] = static_cast<float>(d);
    norm2[k] = sum;
  }
}

// Levels as level_of gives them (truncation is floor on the clamped, non-negative value), a 64-bit
// word of code at a time (no read-modify-write of code bytes).
void encode_levels_scalar(const float* u, std::size_t n, float t, int bits, std::uint8_t* code,
                          float* dot, std::int64_t* squares) {
  const int levels = 1 << bits;
  const float half = static_cast<float>(levels / 2), top = static_cast<float>(levels) - 0.5f;
  float dots[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  std::int64_t sum = 0;
  const std::size_t per_word = 64 / static_cast<std::size_t>(bits);
  for (std::size_t w = 0; w < n / per_word; ++w) {
    std::uint64_t word = 0;
    for (std::size_t i = w * per_word, shift = 0; shift < 64; i += 4) {
      for (int k = 0; k < 4; ++k, shift += static_cast<std::size_t>(bits)) {
        const int level = static_cast<int>(std::clamp((u[i + k] * t + 1.0f) * half, 0.0f, top));
        word |= static_cast<std::uint64_t>(level) << shift;
        const int g = 2 * level + 1 - levels;
        dots[k] += static_cast<float>(g) * u[i + k];
        sum += g * g;
      }
    }
    std::memcpy(code + 8 * w, &word, sizeof word);  // little-endian: level i at bit i * bits
  }
  *dot = (dots[0] + dots[1]) + (dots[2] + dots[3]);
  *squares = sum;
}

void flip_signs_scalar(float* x, const float* signs, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) x[i] *= signs[i];
}

void block_sums_scalar(const std::uint8_t* block, const std::uint8_t* luts, std::size_t groups,
                       std::uint32_t* sums) {
  for (std::size_t j = 0; j < 16; ++j) {
    std::uint32_t low = 0, high = 0;
    for (std::size_t g = 0; g < groups; ++g) {
      const unsigned cell = block[16 * g + j];
      low += luts[16 * g + (cell & 0xFu)];
      high += luts[16 * g + (cell >> 4)];
    }
    sums[j] = low;
    sums[j + 16] = high;
  }
}

constexpr CodeKernels kScalar{
    "scalar",
    {level_dot_scalar<1>, level_dot_scalar<2>, level_dot_scalar<4>, level_dot_scalar<8>},
    plane_dot_scalar,
    scale_sums_scalar,
    encode_levels_scalar,
    flip_signs_scalar,
    detail::walsh_hadamard_scalar,
    block_sums_scalar};

const CodeKernels* choose() {
  const kernels::KernelTable* avx2 = kernels::avx2_table();
  if (avx2 != nullptr && &kernels::active() == avx2) return detail::avx2_code_kernels_unchecked();
  return &kScalar;
}

}  // namespace

const CodeKernels& scalar_code_kernels() { return kScalar; }

const CodeKernels* avx2_code_kernels() {
  return kernels::avx2_table() != nullptr ? detail::avx2_code_kernels_unchecked() : nullptr;
}

const CodeKernels& code_kernels() {
  static const CodeKernels* const table = choose();
  return table != nullptr ? *table : kScalar;
}

}  // namespace embedding::quant
