// aminsert for hnsw: one new element placed on the pages (place.h) and linked into the on-disk
// graph with the core's insert algorithm over PageGraph.
#include <random>

#include "core/common/id_set.h"
#include "core/hnsw/insert.h"
#include "pg/guard.h"
#include "pg/hnsw/codes.h"
#include "pg/hnsw/graph.h"
#include "pg/hnsw/hnsw.h"
#include "pg/hnsw/options.h"
#include "pg/hnsw/place.h"
#include "pg/pg_call.h"

extern "C" {
#include "utils/memutils.h"
}

namespace embedding::pg::hnsw {
namespace {

// Working memory reused by every insert of this backend (owned by TopMemoryContext, so an error
// in the middle of an insert leaks nothing).
struct InsertContext {
  embedding::IdSet visited;
  VectorCache cache;
  IndexCodec codec;  // of the last quantised index inserted into
  embedding::hnsw::SearchScratch scratch;
  std::mt19937_64 rng{std::random_device{}()};
  uint32 vector[kMaxVectorBytes / sizeof(uint32)];  // the row, as the index stores it
};

InsertContext& insert_context() {
  static InsertContext* context = nullptr;
  if (context == nullptr) context = new_owned<InsertContext>(TopMemoryContext);
  return *context;
}

}  // namespace

void insert_on_disk(Relation index, const void* vector, ItemPointer heap_tid) {
  InsertContext& ctx = insert_context();
  MetaPage meta = read_meta(index);
  const int level =
      embedding::hnsw::sample_level(ctx.rng, embedding::hnsw::level_multiplier(meta.m));
  // Shared, unless this insert may become the entry point (checked again under the lock).
  GraphLock mode = level > meta.entry_level ? GraphLock::kExclusive : GraphLock::kShared;
  lock_graph(index, mode);
  meta = read_meta(index);
  if (mode == GraphLock::kShared && level > meta.entry_level) {
    unlock_graph(index, mode);
    mode = GraphLock::kExclusive;
    lock_graph(index, mode);
    meta = read_meta(index);
  }
  const embedding::hnsw::Params params{meta.m, meta.ef_construction};
  ItemPointerData etid = place_element(index, meta, vector, level, heap_tid, 1);
  ctx.cache.clear();
  PageGraph graph(index, meta, &ctx.cache, quantized(meta) ? &ctx.codec.of(index, meta) : nullptr);
  PageQueryDistance dist(graph, vector);
  embedding::hnsw::BuildTuning tuning = index_tuning(vector_bytes(meta, vector));
  tuning.narrow_reverse = true;  // see BuildTuning: halves the vectors an insert reads
  embedding::hnsw::insert(graph, to_node(etid), level, dist, ctx.visited, params, tuning,
                          ctx.scratch);
  unlock_graph(index, mode);
}

}  // namespace embedding::pg::hnsw

using namespace embedding::pg::hnsw;

extern "C" bool hnsw_insert(Relation index, Datum* values, bool* isnull, ItemPointer heap_tid,
                            Relation heap, IndexUniqueCheck check_unique, bool index_unchanged,
                            IndexInfo* info) {
  if (isnull[0]) return false;
  return embedding::pg::guarded([&]() {
    InsertContext& ctx = insert_context();
    MemoryContext old = MemoryContextSwitchTo(
        AllocSetContextCreate(CurrentMemoryContext, "hnsw insert", ALLOCSET_SMALL_SIZES));
    MemoryContext insert_cxt = CurrentMemoryContext;
    // The metapage knows the metric and dimensions: no catalog look-ups per row.
    const MetaPage meta = read_meta(index);
    if (embedding::pg::prepare_vector(values[0], static_cast<embedding::hnsw::Metric>(meta.metric),
                                      static_cast<embedding::hnsw::Format>(meta.format),
                                      static_cast<int>(meta.dimensions), ctx.vector,
                                      sizeof(ctx.vector), "hnsw") != 0)
      insert_on_disk(index, ctx.vector, heap_tid);
    MemoryContextSwitchTo(old);
    MemoryContextDelete(insert_cxt);
    return false;
  });
}
