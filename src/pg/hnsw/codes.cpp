// Codes of quantised hnsw indexes (see codes.h).
#include "pg/hnsw/codes.h"

#include <algorithm>
#include <cmath>
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
  auto stride_of = [](std::size_t padded) {
    return padded * kCodeBits / 8 + sizeof(quant::CodeFactors);
  };
  auto fits = [&](std::size_t padded) {
    return item_footprint(neighbor_size(m, 0, stride_of(padded))) <= empty_page_free_space();
  };
  const std::size_t stride = stride_of(quant::padded_dims(dimensions));
  if (!fits(quant::padded_dims(dimensions))) {
    std::size_t most = 0;  // codes are padded to 64 coordinates
    while (fits(most + 64)) most += 64;
    throw Error(ErrorCode::kFeature, "hnsw quantization with m = " + std::to_string(m) +
                                         " supports up to " + std::to_string(most) + " dimensions");
  }
  return stride;
}

void encode_slot(const quant::SlotCodec& codec, embedding::hnsw::Format format, const void* vector,
                 uint8* slot) {
  float row[kMaxVectorBytes / sizeof(float) * 2];  // a halfvec's floats
  float scratch[2 * quant::padded_dims(kMaxVectorBytes / 2)];
  quant::stored_floats(format, vector, codec.dims(), row);
  codec.encode(row, slot, scratch);
}

namespace {

// Whether two slots hold the same code: at most 1% of the code bits and 0.1% of each factor differ.
bool same_code(const uint8* a, const uint8* b, std::size_t code_bytes) {
  std::size_t differing = 0;
  for (std::size_t i = 0; i < code_bytes; ++i) differing += __builtin_popcount(a[i] ^ b[i]);
  if (differing * 100 > code_bytes * 8) return false;
  float fa[3], fb[3];
  static_assert(sizeof fa == sizeof(quant::CodeFactors));
  std::memcpy(fa, a + code_bytes, sizeof fa);
  std::memcpy(fb, b + code_bytes, sizeof fb);
  for (int k = 0; k < 3; ++k)
    if (!(std::fabs(fa[k] - fb[k]) <= 1e-3f * std::max(std::fabs(fa[k]), std::fabs(fb[k])) + 1e-6f))
      return false;
  return true;
}

}  // namespace

std::size_t check_list_codes(Relation index, const MetaPage& meta, const std::vector<NodeId>& lists,
                             std::size_t limit) {
  IndexCodec codecs;
  const quant::SlotCodec& codec = codecs.of(index, meta);
  const std::size_t stride = meta.code_stride;
  const std::size_t capacity = 2u * meta.m;
  const quant::ListCodes layout = list_codes(meta);
  std::vector<uint8> stored(capacity * stride), computed(stride), area(layout.bytes());
  std::vector<NodeId> ids(capacity);
  std::vector<uint32> vector(kMaxVectorBytes / sizeof(uint32));
  const auto format = static_cast<embedding::hnsw::Format>(meta.format);
  const std::size_t step = std::max<std::size_t>(1, lists.size() / std::max<std::size_t>(limit, 1));
  std::size_t checked = 0;
  for (std::size_t i = 0; i < lists.size(); i += step) {
    const NodeId list = lists[i];
    std::size_t count = 0;
    pg_call([&] {
      with_page(index, node_block(list), [&](Page page) {
        auto* t = tuple_at<NeighborTuple>(page, node_offset(list), TupleType::kNeighbors);
        if (t == nullptr) return;
        count = std::min<std::size_t>(t->counts[0], capacity);
        const ItemPointerData* tids = neighbor_ids(t, 0);
        for (std::size_t k = 0; k < count; ++k) ids[k] = to_node(tids[k]);
        for (std::size_t k = 0; k < count; ++k)
          layout.get(neighbor_slots(t), k, stored.data() + k * stride);
      });
    });
    for (std::size_t k = 0; k < count; ++k) {
      bool found = false;
      pg_call([&] {
        found = with_element(index, ids[k], [&](const ElementTuple* e, Size) {
          if (e == nullptr || !matches(e, meta)) return false;
          std::memcpy(vector.data(), e->vector, vector_bytes(e));
          return true;
        });
      });
      if (!found) continue;  // the structural checks report missing elements
      encode_slot(codec, format, vector.data(), computed.data());
      // As a list stores it (the scale as a half).
      layout.put(area.data(), 0, computed.data());
      layout.get(area.data(), 0, computed.data());
      if (!same_code(stored.data() + k * stride, computed.data(), codec.code_bytes()))
        throw Error(ErrorCode::kCorruptData, "hnsw index is corrupt: neighbour list " +
                                                 node_text(list) + " holds a code of " +
                                                 node_text(ids[k]) +
                                                 " that does not match its vector");
      ++checked;
    }
  }
  return checked;
}

}  // namespace embedding::pg::hnsw
