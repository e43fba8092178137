// SlotCodec and SlotEstimator (see slots.h).
#include "core/quant/slots.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/common/error.h"
#include "core/quant/code_kernels.h"
#include "core/vector/half.h"
#include "core/vector/kernels.h"

namespace embedding::quant {

void stored_floats(Format format, const void* vector, std::size_t dims, float* out) {
  if (format == Format::kFloat16)
    kernels::active().half_to_float(static_cast<const vec::Half*>(vector), out, dims);
  else
    std::memcpy(out, vector, dims * sizeof(float));
}

bool slots_support(Metric metric) {
  return metric == Metric::kL2 || metric == Metric::kInnerProduct || metric == Metric::kCosine;
}

SlotCodec::SlotCodec(Metric metric, std::size_t dims, int bits, std::uint64_t seed,
                     const float* center)
    : metric_(metric), quantizer_(dims, bits, seed, center) {
  if (!slots_support(metric))
    throw Error(ErrorCode::kInvalidParameter,
                "quantized codes support the l2, inner product and cosine distances only");
}

void SlotCodec::encode(const float* vector, std::uint8_t* slot, float* scratch) const {
  const CodeFactors f = quantizer_.encode(vector, slot, scratch);
  std::memcpy(slot + code_bytes(), &f, sizeof f);
}

void SlotEstimator::prepare(const SlotCodec& codec, const float* query, float epsilon) {
  codec_ = &codec;
  epsilon_ = epsilon;
  offset_ = codec.metric() == Metric::kCosine ? 1.0f : 0.0f;
  codec.quantizer().prepare(query, codec.metric() == Metric::kL2, query_);
  lut_.clear();
  if (codec.quantizer().bits() == 1) {
    const std::size_t bytes = codec.code_bytes();
    lut_.resize(bytes * 256);
    for (std::size_t j = 0; j < bytes; ++j) {
      float* table = &lut_[256 * j];
      const float* y = &query_.y[8 * j];
      table[0] = 0.0f;
      // Each b extends b without its highest bit by that bit's coordinate.
      for (unsigned b = 1; b < 256; ++b) {
        const unsigned high = 31u - static_cast<unsigned>(__builtin_clz(b));
        table[b] = table[b & ~(1u << high)] + y[high];
      }
    }
  }
  prepare_tables();
}

void SlotEstimator::prepare_tables() {
  const std::size_t padded = codec_->quantizer().padded();
  const float* y = query_.y.data();
  float top = 0.0f;
  for (std::size_t i = 0; i < padded; ++i) top = std::max(top, std::fabs(y[i]));
  step_ = top > 0.0f ? top / kLevels : 1.0f;
  tables_.resize(padded * 4);  // 16 entries a group of 4 coordinates
  for (std::size_t g = 0; g < padded / 4; ++g) {
    int q[4];
    for (int k = 0; k < 4; ++k)
      q[k] = std::clamp(static_cast<int>(std::lround(y[4 * g + k] / step_)), -kLevels, kLevels);
    for (unsigned b = 0; b < 16; ++b) {
      int sum = static_cast<int>(kTableBias);
      for (int k = 0; k < 4; ++k)
        if (b & (1u << k)) sum += q[k];
      tables_[16 * g + b] = static_cast<std::uint8_t>(sum);
    }
  }
}

void SlotEstimator::estimate_list(const ListCodes& layout, const std::uint8_t* area,
                                  std::size_t count, float* out) const {
  const CodeKernels& kernels = code_kernels();
  const std::size_t groups = layout.groups(), padded = 4 * groups;
  const int bits = layout.bits();
  const float* norms = layout.norms(area);
  const std::uint16_t* ratios = layout.ratios(area);
  const float bias = static_cast<float>(kTableBias) * static_cast<float>(groups);
  const bool l2 = codec_->metric() == Metric::kL2;
  const float y2 = query_.y_norm * query_.y_norm;
  // <g, y> = (2 / 2^B) sum_i k_i y_i + (1 / 2^B - 1) sum y, with sum_i k_i y_i = sum_b 2^b
  // sum_i bit_b(i) y_i, each plane's sum step * (block sum - bias).
  const float inv_levels = 1.0f / static_cast<float>(1u << bits);
  // The rounding of y: step^2 / 12 a set bit (half the coordinates) of plane b, times 4^b, then
  // (2 / 2^B)^2 on <g, y>.
  float plane_weights = 0.0f;
  for (int b = 0; b < bits; ++b) plane_weights += static_cast<float>(1u << (2 * b));
  const float rounding2 = step_ * step_ * static_cast<float>(padded) / 24.0f * plane_weights *
                          4.0f * inv_levels * inv_levels;
  std::uint32_t sums[kBlockRows];
  float level_sums[kBlockRows];
  for (std::size_t start = 0; start < count; start += kBlockRows) {
    const std::size_t block = start / kBlockRows, n = std::min(kBlockRows, count - start);
    std::fill(level_sums, level_sums + n, 0.0f);
    for (int b = 0; b < bits; ++b) {
      kernels.block_sums(layout.block(area, block, b), tables_.data(), groups, sums);
      const float weight = step_ * static_cast<float>(1u << b);
      for (std::size_t j = 0; j < n; ++j)
        level_sums[j] += weight * (static_cast<float>(sums[j]) - bias);
    }
    for (std::size_t j = 0; j < n; ++j) {
      const std::size_t i = start + j;
      const float norm = norms[i];
      const float scale = norm * vec::half_to_float(ratios[i]);
      const float xy =
          scale * (2.0f * inv_levels * level_sums[j] + (inv_levels - 1.0f) * query_.y_sum);
      float spread = 0.0f;
      if (epsilon_ != 0.0f) {
        const float error = bits == 1 ? one_bit_error(norm, scale, padded)
                                      : norm * vec::half_to_float(layout.errors(area)[i]);
        const float own = error * query_.y_norm;
        spread = epsilon_ * std::sqrt(own * own + scale * scale * rounding2);
      }
      out[i] = l2 ? norm * norm + y2 - 2.0f * xy - 2.0f * spread
                  : offset_ - (xy + query_.center_dot) - spread;
    }
  }
}

float SlotEstimator::one_bit_dot(const std::uint8_t* code) const {
  const std::size_t bytes = codec_->code_bytes();
  const float* lut = lut_.data();
  float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f;
  std::size_t j = 0;
  for (; j + 4 <= bytes; j += 4, lut += 1024) {
    s0 += lut[code[j]];
    s1 += lut[256 + code[j + 1]];
    s2 += lut[512 + code[j + 2]];
    s3 += lut[768 + code[j + 3]];
  }
  for (; j < bytes; ++j, lut += 256) s0 += lut[code[j]];
  return (s0 + s1) + (s2 + s3);
}

float SlotEstimator::operator()(const std::uint8_t* slot) const {
  CodeFactors f;
  std::memcpy(&f, slot + codec_->code_bytes(), sizeof f);
  const Quantizer& q = codec_->quantizer();
  if (!lut_.empty()) {
    // Quantizer::dot() with 1 bit: <g, y> = sum bit_i y_i - sum y / 2.
    const float xy = f.scale * (one_bit_dot(slot) - 0.5f * query_.y_sum);
    if (codec_->metric() == Metric::kL2)
      return f.norm * f.norm + query_.y_norm * query_.y_norm - 2.0f * xy -
             2.0f * epsilon_ * f.error * query_.y_norm;
    return offset_ - (xy + query_.center_dot) - epsilon_ * f.error * query_.y_norm;
  }
  const Estimate e = codec_->metric() == Metric::kL2 ? q.l2_squared(query_, slot, f, epsilon_)
                                                     : q.negative_dot(query_, slot, f, epsilon_);
  return offset_ + e.distance - e.bound;
}

}  // namespace embedding::quant
