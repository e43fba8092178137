// L2 normalisation, the one definition every caller uses: SQL l2_normalize(), cosine indexes,
// spherical k-means, ivfflat's sample, model building, the SIF and BERT sentence encoders.
#pragma once

#include <cstddef>

namespace embedding::vec {

// The norm is accumulated in double, element by element in order (no run-time dispatch, so the
// result is the same on every CPU), and each element is divided by it in double, then rounded
// to float. A vector has a direction when its norm is finite and greater than zero: then every
// output element lies in [-1, 1] (denormal inputs included: their squares are exact in double),
// and the result neither overflows nor underflows to a spurious zero.
//
// A vector without a direction (every element zero, or a NaN or an infinity among them) has no
// unit vector; each caller says by `policy` what it wants instead, there is no default:
enum class NoDirection {
  kKeep,   // leave the output untouched (in place: the vector stays as it was)
  kZeros,  // write zeros (pgvector's l2_normalize: a zero vector stays zero)
  kNaN,    // write NaN, as dividing by the norm would, for callers that check finiteness later
};

// True when the vector had a direction and out is now its unit vector; false when `policy` was
// applied. `norm`, when not null, receives the norm (0, NaN or inf when false). `out` may be
// `in`.
bool normalize(const float* in, float* out, std::size_t n, NoDirection policy,
               double* norm = nullptr);
// The same for a vector accumulated in double (the SIF encoder's sum).
bool normalize(const double* in, float* out, std::size_t n, NoDirection policy,
               double* norm = nullptr);
// In place.
inline bool normalize(float* vector, std::size_t n, NoDirection policy) {
  return normalize(vector, vector, n, policy);
}

// sentence-transformers' Normalize layer (torch's F.normalize): x / max(|x|, min_norm), in
// place. A zero vector stays zero, one shorter than min_norm is scaled by 1 / min_norm rather
// than to unit length, and a NaN or an infinity gives NaN (the encoder rejects it afterwards).
void normalize_clamped(float* vector, std::size_t n, double min_norm);

}  // namespace embedding::vec
