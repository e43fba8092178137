// Quantizer: encoding to grid levels with the scale that best keeps the vector's direction, and the
// estimator of inner products and distances from a code (see rabitq.h).
#include "core/quant/rabitq.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/common/error.h"

namespace embedding::quant {
namespace {

// Grid value of level k with `bits` bits: (2k + 1) / 2^bits - 1, in (-1, 1).
inline float grid(unsigned level, int bits) {
  return static_cast<float>(2 * level + 1) / static_cast<float>(1u << bits) - 1.0f;
}

inline unsigned level_of(float v, int bits) {
  const float levels = static_cast<float>(1u << bits);
  const float k = std::floor((v + 1.0f) * 0.5f * levels);
  return static_cast<unsigned>(std::clamp(k, 0.0f, levels - 1.0f));
}

void put_level(std::uint8_t* code, int bits, std::size_t i, unsigned level) {
  const std::size_t bit = i * static_cast<std::size_t>(bits);
  code[bit / 8] |= static_cast<std::uint8_t>(level << (bit % 8));
}

// The cosine of the angle between u (a unit vector) and the grid values of its levels at scale t.
double cosine_at(const float* u, std::size_t n, int bits, float t) {
  double dot = 0.0, norm2 = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double g = grid(level_of(u[i] * t, bits), bits);
    dot += g * u[i];
    norm2 += g * g;
  }
  return norm2 > 0.0 ? dot / std::sqrt(norm2) : 0.0;
}

}  // namespace

float level_dot(const std::uint8_t* code, int bits, const float* y, std::size_t padded) {
  float sum = 0.0f;
  if (bits == 1) {
    for (std::size_t i = 0; i < padded; ++i) sum += (code[i / 8] >> (i % 8)) & 1 ? y[i] : 0.0f;
  } else if (bits == 8) {
    for (std::size_t i = 0; i < padded; ++i) sum += static_cast<float>(code[i]) * y[i];
  } else {
    const unsigned mask = (1u << bits) - 1;
    const std::size_t per_byte = 8 / static_cast<std::size_t>(bits);
    for (std::size_t i = 0; i < padded; ++i) {
      const unsigned level = (code[i / per_byte] >> ((i % per_byte) * bits)) & mask;
      sum += static_cast<float>(level) * y[i];
    }
  }
  return sum;
}

Quantizer::Quantizer(std::size_t dims, int bits, std::uint64_t seed, const float* center)
    : rotation_(dims, seed), bits_(bits) {
  if (bits != 1 && bits != 2 && bits != 4 && bits != 8)
    throw Error(ErrorCode::kInvalidParameter, "codes have 1, 2, 4 or 8 bits a dimension");
  if (center != nullptr) center_.assign(center, center + dims);
}

CodeFactors Quantizer::encode(const float* vector, std::uint8_t* code, float* scratch) const {
  const std::size_t n = padded();
  float* residual = scratch;  // dims values
  float* x = scratch + n;
  std::memcpy(residual, vector, dims() * sizeof(float));
  if (!center_.empty())
    for (std::size_t i = 0; i < dims(); ++i) residual[i] -= center_[i];
  rotation_.apply(residual, x);
  std::memset(code, 0, code_bytes());
  double norm2 = 0.0;
  for (std::size_t i = 0; i < n; ++i) norm2 += static_cast<double>(x[i]) * x[i];
  const double norm = std::sqrt(norm2);
  if (!(norm > 0.0) || !std::isfinite(norm)) return {0.0f, 0.0f, 0.0f};  // the centre itself
  float max_abs = 0.0f;
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = static_cast<float>(x[i] / norm);
    max_abs = std::max(max_abs, std::fabs(x[i]));
  }
  // The scale that maps u's largest coordinate to the top level, then a search around it for the
  // scale whose levels keep the direction best (more bits: a larger share of coordinates matter).
  // (1 bit: signs, whatever the scale.)
  float best_t = 1.0f;
  if (bits_ > 1) {
    const float base = (1.0f - 1.0f / static_cast<float>(1u << bits_)) / max_abs;
    double best_cos = -1.0;
    constexpr int kSteps = 24;
    for (int s = 0; s < kSteps; ++s) {
      const float t = base * (0.4f + 0.05f * static_cast<float>(s));
      const double c = cosine_at(x, n, bits_, t);
      if (c > best_cos) best_cos = c, best_t = t;
    }
  }
  double g_dot_u = 0.0, g_norm2 = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned level = level_of(x[i] * best_t, bits_);
    put_level(code, bits_, i, level);
    const double g = grid(level, bits_);
    g_dot_u += g * x[i];
    g_norm2 += g * g;
  }
  const double cosine = std::clamp(g_dot_u / std::sqrt(g_norm2), 1e-6, 1.0);
  CodeFactors f;
  f.norm = static_cast<float>(norm);
  f.scale = static_cast<float>(norm / g_dot_u);
  f.error = static_cast<float>(norm * std::sqrt(std::max(0.0, 1.0 - cosine * cosine)) /
                               (cosine * std::sqrt(static_cast<double>(n - 1))));
  return f;
}

void Quantizer::prepare(const float* query, bool centered, PreparedQuery& out) const {
  const std::size_t n = padded();
  std::vector<float> shifted(query, query + dims());
  out.center_dot = 0.0f;
  if (!center_.empty()) {
    double dot = 0.0;
    for (std::size_t i = 0; i < dims(); ++i) dot += static_cast<double>(center_[i]) * query[i];
    out.center_dot = static_cast<float>(dot);
    if (centered)
      for (std::size_t i = 0; i < dims(); ++i) shifted[i] -= center_[i];
  }
  out.y.resize(n);
  rotation_.apply(shifted.data(), out.y.data());
  double sum = 0.0, norm2 = 0.0;
  for (float v : out.y) sum += v, norm2 += static_cast<double>(v) * v;
  out.y_sum = static_cast<float>(sum);
  out.y_norm = static_cast<float>(std::sqrt(norm2));
  out.centered = centered;
}

float Quantizer::dot(const PreparedQuery& query, const std::uint8_t* code,
                     const CodeFactors& f) const {
  // <g, y> = sum ((2 k_i + 1) / 2^B - 1) y_i = (2 / 2^B) sum k_i y_i + (1 / 2^B - 1) sum y_i
  const float inv_levels = 1.0f / static_cast<float>(1u << bits_);
  const float g_dot_y = 2.0f * inv_levels * level_dot(code, bits_, query.y.data(), padded()) +
                        (inv_levels - 1.0f) * query.y_sum;
  return f.scale * g_dot_y;
}

Estimate Quantizer::l2_squared(const PreparedQuery& query, const std::uint8_t* code,
                               const CodeFactors& f, float epsilon) const {
  const float xy = dot(query, code, f);
  return {f.norm * f.norm + query.y_norm * query.y_norm - 2.0f * xy,
          2.0f * epsilon * f.error * query.y_norm};
}

Estimate Quantizer::negative_dot(const PreparedQuery& query, const std::uint8_t* code,
                                 const CodeFactors& f, float epsilon) const {
  return {-(dot(query, code, f) + query.center_dot), epsilon * f.error * query.y_norm};
}

}  // namespace embedding::quant
