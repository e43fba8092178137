// Kernel dispatch (one table per process, chosen from what the CPU supports) and the SQL-level
// distances, which fall back to a double-precision pass when float32 overflows or underflows.
#include <cmath>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "core/vector/kernels.h"

namespace embedding::kernels {
namespace {

// Below this a float32 sum of squares or products may have lost accuracy to underflow: every
// product that rounds into the subnormal range (|p| < 2^-126) is off by at most 2^-150 absolute,
// so n <= 16000 terms (pgvector's limit) lose at most ~1.1e-41 in total, 1e-11 relative to
// 1e-30. Results at or above it are as accurate as float32 allows; results below it (tiny
// inputs such as 1e-20, denormals, or exactly 0 for identical vectors) are recomputed in
// double, which is exact for every float32 product and never under- or overflows. The price
// is one extra pass in those rare cases only.
constexpr float kUnderflowThreshold = 1e-30f;

bool accurate(float sum) { return std::isfinite(sum) && std::fabs(sum) >= kUnderflowThreshold; }

// The double-precision passes. A float32 product is exact in double (24 + 24 bits < 53), and
// float32 magnitudes (1.4e-45 .. 3.4e38) squared stay well inside double's range.
double l2_squared_double(const float* a, const float* b, std::size_t n) {
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double diff = static_cast<double>(a[i]) - static_cast<double>(b[i]);
    sum += diff * diff;
  }
  return sum;
}

double dot_double(const float* a, const float* b, std::size_t n) {
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) sum += static_cast<double>(a[i]) * static_cast<double>(b[i]);
  return sum;
}

double l1_double(const float* a, const float* b, std::size_t n) {
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i)
    sum += std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i]));
  return sum;
}

double squared_norm_double(const float* a, std::size_t n) {
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) sum += static_cast<double>(a[i]) * static_cast<double>(a[i]);
  return sum;
}

// Everything kernels_avx2.cpp is compiled for. (Every CPU with AVX2 so far also has the other
// three, but a hypervisor may hide some CPUID bits.)
bool cpu_has_avx2_fma_f16c_popcnt() {
#if defined(__x86_64__) || defined(__i386__)
  // Also checks that the OS saves the YMM registers (XCR0), not only the CPUID bits.
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma") ||
      !__builtin_cpu_supports("popcnt"))
    return false;
  // clang before 16 has no "f16c" for __builtin_cpu_supports: ask CPUID leaf 1 (ECX) directly.
  // The YMM state F16C needs was checked with AVX2 above.
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_F16C) != 0;
#else
  return false;
#endif
}

const KernelTable* choose_active() { return &select_table(std::getenv("EMBEDDING_KERNELS")); }

// 1 - similarity, with the similarity clamped to [-1, 1]: rounding can push it a little past 1
// and the distance must stay inside [0, 2]. NaN (a zero vector) stays NaN, as in pgvector.
double distance_of_similarity(double similarity) {
  if (std::isnan(similarity)) return similarity;
  if (similarity > 1.0) similarity = 1.0;
  if (similarity < -1.0) similarity = -1.0;
  return 1.0 - similarity;
}

}  // namespace

const KernelTable* avx2_table() {
  // The CPU check comes first: the AVX2 translation unit is only entered when it passed.
  return cpu_has_avx2_fma_f16c_popcnt() ? detail::avx2_table_unchecked() : nullptr;
}

const KernelTable& select_table(const char* requested) {
  if (requested != nullptr && std::strcmp(requested, "scalar") == 0) return scalar_table();
  if (const KernelTable* avx2 = avx2_table()) return *avx2;
  return scalar_table();
}

const KernelTable& active() {
  // A function-local static of pointer type: initialised once, thread-safe, and nothing to
  // construct or destroy at load or exit.
  static const KernelTable* const table = choose_active();
  return *table;
}

double l2_distance(const float* a, const float* b, std::size_t n) {
  const float sum = active().l2_squared(a, b, n);
  if (accurate(sum)) return std::sqrt(static_cast<double>(sum));
  return std::sqrt(l2_squared_double(a, b, n));
}

double inner_product(const float* a, const float* b, std::size_t n) {
  const float sum = active().dot(a, b, n);
  if (accurate(sum)) return sum;
  return dot_double(a, b, n);
}

double cosine_distance(const float* a, const float* b, std::size_t n) {
  float dot = 0.0f;
  float norm_a = 0.0f;
  float norm_b = 0.0f;
  active().dot_norms(a, b, n, &dot, &norm_a, &norm_b);
  double similarity;
  // Only the norms need the underflow test: with both at or above the threshold, the dot's
  // underflow error (<= 1.1e-41) moves the similarity by at most 1e-11.
  if (accurate(norm_a) && accurate(norm_b) && std::isfinite(dot)) {
    similarity = dot / std::sqrt(static_cast<double>(norm_a) * static_cast<double>(norm_b));
  } else {
    similarity =
        dot_double(a, b, n) / std::sqrt(squared_norm_double(a, n) * squared_norm_double(b, n));
  }
  return distance_of_similarity(similarity);
}

double l1_distance(const float* a, const float* b, std::size_t n) {
  // No underflow test: l1 has no products, and float32 sums of subnormal differences are exact.
  const float sum = active().l1(a, b, n);
  if (std::isfinite(sum)) return sum;
  return l1_double(a, b, n);
}

double norm(const float* a, std::size_t n) { return std::sqrt(squared_norm_double(a, n)); }

// Halfvec: products of halfs are exact in float32 and every sum stays far inside its range
// (kernels.h), so unlike the float32 distances there is nothing to fall back from.
double half_l2_distance(const Half* a, const Half* b, std::size_t n) {
  return std::sqrt(static_cast<double>(active().half_l2_squared(a, b, n)));
}

double half_inner_product(const Half* a, const Half* b, std::size_t n) {
  return active().half_dot(a, b, n);
}

double half_cosine_distance(const Half* a, const Half* b, std::size_t n) {
  float dot = 0.0f;
  float norm_a = 0.0f;
  float norm_b = 0.0f;
  active().half_dot_norms(a, b, n, &dot, &norm_a, &norm_b);
  return distance_of_similarity(
      dot / std::sqrt(static_cast<double>(norm_a) * static_cast<double>(norm_b)));
}

double half_l1_distance(const Half* a, const Half* b, std::size_t n) {
  return active().half_l1(a, b, n);
}

double half_norm(const Half* a, std::size_t n) {
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double x = vec::half_to_float(a[i]);
    sum += x * x;
  }
  return std::sqrt(sum);
}

double bit_hamming_distance(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes) {
  return static_cast<double>(active().bit_hamming(a, b, bytes));
}

double bit_jaccard_distance(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes) {
  std::uint64_t both = 0;
  std::uint64_t count_a = 0;
  std::uint64_t count_b = 0;
  active().bit_jaccard_counts(a, b, bytes, &both, &count_a, &count_b);
  // pgvector's rule: 1 when the strings share no set bit (two zero strings included).
  if (both == 0) return 1.0;
  return 1.0 - static_cast<double>(both) / static_cast<double>(count_a + count_b - both);
}

}  // namespace embedding::kernels
