// Distance kernels over float32 arrays: one API, several instruction-set implementations
// (scalar reference, AVX2+FMA), chosen once per process from what the CPU supports.
#pragma once

#include <cstddef>

namespace embedding::kernels {

// Raw float32 kernels: fast, accumulate in float32 with several partial sums.
struct KernelTable {
  const char* name;
  float (*l2_squared)(const float* a, const float* b, std::size_t n);
  float (*dot)(const float* a, const float* b, std::size_t n);
  float (*l1)(const float* a, const float* b, std::size_t n);
  // Dot product and both squared norms in one pass (cosine).
  void (*dot_norms)(const float* a, const float* b, std::size_t n, float* dot, float* norm_a,
                    float* norm_b);
};

const KernelTable& scalar_table();
// nullptr when the binary or the CPU lacks the instruction set.
const KernelTable* avx2_table();
// The best table this CPU supports; chosen on first call, then fixed. The environment
// variable EMBEDDING_KERNELS=scalar (or avx2) asks for a table by name (tests, benchmarks).
const KernelTable& active();
// The table named `requested` ("scalar", "avx2") when this CPU supports it, else the best one
// it supports (also for nullptr or an unknown name). active() calls it once.
const KernelTable& select_table(const char* requested);

namespace detail {
// Defined in kernels_avx2.cpp, which is built with -mavx2 -mfma: only dispatch.cpp calls it,
// after checking the CPU. nullptr when that file was compiled without those flags.
const KernelTable* avx2_table_unchecked();
}  // namespace detail

// SQL-level distances (what the operators return). They use the active float32 kernel and
// fall back to a double-precision pass when float32 overflowed or underflowed, so huge and
// tiny magnitudes give the correctly rounded double answer instead of inf or 0.
double l2_distance(const float* a, const float* b, std::size_t n);
double inner_product(const float* a, const float* b, std::size_t n);
// 1 - cos(a, b) clamped to [0, 2]; NaN when either norm is zero (as pgvector).
double cosine_distance(const float* a, const float* b, std::size_t n);
double l1_distance(const float* a, const float* b, std::size_t n);
// Euclidean norm, accumulated in double.
double norm(const float* a, std::size_t n);

}  // namespace embedding::kernels
