// Distance kernels over float32 arrays: one API, several instruction-set implementations
// (scalar reference, AVX2+FMA), chosen once per process from what the CPU supports.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/vector/half.h"

namespace embedding::kernels {

using vec::Half;

// Raw float32 kernels: fast, accumulate in float32 with several partial sums.
struct KernelTable {
  const char* name;
  float (*l2_squared)(const float* a, const float* b, std::size_t n);
  float (*dot)(const float* a, const float* b, std::size_t n);
  float (*l1)(const float* a, const float* b, std::size_t n);
  // Dot product and both squared norms in one pass (cosine).
  void (*dot_norms)(const float* a, const float* b, std::size_t n, float* dot, float* norm_a,
                    float* norm_b);

  // The same four over half-precision elements (halfvec), accumulated in float32 without
  // converting whole vectors first. Half magnitudes (<= 65504, >= 2^-24) squared and summed
  // over 16,000 elements neither overflow nor underflow float32, so no double pass is needed.
  float (*half_l2_squared)(const Half* a, const Half* b, std::size_t n);
  float (*half_dot)(const Half* a, const Half* b, std::size_t n);
  float (*half_l1)(const Half* a, const Half* b, std::size_t n);
  void (*half_dot_norms)(const Half* a, const Half* b, std::size_t n, float* dot, float* norm_a,
                         float* norm_b);
  // Bulk conversions: exact half -> float; float -> half rounds to nearest-even (overflow gives
  // infinity, which the caller checks).
  void (*half_to_float)(const Half* in, float* out, std::size_t n);
  void (*float_to_half)(const float* in, Half* out, std::size_t n);

  // Bit strings of `bytes` bytes (PostgreSQL's bit type; padding bits past the length are 0).
  // hamming: popcount(a ^ b). jaccard_counts: popcount(a & b), popcount(a), popcount(b).
  std::uint64_t (*bit_hamming)(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes);
  void (*bit_jaccard_counts)(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes,
                             std::uint64_t* both, std::uint64_t* count_a, std::uint64_t* count_b);

  // For each of n rows, the column with the smallest score bias[j] + scale * (row . col_j) among
  // k columns (rows and columns row-major, `dims` floats each; bias nullptr means 0), taken when
  // smaller than best[i]: then best[i] = that score and best_index[i] = first_index + j. Ties
  // keep the lower index; NaN scores never win. `scratch` holds n * k floats. (A matrix product
  // and an argmin per row: the AVX2 table's product is Eigen's GEMM.)
  void (*nearest_block)(const float* rows, std::size_t n, const float* cols, std::size_t k,
                        std::size_t dims, const float* bias, float scale, float* best,
                        std::uint32_t* best_index, std::uint32_t first_index, float* scratch);
  // A matrix product C = A op(B) (+ C when accumulate): A is n x k, C is n x m, op(B) is B^T for
  // B m x k (trans_b) or B for B k x m; all row-major with leading dimensions lda, ldb, ldc in
  // floats (the transformer encoder's dense layers and attention).
  void (*gemm)(std::size_t n, std::size_t m, std::size_t k, const float* a, std::size_t lda,
               const float* b, std::size_t ldb, bool trans_b, float* c, std::size_t ldc,
               bool accumulate);
  // Transformer element-wise steps, in place: x = softmax(scale * x) for each of `rows` rows of
  // `cols` floats (`ld` apart); x = GELU(x) = x Phi(x) with the erf (not the tanh form).
  void (*softmax_rows)(float* x, std::size_t rows, std::size_t cols, std::size_t ld, float scale);
  void (*gelu)(float* x, std::size_t n);
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
// Defined in kernels_avx2.cpp, which is built with -mavx2 -mfma -mf16c -mpopcnt: only
// dispatch.cpp calls it, after checking the CPU. nullptr when that file was compiled without
// those flags.
const KernelTable* avx2_table_unchecked();
// Defined in block_avx2.cpp (Eigen built for AVX2 and FMA); part of that table.
void nearest_block_avx2(const float* rows, std::size_t n, const float* cols, std::size_t k,
                        std::size_t dims, const float* bias, float scale, float* best,
                        std::uint32_t* best_index, std::uint32_t first_index, float* scratch);
void gemm_avx2(std::size_t n, std::size_t m, std::size_t k, const float* a, std::size_t lda,
               const float* b, std::size_t ldb, bool trans_b, float* c, std::size_t ldc,
               bool accumulate);
void softmax_rows_avx2(float* x, std::size_t rows, std::size_t cols, std::size_t ld, float scale);
void gelu_avx2(float* x, std::size_t n);
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

// SQL-level distances on halfvec (pgvector's halfvec_* functions): float32 accumulation as
// pgvector, returned as double. cosine: 1 - cos clamped to [0, 2], NaN for a zero vector.
double half_l2_distance(const Half* a, const Half* b, std::size_t n);
double half_inner_product(const Half* a, const Half* b, std::size_t n);
double half_cosine_distance(const Half* a, const Half* b, std::size_t n);
double half_l1_distance(const Half* a, const Half* b, std::size_t n);
// Euclidean norm of a halfvec, accumulated in double.
double half_norm(const Half* a, std::size_t n);

// SQL-level bit distances (pgvector's hamming_distance and jaccard_distance): jaccard is
// 1 - |a & b| / |a | b|, and 1 when a & b is empty (both zero included), as pgvector.
double bit_hamming_distance(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes);
double bit_jaccard_distance(const std::uint8_t* a, const std::uint8_t* b, std::size_t bytes);

}  // namespace embedding::kernels
