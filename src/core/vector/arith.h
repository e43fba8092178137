// Element-wise vector arithmetic, ordering and aggregate state, with pgvector's
// overflow rules. Pure functions over float arrays; the glue owns the memory.
#pragma once

#include <cstddef>

#include <cstdint>

#include "core/vector/codec.h"
#include "core/vector/half.h"

namespace embedding::vec {

enum class ElementOp { kAdd, kSub, kMul };

// out[i] = a[i] op b[i]; throws kOutOfRange on overflow (and, for kMul, on underflow to zero).
void elementwise(ElementOp op, const float* a, const float* b, float* out, std::size_t n);
// Lexicographic by element, then by dimension (pgvector's vector_cmp).
int compare(const float* a, int na, const float* b, int nb);

// avg() state: state[0] = count, state[1..n] = sums, in double. Accumulate checks the dimension.
void accumulate(double* state, std::size_t n, const float* x);
// state_a += state_b (both n+1 long).
void combine(double* state_a, const double* state_b, std::size_t n);
// out[i] = sums / count as float (for kFloat16 rounded to a half, which out then holds exactly);
// throws as pgvector's final functions do when a mean is NaN, infinite or beyond the element
// type's range, so that avg() never returns a value the type's input would refuse.
void average(const double* state, std::size_t n, float* out, Element element = Element::kFloat32);

// subvector(v, start, count) as pgvector (1-based like substring): the 0-based first element and
// the length of elements [start, start + count) of a vector of `dims`, start clamped to 1; throws
// as check_dim() does when the result is empty.
struct Slice {
  std::size_t first;
  int dims;
};
Slice subvector_slice(int dims, std::int32_t start, std::int32_t count,
                      Element element = Element::kFloat32);

// acos(dot) / pi with dot clamped to [-1, 1]: the angle between normalised vectors as a share of
// pi (pgvector's spherical distance, which its ivfflat k-means uses).
double angular_distance(double dot);

// binary_quantize(): bit i of `out` (bytes of 8, most significant bit first, as a bit string
// stores them) is set when x[i] > 0; the unused bits of the last byte are zero. Branch-free, as
// the signs of an embedding are a coin toss for a branch predictor.
void sign_bits(const float* x, std::size_t n, std::uint8_t* out);
void sign_bits(const Half* x, std::size_t n, std::uint8_t* out);

}  // namespace embedding::vec
