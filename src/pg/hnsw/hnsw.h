// The hnsw index access method's callbacks (one phase a file: build, insert, scan, vacuum, cost,
// verify) and what they share: the metric and dimensions of an index.
#pragma once

extern "C" {
#include "postgres.h"

#include "access/amapi.h"
#include "access/genam.h"
#include "commands/progress.h"
#include "nodes/pathnodes.h"
#include "utils/rel.h"
}

#include "core/hnsw/params.h"
#include "pg/am/callbacks.h"
#include "pg/am/cost.h"
#include "pg/index_vector.h"

namespace embedding::pg::hnsw {

// The phases of a build after "initializing", as pg_stat_progress_create_index names them
// (hnsw_buildphasename): reading the table, linking the in-memory graph, writing the pages.
enum BuildPhase : int64 {
  kPhaseLoad = PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE + 1,
  kPhaseLink,
  kPhaseWrite,
};

// The planner's cost model of an hnsw scan (cost.cpp).
extern const embedding::pg::ScanCostModel kCostModel;

// How this index AM builds graphs, for the in-memory build and for inserts on disk alike.
embedding::hnsw::BuildTuning index_tuning(Size vector_bytes);

// Adds `vector` (prepared: normalised for cosine) for heap row `heap_tid` to the graph on disk
// (insert.cpp). Holds the graph lock (graph.h) shared, or exclusively when the new element may
// become the entry point. Used by aminsert and by a build that outgrew memory.
void insert_on_disk(Relation index, const void* vector, ItemPointer heap_tid);

// The index's format, metric and dimensions (index_vector.h), with "hnsw" in messages.
inline embedding::hnsw::Metric index_metric(Relation index) {
  return embedding::pg::index_metric(index, "hnsw");
}
inline embedding::hnsw::Format index_format(Relation index) {
  return embedding::pg::index_format(index, "hnsw");
}
inline int index_dimensions(Relation index, embedding::hnsw::Format format) {
  return embedding::pg::index_dimensions(index, format, "hnsw");
}

}  // namespace embedding::pg::hnsw

EMB_DECLARE_INDEX_AM_CALLBACKS(hnsw)
