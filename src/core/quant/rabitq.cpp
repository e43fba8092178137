// Quantizer: encoding to grid levels with the scale that best keeps the vector's direction, and the
// estimator of inner products and distances from a code (see rabitq.h).
#include "core/quant/rabitq.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/common/error.h"
#include "core/quant/code_kernels.h"
#include "core/quant/scale_search.h"

namespace embedding::quant {
namespace {

// The kQueryPlanes-bit levels of y (rounded to nearest over [min y, max y]) as bit planes. The
// rounding adds an error of at most plane_step / 2 a coordinate, uniform and independent of the
// code's bits: at 63 steps over y's range its variance is under 1% of the estimator's, and the
// bounds include it (estimate_dot).
void make_planes(PreparedQuery& q) {
  const std::size_t n = q.y.size(), words = n / 64;
  const auto [low, high] = std::minmax_element(q.y.begin(), q.y.end());
  constexpr float kTop = (1u << kQueryPlanes) - 1;
  q.plane_low = *low;
  q.plane_step = (*high - *low) / kTop;
  const float inv = q.plane_step > 0.0f ? 1.0f / q.plane_step : 0.0f;
  q.planes.assign(kQueryPlanes * words, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const auto level = static_cast<std::uint64_t>(
        std::clamp(std::nearbyint((q.y[i] - q.plane_low) * inv), 0.0f, kTop));
    for (int j = 0; j < kQueryPlanes; ++j)
      q.planes[j * words + i / 64] |= ((level >> j) & 1) << (i % 64);
  }
}

}  // namespace

float level_dot(const std::uint8_t* code, int bits, const float* y, std::size_t padded) {
  return code_kernels().level_dot[bit_width_index(bits)](code, y, padded);
}

Quantizer::Quantizer(std::size_t dims, int bits, std::uint64_t seed, const float* center)
    : rotation_(dims, seed), bits_(bits), kernels_(&code_kernels()) {
  if (bits != 1 && bits != 2 && bits != 4 && bits != 8)
    throw Error(ErrorCode::kInvalidParameter, "codes have 1, 2, 4 or 8 bits a dimension");
  if (center != nullptr) center_.assign(center, center + dims);
}

CodeFactors Quantizer::encode(const float* vector, std::uint8_t* code, float* scratch) const {
  return encode_with(vector, code, scratch, nullptr);
}

CodeFactors Quantizer::encode(const float* vector, std::uint8_t* code, float* scratch,
                              ScaleSearch search) const {
  return encode_with(vector, code, scratch, search);
}

// `search` null: best_scale with this quantiser's kernels.
CodeFactors Quantizer::encode_with(const float* vector, std::uint8_t* code, float* scratch,
                                   ScaleSearch search) const {
  const std::size_t n = padded();
  float* residual = scratch;  // dims values
  float* x = scratch + n;
  std::memcpy(residual, vector, dims() * sizeof(float));
  if (!center_.empty())
    for (std::size_t i = 0; i < dims(); ++i) residual[i] -= center_[i];
  rotation_.apply(residual, x, *kernels_);
  double sums[4] = {0.0, 0.0, 0.0, 0.0};  // four chains: n is a multiple of 64
  for (std::size_t i = 0; i < n; i += 4)
    for (int k = 0; k < 4; ++k) sums[k] += static_cast<double>(x[i + k]) * x[i + k];
  const double norm = std::sqrt((sums[0] + sums[1]) + (sums[2] + sums[3]));
  if (!(norm > 0.0) || !std::isfinite(norm)) {  // the centre itself
    std::memset(code, 0, code_bytes());
    return {0.0f, 0.0f, 0.0f};
  }
  float max_abs = 0.0f;
  const auto inv_norm = static_cast<float>(1.0 / norm);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] *= inv_norm;
    max_abs = std::max(max_abs, std::fabs(x[i]));
  }
  // The scale whose levels keep u's direction best (more bits: a larger share of coordinates
  // matter).
  const float best_t = search != nullptr ? search(x, n, bits_, max_abs)
                                         : best_scale(x, n, bits_, max_abs, *kernels_);
  // With G = 2 level + 1 - 2^B (so g = G / 2^B): <g, u> = sum G u / 2^B, |g|^2 = sum G^2 / 4^B.
  const int levels = 1 << bits_;
  float dot;
  std::int64_t squares;
  kernels_->encode_levels(x, n, best_t, bits_, code, &dot, &squares);
  const double g_dot_u = dot / static_cast<double>(levels);
  const double g_norm2 = static_cast<double>(squares) / (static_cast<double>(levels) * levels);
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
  rotation_.apply(shifted.data(), out.y.data(), *kernels_);
  double sum = 0.0, norm2 = 0.0;
  for (float v : out.y) sum += v, norm2 += static_cast<double>(v) * v;
  out.y_sum = static_cast<float>(sum);
  out.y_norm = static_cast<float>(std::sqrt(norm2));
  out.centered = centered;
  out.planes.clear();
  if (bits_ == 1) make_planes(out);
}

float Quantizer::dot(const PreparedQuery& query, const std::uint8_t* code,
                     const CodeFactors& f) const {
  float rounding;
  return estimate_dot(query, code, f, &rounding);
}

// *rounding: the variance the query's rounding to levels adds to the estimate (0 on the float
// path). Each set bit adds plane_step * e_i to the level sum, e_i uniform on [-1/2, 1/2] (variance
// 1/12), and the estimate is scale * that sum (1 bit: 2 / 2^B = 1).
float Quantizer::estimate_dot(const PreparedQuery& query, const std::uint8_t* code,
                              const CodeFactors& f, float* rounding) const {
  // <g, y> = sum ((2 k_i + 1) / 2^B - 1) y_i = (2 / 2^B) sum k_i y_i + (1 / 2^B - 1) sum y_i
  const float inv_levels = 1.0f / static_cast<float>(1u << bits_);
  float level_sum;
  if (!query.planes.empty() && bits_ == 1) {
    std::uint32_t weighted, ones;
    kernels_->plane_dot(code, query.planes.data(), padded() / 64, &weighted, &ones);
    level_sum = query.plane_low * static_cast<float>(ones) +
                query.plane_step * static_cast<float>(weighted);
    const float spread = f.scale * query.plane_step;
    *rounding = spread * spread * static_cast<float>(ones) * (1.0f / 12.0f);
  } else {
    level_sum = kernels_->level_dot[bit_width_index(bits_)](code, query.y.data(), padded());
    *rounding = 0.0f;
  }
  const float g_dot_y = 2.0f * inv_levels * level_sum + (inv_levels - 1.0f) * query.y_sum;
  return f.scale * g_dot_y;
}

// The bound's standard deviation: the estimator's, error * |y|, and the query rounding's
// independent of it.
float Quantizer::spread(const PreparedQuery& query, const CodeFactors& f, float rounding) {
  const float own = f.error * query.y_norm;
  return rounding == 0.0f ? own : std::sqrt(own * own + rounding);
}

Estimate Quantizer::l2_squared(const PreparedQuery& query, const std::uint8_t* code,
                               const CodeFactors& f, float epsilon) const {
  float rounding;
  const float xy = estimate_dot(query, code, f, &rounding);
  return {f.norm * f.norm + query.y_norm * query.y_norm - 2.0f * xy,
          2.0f * epsilon * spread(query, f, rounding)};
}

Estimate Quantizer::negative_dot(const PreparedQuery& query, const std::uint8_t* code,
                                 const CodeFactors& f, float epsilon) const {
  float rounding;
  const float xy = estimate_dot(query, code, f, &rounding);
  return {-(xy + query.center_dot), epsilon * spread(query, f, rounding)};
}

}  // namespace embedding::quant
