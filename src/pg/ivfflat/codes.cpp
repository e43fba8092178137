// The codes of a quantised ivfflat index: supported columns, code block sizes and list codecs
// (see codes.h).
#include "pg/ivfflat/codes.h"

#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/quant/rotation.h"

namespace embedding::pg::ivfflat {
namespace {

Size block_size(std::size_t padded, int bits) {
  return offsetof(CodeBlockTuple, area) +
         quant::ListCodes::bytes_for(padded, static_cast<std::size_t>(kCodeRows), bits);
}

// Room for one item on an empty index page.
Size page_room() {
  return BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(PageOpaque)) -
         sizeof(ItemIdData);
}

}  // namespace

int code_bits_for(Format format, Metric metric, int dimensions) {
  if (format != Format::kFloat32 && format != Format::kFloat16)
    throw Error(ErrorCode::kFeature,
                "ivfflat quantization supports vector and halfvec columns only");
  if (!quant::slots_support(metric))
    throw Error(
        ErrorCode::kFeature,
        "ivfflat quantization supports the l2, inner product and cosine operator classes only");
  const int bits = dimensions < 256 ? 2 : 1;
  if (MAXALIGN(block_size(quant::padded_dims(dimensions), bits)) > page_room()) {
    std::size_t most = 0;  // codes are padded to 64 coordinates
    while (MAXALIGN(block_size(most + 64, 1)) <= page_room()) most += 64;
    throw Error(ErrorCode::kFeature,
                "ivfflat quantization supports up to " + std::to_string(most) + " dimensions");
  }
  return bits;
}

Size code_block_size(const MetaPage& meta) {
  return block_size(quant::padded_dims(meta.dimensions), meta.code_bits);
}

quant::ListCodes code_layout(const MetaPage& meta) {
  return quant::ListCodes(quant::padded_dims(meta.dimensions), kCodeRows, meta.code_bits);
}

std::unique_ptr<quant::SlotCodec> list_codec(const MetaPage& meta, const void* center) {
  std::vector<float> floats(meta.dimensions);
  quant::stored_floats(static_cast<Format>(meta.format), center, meta.dimensions, floats.data());
  return std::make_unique<quant::SlotCodec>(static_cast<Metric>(meta.metric), meta.dimensions,
                                            meta.code_bits, kCodeSeed, floats.data());
}

}  // namespace embedding::pg::ivfflat
