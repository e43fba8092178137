// Kernels of core/quant (code sums, encoding, the rotation's steps): a scalar reference and an AVX2
// table, chosen with the distance kernels (core/vector/kernels.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace embedding::quant {

// A 1-bit query: kQueryPlanes-bit unsigned levels q_i of its coordinates, stored as kQueryPlanes
// bit planes of `words` words each (plane j, bit i: bit j of q_i). Then sum_i b_i q_i = sum_j 2^j
// popcount(b & plane_j). 6 bits: with 4 the rounding cost 0.01 recall@10 on GloVe 100-d
// (test/bench/README.md).
constexpr int kQueryPlanes = 6;
// Scales a call of CodeKernels::scale_sums evaluates at most.
constexpr int kMaxScales = 4;

struct CodeKernels {
  const char* name;
  // sum_i level_i * y_i over n coordinates of a code of 1, 2, 4 or 8 bits a level, packed from the
  // low-order bits of each byte up; by bit width (index 0: 1 bit, 1: 2, 2: 4, 3: 8).
  float (*level_dot[4])(const std::uint8_t* code, const float* y, std::size_t n);
  // For a 1-bit code of `words` 64-bit words (bytes in memory order) and a query's planes: sets
  // *weighted = sum_i b_i q_i and *ones = popcount(b).
  void (*plane_dot)(const std::uint8_t* code, const std::uint64_t* planes, std::size_t words,
                    std::uint32_t* weighted, std::uint32_t* ones);
  // The scale search's objective (scale_search.cpp) at `count` (1 to kMaxScales) scales in one
  // pass: with j_i = min(floor(|u_i| scaled[k]), half - 1), dot[k] = sum |u_i| (2 j_i + 1) and
  // norm2[k] = sum (2 j_i + 1)^2 over n coordinates.
  void (*scale_sums)(const float* u, std::size_t n, const float* scaled, int count, int half,
                     float* dot, std::int64_t* norm2);
  // encode()'s last pass over u (n values, a multiple of 64): level_i = the level of u_i * t with
  // `bits` bits (as level_of gives it), packed into code; with G_i = 2 level_i + 1 - 2^bits,
  // *dot = sum G_i u_i and *squares = sum G_i^2.
  void (*encode_levels)(const float* u, std::size_t n, float t, int bits, std::uint8_t* code,
                        float* dot, std::int64_t* squares);
  // The rotation's steps (rotation.h): x[i] *= signs[i] over n values; the in-place orthonormal
  // Walsh-Hadamard transform of x[0, n), n a power of two.
  void (*flip_signs)(float* x, const float* signs, std::size_t n);
  void (*walsh_hadamard)(float* x, std::size_t n);
  // One block of list codes (list_codes.h: `groups` groups of 16 bytes, an even number) against a
  // query's tables (`luts`: 16 bytes a group, entry b the table value of nibble b): sums[j] = sum
  // over groups of luts[g][nibble of neighbour j in group g], for the block's 32 neighbours.
  // Table values must be at most kMaxTableValue.
  void (*block_sums)(const std::uint8_t* block, const std::uint8_t* luts, std::size_t groups,
                     std::uint32_t* sums);
};
// The largest table value block_sums accepts (its 16-bit lanes add at most 512 of them at a time).
constexpr unsigned kMaxTableValue = 255;

const CodeKernels& scalar_code_kernels();
// nullptr when the binary or the CPU lacks AVX2, FMA and POPCNT.
const CodeKernels* avx2_code_kernels();
// The table matching kernels::active() (so EMBEDDING_KERNELS=scalar selects the scalar one too).
const CodeKernels& code_kernels();

inline int bit_width_index(int bits) { return bits == 1 ? 0 : bits == 2 ? 1 : bits == 4 ? 2 : 3; }

namespace detail {
// Defined in code_kernels_avx2.cpp (built with -mavx2 -mfma -mf16c -mpopcnt); only
// avx2_code_kernels() calls it, after the CPU check. nullptr when built without those flags.
const CodeKernels* avx2_code_kernels_unchecked();
// The scalar transform (rotation.cpp), also the AVX2 table's for n < 8.
void walsh_hadamard_scalar(float* x, std::size_t n);
}  // namespace detail

}  // namespace embedding::quant
