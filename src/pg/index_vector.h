// What the vector index access methods (hnsw, ivfflat) share about the indexed column: its
// storage format (from the column's type), the metric (from the opclass's support functions),
// its dimensions, and a value prepared as the index stores it.
#pragma once

extern "C" {
#include "postgres.h"

#include "utils/rel.h"
}

#include "core/vector/format.h"

namespace embedding::pg {

using embedding::Format;
using embedding::Metric;

// The most dimensions an index takes for each format (pgvector's limits): 2,000 float4, 4,000
// halfs, 64,000 bits (8,000 bytes each, so that an element fits on a page), 1e9 for sparsevec
// (whose limit is 1,000 non-zero elements instead).
int max_index_dimensions(Format format);
// The metric an opclass stands for, from its support functions (1: distance, 2: norm, whose
// presence means cosine). `am` names the access method in messages ("hnsw", "ivfflat").
Metric index_metric(Relation index, const char* am);
// The storage format of the indexed column's type (vector, halfvec, bit or sparsevec).
Format index_format(Relation index, const char* am);
// Dimensions of the indexed column from its typmod; throws for columns without or with too many.
int index_dimensions(Relation index, Format format, const char* am);
// Copies `value` (a Datum of the index's type) into out as `format` stores it (padding zeroed;
// normalised for cosine) and returns its bytes; 0 when the vector cannot be indexed (a zero
// vector under cosine). Throws when it needs more than `capacity` bytes (pgvector's message
// for a sparsevec with more than 1,000 elements when capacity is kMaxVectorBytes). `am` names
// the access method in messages.
Size prepare_vector(Datum value, Metric metric, Format format, int dimensions, void* out,
                    Size capacity, const char* am);

}  // namespace embedding::pg
