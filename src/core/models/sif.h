// Smooth inverse frequency (SIF) pooling data (Arora, Liang, Ma, ICLR 2017): per-word weights
// a / (a + p(w)) and the common component removed from every sentence vector.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace embedding::models {

inline constexpr double kDefaultSifA = 1e-3;
inline constexpr double kDefaultReferenceSentenceLength = 20.0;
// Bounds conversion time for pathological inputs (a tiny eigen-gap); real models need < 20.
inline constexpr int kMaxPowerIterations = 500;

// Word probabilities. GloVe, word2vec and fastText files list words by falling frequency but
// ship no counts, so p(w) is estimated from the 1-based frequency rank r by Zipf's law:
//   p(r) = 1 / (r * H_N),  H_N = sum_{k=1..N} 1/k,  N = vocabulary size,
// which sums to 1 over the vocabulary. Only the rank is needed, so any model gets weights.
double harmonic_number(std::uint64_t n);
double zipf_probability(std::uint64_t rank, double harmonic);

// weight[id] = a / (a + p(id + 1)) for id = 0 .. vocab_size - 1.
std::vector<float> sif_weights(std::uint32_t vocab_size, double a);

// The common component u. SIF removes the first principal component of the (uncentred)
// sentence vectors of a corpus. We use no corpus: the reference corpus is the model's own unigram
// distribution, i.e. pseudo-sentences of n words drawn independently from p(w). With
// x_w = weight_w * v_w (v_w the raw word vector) and s = (1/n) sum x_w, the second moment is
// exactly
//   E[s s^T] = (1/n) * sum_w p(w) x_w x_w^T + (1 - 1/n) * m m^T,   m = sum_w p(w) x_w,
// so u is its top eigenvector, found by matrix-free power iteration in double precision
// (O(vocab x dims) memory-free passes): deterministic, no sampling, computed at conversion time.
// The sign is fixed so that u . m >= 0. All-zero vectors give u = 0 (nothing is removed).
// unit_rows: vocab_size x dims, raw vector w = norms[w] * unit_rows[w].
std::vector<float> common_component(const float* unit_rows, const float* norms,
                                    const float* weights, std::uint32_t vocab_size,
                                    std::uint32_t dims, double sentence_length);

}  // namespace embedding::models
