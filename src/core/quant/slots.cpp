// SlotCodec and SlotEstimator (see slots.h).
#include "core/quant/slots.h"

#include <cstring>

#include "core/common/error.h"
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

void SlotEstimator::prepare(const SlotCodec& codec, const float* query) {
  codec_ = &codec;
  offset_ = codec.metric() == Metric::kCosine ? 1.0f : 0.0f;
  codec.quantizer().prepare(query, codec.metric() == Metric::kL2, query_);
}

float SlotEstimator::operator()(const std::uint8_t* slot) const {
  CodeFactors f;
  std::memcpy(&f, slot + codec_->code_bytes(), sizeof f);
  const Quantizer& q = codec_->quantizer();
  if (codec_->metric() == Metric::kL2) return q.l2_squared(query_, slot, f).distance;
  return offset_ + q.negative_dot(query_, slot, f).distance;
}

}  // namespace embedding::quant
