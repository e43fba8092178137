// The codes of a quantised hnsw index (metapage version 2): the quantiser an index was built with
// (seed and bits in the metapage, centre on its own page), and a stored vector's code slot.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/quant/slots.h"
#include "pg/hnsw/pages.h"

namespace embedding::pg::hnsw {

// Bits a coordinate of the codes new quantised indexes store.
constexpr int kCodeBits = 1;

// Makes `meta` the metapage of a quantised index (version 2) with slots of `stride` bytes and its
// centre at `center_block` (0: none). The rotation's seed is fixed: builds stay reproducible.
void set_quantized(MetaPage& meta, std::size_t stride, BlockNumber center_block);

// A quantised index's codec, kept between calls (owned memory: it is not trivially destructible).
class IndexCodec {
 public:
  // The codec of `index` (`meta` its metapage): reused while the index's file, seed and centre
  // block are the ones it was made for, otherwise read again (the centre page, through pg_call).
  const quant::SlotCodec& of(Relation index, const MetaPage& meta);

 private:
  RelFileNode file_{};
  uint64 seed_ = 0;
  BlockNumber center_block_ = 0;
  std::vector<float> center_;
  std::optional<quant::SlotCodec> codec_;
};

// The stride of slots for an index of this metric, format and dimensions, or throws
// Error(kFeature) naming the limit when quantised lists would not fit a page.
std::size_t quantized_stride(int m, embedding::hnsw::Metric metric, embedding::hnsw::Format format,
                             int dimensions);

// Writes the slot of `vector` (stored in the index's format) to `slot`. No PostgreSQL calls.
void encode_slot(const quant::SlotCodec& codec, embedding::hnsw::Format format, const void* vector,
                 uint8* slot);

// hnsw_verify's check of a quantised index: compares the codes stored in up to `limit` of the
// given neighbour lists (evenly spread) with codes computed from their neighbours' vectors, and
// throws Error(kCorruptData) at the first that does not match (a few sign bits of coordinates
// near zero and the factors' last digits may differ between machines). Returns the links checked.
std::size_t check_list_codes(Relation index, const MetaPage& meta, const std::vector<NodeId>& lists,
                             std::size_t limit);

}  // namespace embedding::pg::hnsw
