// SIF weights from Zipf-estimated probabilities and the common component by power iteration
// on the exact second moment of unigram pseudo-sentences (see sif.h for the derivation).
#include "core/models/sif.h"

#include <cmath>

#include "core/common/interrupt.h"

namespace embedding::models {

double harmonic_number(std::uint64_t n) {
  double sum = 0.0;
  for (std::uint64_t k = n; k >= 1; --k) sum += 1.0 / static_cast<double>(k);  // small first
  return sum;
}

double zipf_probability(std::uint64_t rank, double harmonic) {
  return 1.0 / (static_cast<double>(rank) * harmonic);
}

std::vector<float> sif_weights(std::uint32_t vocab_size, double a) {
  const double harmonic = harmonic_number(vocab_size);
  std::vector<float> weights(vocab_size);
  for (std::uint32_t id = 0; id < vocab_size; ++id) {
    weights[id] = static_cast<float>(a / (a + zipf_probability(id + 1ull, harmonic)));
  }
  return weights;
}

std::vector<float> common_component(const float* unit_rows, const float* norms,
                                    const float* weights, std::uint32_t vocab_size,
                                    std::uint32_t dims, double sentence_length) {
  // C is never formed (it would need dims^2 memory): C v = sum_w c_w r_w (r_w . v) + (1 - 1/n)
  // m (m . v), with r_w the unit row and c_w = p(w) (weight_w norm_w)^2 / n, one pass per step.
  const double harmonic = harmonic_number(vocab_size);
  const double n = sentence_length < 1.0 ? 1.0 : sentence_length;
  std::vector<double> coefficient(vocab_size);
  std::vector<double> mean(dims, 0.0);
  for (std::uint32_t id = 0; id < vocab_size; ++id) {
    poll_interrupts_every(id);
    const double p = zipf_probability(id + 1ull, harmonic);
    const double scale = static_cast<double>(weights[id]) * static_cast<double>(norms[id]);
    coefficient[id] = p * scale * scale / n;
    const float* row = unit_rows + std::size_t{id} * dims;
    for (std::uint32_t i = 0; i < dims; ++i) mean[i] += p * scale * static_cast<double>(row[i]);
  }
  const auto multiply = [&](const std::vector<double>& v, std::vector<double>& out) {
    double mean_dot = 0.0;
    for (std::uint32_t i = 0; i < dims; ++i) mean_dot += mean[i] * v[i];
    for (std::uint32_t i = 0; i < dims; ++i) out[i] = (1.0 - 1.0 / n) * mean[i] * mean_dot;
    for (std::uint32_t id = 0; id < vocab_size; ++id) {
      poll_interrupts_every(id);
      if (coefficient[id] == 0.0) continue;
      const float* row = unit_rows + std::size_t{id} * dims;
      double row_dot = 0.0;
      for (std::uint32_t i = 0; i < dims; ++i) row_dot += static_cast<double>(row[i]) * v[i];
      const double factor = coefficient[id] * row_dot;
      for (std::uint32_t i = 0; i < dims; ++i) out[i] += factor * static_cast<double>(row[i]);
    }
  };

  // Power iteration from the mean direction, which is already close for real models (their
  // second eigenvalue is small next to the first: a handful of steps).
  std::vector<double> v(dims, 0.0);
  double length = 0.0;
  for (std::uint32_t i = 0; i < dims; ++i) length += mean[i] * mean[i];
  for (std::uint32_t i = 0; i < dims; ++i) {
    v[i] = length > 0.0 ? mean[i] / std::sqrt(length) : 1.0 / std::sqrt(static_cast<double>(dims));
  }
  std::vector<double> next(dims);
  bool nonzero = false;
  for (int iteration = 0; iteration < kMaxPowerIterations; ++iteration) {
    multiply(v, next);
    double next_length = 0.0;
    for (std::uint32_t i = 0; i < dims; ++i) next_length += next[i] * next[i];
    if (!(next_length > 0.0) || !std::isfinite(next_length)) break;
    nonzero = true;
    next_length = std::sqrt(next_length);
    double change = 0.0;
    for (std::uint32_t i = 0; i < dims; ++i) {
      next[i] /= next_length;
      change += (next[i] - v[i]) * (next[i] - v[i]);
    }
    v.swap(next);
    if (change < 1e-24) break;
  }
  std::vector<float> u(dims, 0.0f);
  if (!nonzero) return u;
  double direction = 0.0;
  for (std::uint32_t i = 0; i < dims; ++i) direction += v[i] * mean[i];
  const double sign = direction < 0.0 ? -1.0 : 1.0;
  for (std::uint32_t i = 0; i < dims; ++i) u[i] = static_cast<float>(sign * v[i]);
  return u;
}

}  // namespace embedding::models
