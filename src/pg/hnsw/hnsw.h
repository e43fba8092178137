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

namespace embedding::pg::hnsw {

// The phases of a build after "initializing", as pg_stat_progress_create_index names them
// (hnsw_buildphasename): reading the table, linking the in-memory graph, writing the pages.
enum BuildPhase : int64 {
  kPhaseLoad = PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE + 1,
  kPhaseLink,
  kPhaseWrite,
};

// The most dimensions an index takes for each format (pgvector's limits): 2,000 float4, 4,000
// halfs, 64,000 bits (8,000 bytes each, so that an element fits on a page; kMaxVectorBytes in
// pages.h), 1e9 for sparsevec (whose limit is 1,000 non-zero elements instead).
int max_index_dimensions(embedding::hnsw::Format format);

// How this index AM builds graphs, for the in-memory build and for inserts on disk alike.
embedding::hnsw::BuildTuning index_tuning(Size vector_bytes);

// The metric an opclass stands for, from its support functions (1: distance, 2: norm).
embedding::hnsw::Metric index_metric(Relation index);
// The storage format of the indexed type (vector, halfvec or bit).
embedding::hnsw::Format index_format(Relation index);
// Dimensions of the indexed column from its typmod; throws for unsupported columns.
int index_dimensions(Relation index, embedding::hnsw::Format format);
// Copies `value` (a Datum of the index's type) into out as `format` stores it (padding zeroed;
// normalised for cosine) and returns its bytes; 0 when the vector cannot be indexed (a zero
// vector under cosine). Throws when it needs more than `capacity` bytes (pgvector's message
// for a sparsevec with more than 1,000 elements when capacity is kMaxVectorBytes).
Size prepare_vector(Datum value, embedding::hnsw::Metric metric, embedding::hnsw::Format format,
                    int dimensions, void* out, Size capacity);

}  // namespace embedding::pg::hnsw

extern "C" {
IndexBuildResult* hnsw_build(Relation heap, Relation index, IndexInfo* info);
void hnsw_buildempty(Relation index);
bool hnsw_insert(Relation index, Datum* values, bool* isnull, ItemPointer heap_tid, Relation heap,
                 IndexUniqueCheck check_unique, bool index_unchanged, IndexInfo* info);
IndexBulkDeleteResult* hnsw_bulkdelete(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                                       IndexBulkDeleteCallback callback, void* callback_state);
IndexBulkDeleteResult* hnsw_vacuumcleanup(IndexVacuumInfo* info, IndexBulkDeleteResult* stats);
void hnsw_costestimate(PlannerInfo* root, IndexPath* path, double loop_count, Cost* startup_cost,
                       Cost* total_cost, Selectivity* selectivity, double* correlation,
                       double* pages);
IndexScanDesc hnsw_beginscan(Relation index, int nkeys, int norderbys);
void hnsw_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
bool hnsw_gettuple(IndexScanDesc scan, ScanDirection dir);
void hnsw_endscan(IndexScanDesc scan);
}
