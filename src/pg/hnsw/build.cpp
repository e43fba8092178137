// ambuild for hnsw: read the heap into the core's in-memory graph (merging identical vectors),
// link it with worker threads, write all pages, then WAL-log them in one pass. A graph that
// outgrows maintenance_work_mem is written out early and the remaining rows are inserted on disk.
#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "core/common/error.h"
#include "core/hnsw/coded_memory.h"
#include "core/hnsw/layout.h"
#include "core/hnsw/memory_graph.h"
#include "pg/am/build.h"
#include "pg/guard.h"
#include "pg/hnsw/codes.h"
#include "pg/hnsw/hnsw.h"
#include "pg/hnsw/options.h"
#include "pg/hnsw/pages.h"
#include "pg/pg_call.h"

extern "C" {
#include "access/tableam.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"
}

namespace embedding::pg::hnsw {
namespace {

using embedding::hnsw::MemoryGraph;
using embedding::hnsw::Metric;
using embedding::hnsw::NodeId;

struct BuildState {
  Relation index;
  Metric metric;
  embedding::hnsw::Format format;
  int dimensions;
  Size vector_bytes;  // of one stored vector (kSparse: the largest an index takes)
  embedding::hnsw::Params params;
  std::size_t memory_limit;
  std::unique_ptr<MemoryGraph> graph;
  std::vector<ItemPointerData> tids;  // the heap row of each graph node
  bool spilled = false;               // pages written; rows now go to disk
  double index_tuples = 0;
  std::vector<uint32> vector;  // the row being added, as the index stores it
  // Quantised (WITH (quantization = 'rabitq')): the slot stride, and while the pages are written,
  // the centre of the codes and every node's slot.
  Size code_stride = 0;
  std::vector<float> center;
  std::vector<uint8> slots;
  std::vector<uint8> list_slots;  // one list's slots, in its order
  // write_pages()'s plan: where each node's tuples go, and the nodes in block order. Kept here,
  // in memory the build's context owns, because page writing may raise a PostgreSQL error
  // (cancel, full disk) that would skip a local's destructor.
  std::vector<ItemPointerData> element_tids;
  std::vector<ItemPointerData> list_tids;
  std::vector<uint16> row_counts;
  std::vector<NodeId> order;
};

std::size_t bytes_per_row(const BuildState& s) {
  // Sparse vectors vary in size: the average so far (or a typical 16 elements at first).
  Size vector = s.vector_bytes;
  if (s.format == embedding::hnsw::Format::kSparse)
    vector = s.graph && s.graph->size() > 0 ? s.graph->stored_vector_bytes() / s.graph->size() + 8
                                            : 4 + 8 * 16;
  return MemoryGraph::estimate_bytes_per_node(vector, s.params) + sizeof(ItemPointerData);
}

// The heap rows of node `node` (not a duplicate): its own row, then those of the identical rows
// the core merged into it (up to max_heap_tids()). Writes them to out when it is not null.
int element_rows(const BuildState& s, NodeId node, ItemPointerData* out) {
  const auto& dups = s.graph->duplicates();  // (duplicate, original), sorted by original
  auto it = std::lower_bound(dups.begin(), dups.end(), node,
                             [](const auto& d, NodeId original) { return d.second < original; });
  int count = 0;
  if (out) out[count] = s.tids[node];
  ++count;
  for (; it != dups.end() && it->second == node; ++it) {
    if (out) out[count] = s.tids[it->first];
    ++count;
  }
  return count;
}

void link_graph(BuildState& s) {
  embedding::hnsw::BuildOptions options;
  options.threads = build_threads();
  options.progress = [](std::size_t done, std::size_t total) {
    check_for_interrupts();  // throws PgError: build() stops its workers, then rethrows
    pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, static_cast<int64>(done));
  };
  pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseLink);
  pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL,
                               static_cast<int64>(s.graph->size()));
  s.graph->build(options);
}

// Writes the metapage and every element and neighbour tuple of the in-memory graph, then
// WAL-logs all pages at once.
void write_pages(BuildState& s) {
  pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseWrite);
  const MemoryGraph& g = *s.graph;
  const std::size_t n = g.size();
  const Size stride = s.code_stride;
  MetaPage meta = new_meta(s.dimensions, s.params, s.metric, s.format);
  if (stride != 0) {
    // The codes, around the mean of the rows (the centre page goes at block 1).
    s.center = embedding::hnsw::mean_vector(g);
    set_quantized(meta, stride, s.center.empty() ? 0 : 1);
    const quant::SlotCodec codec(s.metric, s.dimensions, meta.code_bits, meta.code_seed,
                                 s.center.empty() ? nullptr : s.center.data());
    s.slots = embedding::hnsw::encode_nodes(g, codec, build_threads());
    s.list_slots.resize(2 * static_cast<std::size_t>(s.params.m) * stride);
  }

  // Pass 1: where each tuple goes. An element and its list share a page when they fit, and
  // pages are filled with clusters of graph neighbours (core/hnsw/layout.h).
  std::vector<ItemPointerData>& element_tids = s.element_tids;
  std::vector<ItemPointerData>& list_tids = s.list_tids;
  std::vector<uint16>& row_counts = s.row_counts;
  std::vector<NodeId>& order = s.order;  // nodes in block order
  element_tids.assign(n, ItemPointerData{});
  list_tids.assign(n, ItemPointerData{});
  row_counts.assign(n, 0);
  order.clear();
  for (NodeId i = 0; i < n; ++i)
    if (!g.is_duplicate(i)) row_counts[i] = static_cast<uint16>(element_rows(s, i, nullptr));
  auto pair_size = [&](NodeId i) {
    return item_footprint(element_size(g.vector_bytes(i), row_counts[i])) +
           item_footprint(neighbor_size(s.params.m, g.level(i), stride));
  };
  order.reserve(n);
  BlockNumber block = meta.center_block != 0 ? meta.center_block : kMetaBlock;
  Size free_space = 0;
  OffsetNumber offset = FirstOffsetNumber;
  auto next_page = [&] {
    ++block;
    free_space = empty_page_free_space();
    offset = FirstOffsetNumber;
  };
  auto take = [&](Size size) {
    if (item_footprint(size) > free_space) next_page();
    free_space -= item_footprint(size);
    ItemPointerData tid;
    ItemPointerSet(&tid, block, offset++);
    return tid;
  };
  embedding::hnsw::cluster_order(
      g, [&](NodeId i) { return pair_size(i) <= free_space; },
      [&](NodeId i) {
        if (pair_size(i) > free_space && pair_size(i) <= empty_page_free_space()) next_page();
        list_tids[i] = take(neighbor_size(s.params.m, g.level(i), stride));
        element_tids[i] = take(element_size(g.vector_bytes(i), row_counts[i]));
        order.push_back(i);
      },
      [&] {
        if (block <= std::max(kMetaBlock, meta.center_block) ||
            free_space < empty_page_free_space())
          next_page();
      });

  // The metapage (and the centre page).
  if (auto entry = g.entry_point()) {
    meta.entry = element_tids[entry->node];
    meta.entry_level = static_cast<int16>(entry->level);
  }
  meta.insert_page = n > 0 ? block : InvalidBlockNumber;
  Buffer buf = ReadBuffer(s.index, P_NEW);
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  init_meta_page(BufferGetPage(buf), meta);
  MarkBufferDirty(buf);
  UnlockReleaseBuffer(buf);
  if (meta.center_block != 0) {
    buf = ReadBuffer(s.index, P_NEW);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    Page page = BufferGetPage(buf);
    init_page(page);
    const Size size = offsetof(CenterTuple, values) + sizeof(float) * s.center.size();
    auto* center = static_cast<CenterTuple*>(palloc0(size));
    center->type = TupleType::kCenter;
    center->dimensions = static_cast<uint32>(s.center.size());
    memcpy(center->values, s.center.data(), sizeof(float) * s.center.size());
    if (BufferGetBlockNumber(buf) != meta.center_block ||
        PageAddItem(page, reinterpret_cast<Item>(center), size, InvalidOffsetNumber, false,
                    false) != FirstOffsetNumber)
      elog(ERROR, "hnsw: could not write the centre of the codes");
    pfree(center);
    MarkBufferDirty(buf);
    UnlockReleaseBuffer(buf);
  }

  // Pass 2: the tuples, page by page in block order.
  auto* element = static_cast<ElementTuple*>(palloc0(BLCKSZ));
  auto* list = static_cast<NeighborTuple*>(
      palloc0(neighbor_size(s.params.m, embedding::hnsw::kMaxLevel, stride)));
  buf = InvalidBuffer;
  auto add = [&](const ItemPointerData& tid, const void* item, Size size) {
    if (!BufferIsValid(buf) || BufferGetBlockNumber(buf) != ItemPointerGetBlockNumber(&tid)) {
      if (BufferIsValid(buf)) {
        MarkBufferDirty(buf);
        UnlockReleaseBuffer(buf);
      }
      // Between pages, with no buffer lock held (interrupts are held off under one).
      check_for_interrupts();
      buf = ReadBuffer(s.index, P_NEW);
      LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
      init_page(BufferGetPage(buf));
      if (BufferGetBlockNumber(buf) != ItemPointerGetBlockNumber(&tid))
        elog(ERROR, "hnsw: unexpected block %u while writing the index", BufferGetBlockNumber(buf));
    }
    OffsetNumber off = PageAddItem(BufferGetPage(buf), static_cast<Item>(const_cast<void*>(item)),
                                   size, InvalidOffsetNumber, false, false);
    if (off != ItemPointerGetOffsetNumber(&tid)) elog(ERROR, "hnsw: failed to add index tuple");
  };
  for (std::size_t k = 0; k < order.size(); ++k) {
    const NodeId i = order[k];
    const int level = g.level(i);
    const Size nsize = neighbor_size(s.params.m, level, stride);
    memset(list, 0, nsize);
    list->type = TupleType::kNeighbors;
    list->level = static_cast<uint8>(level);
    list->m = static_cast<uint16>(s.params.m);
    for (int l = 0; l <= level; ++l) {
      auto ids = g.neighbor_list(i, l);
      ItemPointerData* out = neighbor_ids(list, l);
      for (std::size_t k = 0; k < ids.size(); ++k) out[k] = element_tids[ids[k]];
      list->counts[l] = static_cast<uint16>(ids.size());
      if (l == 0 && stride != 0) {
        for (std::size_t k = 0; k < ids.size(); ++k)
          memcpy(&s.list_slots[k * stride], &s.slots[ids[k] * stride], stride);
        put_list_codes(stride, s.params.m, neighbor_slots(list), s.list_slots.data(), ids.size());
      }
    }
    add(list_tids[i], list, nsize);

    element->type = TupleType::kElement;
    element->level = static_cast<uint8>(level);
    element->state = ElementState::kLive;
    element->format = static_cast<uint8>(s.format);
    element->heap_tid_count = row_counts[i];
    element->neighbors = list_tids[i];
    element->dimensions = element_dimensions(meta);
    memcpy(element->vector, g.vector(i), g.vector_bytes(i));
    element_rows(s, i, heap_tids(element));
    add(element_tids[i], element, element_size(g.vector_bytes(i), row_counts[i]));
  }
  if (BufferIsValid(buf)) {
    MarkBufferDirty(buf);
    UnlockReleaseBuffer(buf);
  }
  pfree(element);
  pfree(list);

  s.element_tids = {};
  s.list_tids = {};
  s.row_counts = {};
  s.order = {};
  s.slots = {};
  s.list_slots = {};
  s.center = {};
  log_build_pages(s.index);
}

// Links and writes what is in memory, then frees it; later rows are inserted on disk.
void spill(BuildState& s) {
  link_graph(s);
  write_pages(s);
  s.graph.reset();
  s.tids = {};
  s.spilled = true;
}

void add_row(BuildState& s, ItemPointer tid, Datum value) {
  if (prepare_vector(value, s.metric, s.format, s.dimensions, s.vector.data(), kMaxVectorBytes,
                     "hnsw") == 0)
    return;
  s.index_tuples += 1;
  if (s.spilled) {
    insert_on_disk(s.index, s.vector.data(), tid);
    return;
  }
  if ((s.graph->size() + 1) * bytes_per_row(s) > s.memory_limit) {
    ereport(NOTICE, (errmsg("hnsw graph no longer fits into maintenance_work_mem after %zu tuples",
                            s.graph->size()),
                     errdetail("Building will take significantly more time."),
                     errhint("Increase maintenance_work_mem to speed up builds.")));
    spill(s);
    insert_on_disk(s.index, s.vector.data(), tid);
    return;
  }
  s.graph->add(s.vector.data());
  s.tids.push_back(*tid);
}

void build_callback(Relation index, ItemPointer tid, Datum* values, bool* isnull, bool alive,
                    void* state) {
  auto& s = *static_cast<BuildState*>(state);
  if (isnull[0]) return;
  // The callback runs inside the table scan's C frames: no exception may leave it.
  embedding::pg::guarded([&]() { add_row(s, tid, values[0]); });
}

}  // namespace
}  // namespace embedding::pg::hnsw

using namespace embedding::pg::hnsw;

extern "C" IndexBuildResult* hnsw_build(Relation heap, Relation index, IndexInfo* info) {
  return embedding::pg::guarded([&]() {
    MemoryContext build_cxt =
        AllocSetContextCreate(CurrentMemoryContext, "hnsw build", ALLOCSET_DEFAULT_SIZES);
    BuildState* s = embedding::pg::start_build<BuildState>(index, build_cxt);
    s->params = index_params(index);
    s->metric = index_metric(index);
    s->format = index_format(index);
    s->dimensions = index_dimensions(index, s->format);
    s->vector_bytes = s->format == embedding::hnsw::Format::kSparse
                          ? kMaxVectorBytes
                          : embedding::hnsw::element_bytes(s->format, s->dimensions);
    s->memory_limit = static_cast<std::size_t>(maintenance_work_mem) * 1024;
    if (index_quantization(index) != Quantization::kNone)
      s->code_stride = quantized_stride(s->params.m, s->metric, s->format, s->dimensions);
    s->vector.resize(kMaxVectorBytes / sizeof(uint32));
    // Reserve for the rows the planner expects, as far as memory allows.
    double expected = heap->rd_rel->reltuples > 0 ? heap->rd_rel->reltuples : 1000;
    std::size_t capacity = static_cast<std::size_t>(
        std::min<double>(expected, static_cast<double>(s->memory_limit / bytes_per_row(*s))));
    s->graph = std::make_unique<embedding::hnsw::MemoryGraph>(
        s->dimensions, s->metric, s->params,
        /*seed=*/0x5eed, capacity, index_tuning(s->vector_bytes), s->format);
    s->tids.reserve(capacity);

    embedding::pg::report_build_threads(embedding::pg::build_threads(),
                                        "The hnsw graph is linked by threads of this backend.");
    pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, kPhaseLoad);
    // No synchronized scan: starting where another scan of a large table happens to be would
    // rotate the insertion order, and the graph (and its recall) would change from build to build.
    // The scan's count is every live heap row, also those a partial index's predicate leaves
    // out: PostgreSQL stores it as the table's row count.
    const double heap_tuples = table_index_build_scan(
        heap, index, info, /*allow_sync=*/false, /*progress=*/true, build_callback, s, nullptr);
    if (!s->spilled) {
      link_graph(*s);
      write_pages(*s);
    }
    return embedding::pg::finish_build(build_cxt, heap_tuples, s->index_tuples);
  });
}

// The init fork of an unlogged index: just the metapage, written and WAL-logged directly.
extern "C" void hnsw_buildempty(Relation index) {
  embedding::pg::guarded([&]() {
    Page page = static_cast<Page>(palloc(BLCKSZ));
    const embedding::hnsw::Format format = index_format(index);
    const embedding::hnsw::Params params = index_params(index);
    const int dimensions = index_dimensions(index, format);
    MetaPage meta = new_meta(dimensions, params, index_metric(index), format);
    if (index_quantization(index) != Quantization::kNone)
      set_quantized(meta, quantized_stride(params.m, index_metric(index), format, dimensions), 0);
    init_meta_page(page, meta);
    embedding::pg::write_init_fork(index, &page, 1);
  });
}
