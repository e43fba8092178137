// Index scans of hnsw: ORDER BY embedding <op> $1 walks the on-disk graph with the core's resumable
// layer-0 scan; with hnsw.iterative_scan it fetches further batches when a filter consumed the
// first.
#include <algorithm>
#include <optional>
#include <vector>

#include "core/common/error.h"
#include "core/common/id_set.h"
#include "core/hnsw/search.h"
#include "pg/am/routine.h"
#include "pg/guard.h"
#include "pg/hnsw/codes.h"
#include "pg/hnsw/expander.h"
#include "pg/hnsw/graph.h"
#include "pg/hnsw/hnsw.h"
#include "pg/hnsw/options.h"
#include "pg/pg_call.h"

extern "C" {
#include "access/relscan.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"
}

namespace embedding::pg::hnsw {
namespace {

using Scan = embedding::hnsw::LayerScan<PageGraph, PageQueryDistance, embedding::IdSet>;
using GuidedScan = embedding::hnsw::GuidedScan<PageExpander, embedding::IdSet>;

struct ScanState {
  bool started = false;
  bool exhausted = false;
  int batches = 0;
  std::size_t scanned = 0;
  float last_distance = -std::numeric_limits<float>::infinity();
  std::vector<uint32> query;  // prepared as the index stores vectors
  std::optional<PageGraph> graph;
  std::optional<PageQueryDistance> dist;
  embedding::IdSet visited;
  embedding::hnsw::SearchScratch scratch;
  std::optional<Scan> layer;
  // Quantised indexes: the scan steered by the lists' codes.
  IndexCodec codec;
  std::vector<float> query_floats;
  quant::SlotEstimator estimate;
  embedding::hnsw::GuidedScratch guided_scratch;
  std::optional<PageExpander> expander;
  std::optional<GuidedScan> guided;
  std::vector<Candidate> batch;
  std::size_t batch_pos = 0;
  std::vector<ItemPointerData> tids;  // heap rows of the element being returned
  std::size_t tid_pos = 0;

  void reset() {
    started = exhausted = false;
    batches = 0;
    scanned = 0;
    last_distance = -std::numeric_limits<float>::infinity();
    layer.reset();
    guided.reset();
    expander.reset();
    dist.reset();
    graph.reset();
    visited.reset();
    batch.clear();
    batch_pos = 0;
    tids.clear();
    tid_pos = 0;
  }
};

// Starts the search for the ORDER BY argument; false when nothing can be returned.
bool start(IndexScanDesc scan, ScanState& s) {
  s.started = true;
  if (scan->numberOfOrderBys == 0 || scan->orderByData == nullptr)
    throw Error(ErrorCode::kFeature, "cannot scan hnsw index without order");
  ScanKey key = &scan->orderByData[0];
  MetaPage meta = read_meta(scan->indexRelation);
  pgstat_count_index_scan(scan->indexRelation);
  const auto format = static_cast<embedding::hnsw::Format>(meta.format);
  const Size query_bytes = format == embedding::hnsw::Format::kSparse
                               ? kMaxQueryBytes
                               : embedding::hnsw::element_bytes(format, meta.dimensions);
  s.query.assign(query_bytes / sizeof(uint32), 0);
  // A NULL query, or a zero one under cosine (which has no direction), orders nothing: as in
  // pgvector the scan still returns the indexed rows, in the order of a search from the zero
  // vector (every cosine distance is then the same).
  if (!(key->sk_flags & SK_ISNULL) &&
      !prepare_vector(key->sk_argument, static_cast<embedding::hnsw::Metric>(meta.metric), format,
                      meta.dimensions, s.query.data(), query_bytes, "hnsw"))
    std::fill(s.query.begin(), s.query.end(), 0);  // zeros in every format
  // A search visits some 15-20 nodes per unit of ef (a guided one sees 40-60: every neighbour
  // of an expanded node): size the set once instead of growing it.
  s.visited = embedding::IdSet((quantized(meta) ? 64 : 24) *
                               static_cast<std::size_t>(std::max(gucs.ef_search, 10)));
  s.graph.emplace(scan->indexRelation, meta);
  s.dist.emplace(*s.graph, s.query.data());
  if (quantized(meta)) {
    const quant::SlotCodec& codec = s.codec.of(scan->indexRelation, meta);
    s.query_floats.resize(meta.dimensions);
    quant::stored_floats(format, s.query.data(), meta.dimensions, s.query_floats.data());
    s.estimate.prepare(codec, s.query_floats.data(), static_cast<float>(gucs.quantized_epsilon));
    s.expander.emplace(*s.graph, *s.dist, s.estimate, s.scratch, s.query.data());
    s.guided.emplace(*s.expander, s.visited, s.guided_scratch);
  } else {
    s.layer.emplace(*s.graph, *s.dist, s.visited, s.scratch);
  }
  return true;
}

// Copies the live heap TIDs of an element into the state; false for a deleted element.
bool load_tids(Relation index, NodeId node, ScanState& s) {
  s.tids.clear();
  s.tid_pos = 0;
  // Under the page's share lock: VACUUM edits the TID list. A dead or free element has no rows.
  with_element(index, node, [&s](const ElementTuple* element, Size) {
    if (element != nullptr && element->state == ElementState::kLive)
      s.tids.assign(heap_tids(element), heap_tids(element) + element->heap_tid_count);
  });
  return !s.tids.empty();
}

// Fetches the next batch of candidates; false when the scan is over.
bool next_batch(ScanState& s) {
  const auto mode = static_cast<IterativeScan>(gucs.iterative_scan);
  if (s.batches > 0 && mode == IterativeScan::kOff) return false;
  if (s.batches > 0 && s.scanned >= static_cast<std::size_t>(gucs.max_scan_tuples)) return false;
  const double memory_limit = work_mem * 1024.0 * gucs.scan_mem_multiplier;
  const std::size_t pending = s.guided ? s.guided->pending() * sizeof(embedding::hnsw::Pending)
                                       : s.layer->pending() * sizeof(Candidate);
  if (s.batches > 0 && pending > memory_limit) return false;
  s.batch.clear();
  s.batch_pos = 0;
  const auto ef = static_cast<std::size_t>(gucs.ef_search);
  if (!(s.guided ? s.guided->next_batch(ef, s.batch) : s.layer->next_batch(ef, s.batch)))
    return false;
  s.batches++;
  s.scanned += s.batch.size();
  if (mode == IterativeScan::kStrict && s.batches > 1)
    std::erase_if(s.batch, [&](const Candidate& c) { return c.distance < s.last_distance; });
  return true;
}

bool get_tuple(IndexScanDesc scan, ScanState& s) {
  if (!s.started && !start(scan, s)) s.exhausted = true;
  while (!s.exhausted) {
    if (s.tid_pos < s.tids.size()) {
      scan->xs_heaptid = s.tids[s.tid_pos++];
      scan->xs_recheck = false;
      scan->xs_recheckorderby = false;
      return true;
    }
    if (s.batch_pos < s.batch.size()) {
      const Candidate c = s.batch[s.batch_pos++];
      s.last_distance = std::max(s.last_distance, c.distance);
      load_tids(scan->indexRelation, c.node, s);
      continue;
    }
    check_for_interrupts();
    if (!next_batch(s)) s.exhausted = true;
  }
  return false;
}

}  // namespace
}  // namespace embedding::pg::hnsw

using namespace embedding::pg::hnsw;

extern "C" IndexScanDesc hnsw_beginscan(Relation index, int nkeys, int norderbys) {
  IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
  scan->opaque = embedding::pg::guarded(
      [&]() { return embedding::pg::new_owned<ScanState>(CurrentMemoryContext); });
  return scan;
}

extern "C" void hnsw_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys,
                            int norderbys) {
  embedding::pg::copy_scan_keys(scan, keys, orderbys);
  static_cast<ScanState*>(scan->opaque)->reset();
}

extern "C" bool hnsw_gettuple(IndexScanDesc scan, ScanDirection dir) {
  if (!IsMVCCSnapshot(scan->xs_snapshot))
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("non-MVCC snapshots are not supported with hnsw")));
  return embedding::pg::guarded(
      [&]() { return get_tuple(scan, *static_cast<ScanState*>(scan->opaque)); });
}

extern "C" void hnsw_endscan(IndexScanDesc scan) {
  // The state is freed with the scan's memory context; release its buffers now.
  static_cast<ScanState*>(scan->opaque)->reset();
}
