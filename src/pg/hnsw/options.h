// hnsw index options (WITH (m, ef_construction)) and the hnsw.* GUCs, with pgvector's names,
// defaults and ranges.
#pragma once

extern "C" {
#include "postgres.h"

#include "nodes/pg_list.h"
#include "utils/rel.h"
}

#include "core/hnsw/params.h"

namespace embedding::pg::hnsw {

enum class IterativeScan { kOff = 0, kRelaxed = 1, kStrict = 2 };
// WITH (quantization = 'none' | 'rabitq'): whether neighbour lists carry codes (metapage version
// 2).
enum class Quantization { kNone = 0, kRabitq = 1 };

struct Gucs {
  int ef_search = 40;
  int iterative_scan = 0;  // IterativeScan
  int max_scan_tuples = 20000;
  double scan_mem_multiplier = 1.0;
  double quantized_epsilon = 0.0;  // quantised indexes: see SlotEstimator::prepare()
};
extern Gucs gucs;

// Registers the reloption kind and the GUCs; called once from _PG_init.
void register_options();
// The index's m and ef_construction, validated (ef_construction >= 2 * m).
embedding::hnsw::Params index_params(Relation index);
// The quantization the index was created with (its reloption; the metapage says what was built).
Quantization index_quantization(Relation index);

}  // namespace embedding::pg::hnsw

extern "C" bytea* hnsw_options(Datum reloptions, bool validate);
