// The codes of a quantised ivfflat index (quantization = 'rabitq'): which columns and sizes they
// support, the size of a code block, and each list's codec (RaBitQ around the list's center).
#pragma once

#include <cstddef>
#include <memory>

#include "core/quant/slots.h"
#include "pg/ivfflat/pages.h"

namespace embedding::pg::ivfflat {

// Every list's codec uses this seed: the rotation is the same for all of them.
constexpr std::uint64_t kCodeSeed = 0x1f1a7c0de5ULL;

// Bits a coordinate for an index of `dimensions`: 2 below 256, 1 from 256 up. Throws
// Error(kFeature) for a format, metric or size codes do not support.
int code_bits_for(Format format, Metric metric, int dimensions);
// Bytes of a CodeBlockTuple of the index.
Size code_block_size(const MetaPage& meta);
// The layout of a code block's area.
quant::ListCodes code_layout(const MetaPage& meta);
// The codec of the list whose center is `center` (stored as the index stores vectors).
std::unique_ptr<quant::SlotCodec> list_codec(const MetaPage& meta, const void* center);

}  // namespace embedding::pg::ivfflat
