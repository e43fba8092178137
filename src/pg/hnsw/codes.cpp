// Codes of quantised hnsw indexes (see codes.h).
#include "pg/hnsw/codes.h"

#include <cstring>
#include <string>

#include "core/common/error.h"
#include "core/quant/rotation.h"
#include "pg/hnsw/buffers.h"
#include "pg/pg_call.h"

namespace embedding::pg::hnsw {

void set_quantized(MetaPage& meta, std::size_t stride, BlockNumber center_block) {
  meta.version = kQuantizedVersion;
  meta.code_bits = kCodeBits;
  meta.code_stride = static_cast<uint16>(stride);
  meta.center_block = center_block;
  meta.code_seed = 0x51a7e0c0dec0ffeeULL;
}

const quant::SlotCodec& IndexCodec::of(Relation index, const MetaPage& meta) {
  if (codec_ && RelFileNodeEquals(file_, index->rd_node) && seed_ == meta.code_seed &&
      center_block_ == meta.center_block)
    return *codec_;
  codec_.reset();
  center_.clear();
  if (meta.center_block != 0) {
    center_.assign(meta.dimensions, 0.0f);
    bool found = false;
    pg_call([&] {
      with_page(index, meta.center_block, [&](Page page) {
        auto* c = tuple_at<CenterTuple>(page, FirstOffsetNumber, TupleType::kCenter);
        found = c != nullptr && c->dimensions == meta.dimensions;
        if (found) std::memcpy(center_.data(), c->values, sizeof(float) * meta.dimensions);
      });
    });
    if (!found) corrupt(index, "missing centre of the codes", to_node(meta.center_block, 1));
  }
  codec_.emplace(static_cast<embedding::hnsw::Metric>(meta.metric), meta.dimensions, meta.code_bits,
                 meta.code_seed, center_.empty() ? nullptr : center_.data());
  if (codec_->stride() != meta.code_stride) {
    codec_.reset();
    throw Error(ErrorCode::kCorruptData, "hnsw index \"" +
                                             std::string(RelationGetRelationName(index)) +
                                             "\" has codes of an unknown layout");
  }
  file_ = index->rd_node;
  seed_ = meta.code_seed;
  center_block_ = meta.center_block;
  return *codec_;
}

std::size_t quantized_stride(int m, embedding::hnsw::Metric metric, embedding::hnsw::Format format,
                             int dimensions) {
  using embedding::hnsw::Format;
  if (format != Format::kFloat32 && format != Format::kFloat16)
    throw Error(ErrorCode::kFeature, "hnsw quantization supports vector and halfvec columns only");
  if (!quant::slots_support(metric))
    throw Error(
        ErrorCode::kFeature,
        "hnsw quantization supports the l2, inner product and cosine operator classes only");
  const std::size_t stride =
      quant::padded_dims(dimensions) * kCodeBits / 8 + sizeof(quant::CodeFactors);
  if (item_footprint(neighbor_size(m, 0, stride)) > empty_page_free_space())
    throw Error(
        ErrorCode::kFeature,
        "hnsw quantization with m = " + std::to_string(m) + " supports up to " +
            std::to_string(
                8 * ((empty_page_free_space() - 64) / (2 * m) - 6 - sizeof(quant::CodeFactors)) /
                kCodeBits / 64 * 64) +
            " dimensions");
  return stride;
}

void encode_slot(const quant::SlotCodec& codec, embedding::hnsw::Format format, const void* vector,
                 uint8* slot) {
  float row[kMaxVectorBytes / sizeof(float) * 2];  // a halfvec's floats
  float scratch[2 * quant::padded_dims(kMaxVectorBytes / 2)];
  quant::stored_floats(format, vector, codec.dims(), row);
  codec.encode(row, slot, scratch);
}

}  // namespace embedding::pg::hnsw
