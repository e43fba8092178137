// Codes as an index stores them: a slot is a code followed by its CodeFactors, and a SlotEstimator
// turns a slot into an estimated distance on the scale the index orders by (VectorDistance's).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/quant/list_codes.h"
#include "core/quant/rabitq.h"
#include "core/vector/format.h"

namespace embedding::quant {

// A stored vector (format.h; float32 or float16) as `dims` floats in `out`.
void stored_floats(Format format, const void* vector, std::size_t dims, float* out);

// Whether codes can estimate `metric` (squared L2, negative inner product, cosine distance).
bool slots_support(Metric metric);

// The quantiser of one index and the metric its distances use.
class SlotCodec {
 public:
  // Throws Error(kInvalidParameter) for a metric slots_support() rejects. `center` (dims
  // values) may be null for the origin.
  SlotCodec(Metric metric, std::size_t dims, int bits, std::uint64_t seed, const float* center);

  Metric metric() const { return metric_; }
  const Quantizer& quantizer() const { return quantizer_; }
  std::size_t dims() const { return quantizer_.dims(); }
  std::size_t code_bytes() const { return quantizer_.code_bytes(); }
  // Bytes of a slot: the code, then the factors (a multiple of 4: codes fill 64-bit words).
  std::size_t stride() const { return code_bytes() + sizeof(CodeFactors); }
  std::size_t scratch_floats() const { return quantizer_.scratch_floats(); }

  // Writes the slot of `vector` (dims values as the index stores them: normalised for cosine).
  void encode(const float* vector, std::uint8_t* slot, float* scratch) const;

 private:
  Metric metric_;
  Quantizer quantizer_;
};

// Estimates the distances from one query to slots.
class SlotEstimator {
 public:
  SlotEstimator() = default;
  // `query`: dims values, prepared as the index prepares vectors. With `epsilon` > 0 the
  // estimates are lower bounds: the estimate less epsilon times its error's standard deviation
  // (see CodeFactors), so that a search that drops what cannot beat its results drops a true
  // neighbour less often.
  void prepare(const SlotCodec& codec, const float* query, float epsilon = 0.0f);
  // The estimated distance to the vector of `slot` (same scale as the exact one).
  float operator()(const std::uint8_t* slot) const;
  // The estimated distances to the first `count` neighbours of a list's codes (`area`, laid out
  // by `layout`) into out[0, count): the block kernel with the query rounded to 6-bit levels.
  void estimate_list(const ListCodes& layout, const std::uint8_t* area, std::size_t count,
                     float* out) const;

 private:
  // 1-bit codes: sum_i bit_i * y_i read from per-byte tables (lut_[256 * j + b]: the sum of the
  // y of byte j's coordinates whose bits are set in b), one look-up a byte instead of a bit loop.
  float one_bit_dot(const std::uint8_t* code) const;
  void prepare_tables();

  // The list estimates' tables: y_i rounded to step_ * q_i, q_i in [-31, 31]; group g's entry for
  // nibble b is kTableBias + the sum of q_i over its set bits (block_sums wants unsigned values).
  static constexpr int kLevels = 31;
  static constexpr unsigned kTableBias = 4 * kLevels;
  std::vector<std::uint8_t> tables_;
  float step_ = 0.0f;

  const SlotCodec* codec_ = nullptr;
  PreparedQuery query_;
  std::vector<float> lut_;
  float offset_ = 0.0f;  // 1 for cosine: 1 - dot
  float epsilon_ = 0.0f;
};

}  // namespace embedding::quant
