// ivfflat scan: the centers ranked by distance to the query, the `ivfflat.probes` nearest lists
// read (each page under its share lock) and their rows returned by distance. A quantised index
// ranks the rows of those lists by lower bounds from their codes and re-ranks from the entries.
#include <algorithm>
#include <cstring>
#include <memory>
#include <numeric>
#include <vector>

#include "core/common/error.h"
#include "pg/am/routine.h"
#include "pg/guard.h"
#include "pg/ivfflat/centers.h"
#include "pg/ivfflat/codes.h"
#include "pg/ivfflat/ivfflat.h"
#include "pg/ivfflat/options.h"
#include "pg/pg_call.h"

extern "C" {
#include "access/relscan.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
}

namespace embedding::pg::ivfflat {
namespace {

struct Hit {
  float distance;
  ItemPointerData tid;
};

// A row of a quantised index waiting in the scan's heap: a lower bound of its distance from its
// code until its entry is read, then the exact distance.
struct Candidate {
  float key;
  bool exact;
  ItemPointerData entry;
  ItemPointerData heap_tid;
};
// std::push_heap's order for a min-heap; at equal keys exact rows come out first.
bool later(const Candidate& a, const Candidate& b) {
  return a.key > b.key || (a.key == b.key && !a.exact && b.exact);
}

struct ScanState {
  bool started = false;
  Centers centers;
  std::vector<uint32> query;
  std::vector<int> order;  // lists, nearest center first
  std::vector<float> center_distance;
  std::size_t probed = 0;  // lists of `order` read so far
  std::vector<Hit> hits;   // the current batch, sorted
  std::size_t pos = 0;
  // Quantised indexes.
  std::unique_ptr<embedding::VectorDistance> distance;
  std::vector<Candidate> heap;
  std::vector<float> query_floats;
  std::unique_ptr<quant::ListCodes> layout;
  std::unique_ptr<quant::SlotCodec> codec;  // of the list being read
  quant::SlotEstimator estimator;
  float estimates[kCodeRows];

  void reset() {
    heap.clear();
    started = false;
    order.clear();
    probed = 0;
    hits.clear();
    pos = 0;
  }
};

// Calls visit(item, tuple) for each used item of the chain from `block` on, each page under its
// share lock; `visit` returns false for an item that is not what the chain holds, which stops the
// walk with the error `bad` once the page is released.
template <typename Visit>
void walk_chain(Relation index, BlockNumber block, const char* bad, Visit&& visit) {
  while (block != InvalidBlockNumber) {
    check_for_interrupts();
    Buffer buf = ReadBuffer(index, block);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buf);
    const OffsetNumber max = PageGetMaxOffsetNumber(page);
    bool ok = true;
    for (OffsetNumber off = FirstOffsetNumber; off <= max && ok; ++off) {
      ItemId item = PageGetItemId(page, off);
      if (ItemIdIsUsed(item)) ok = visit(item, PageGetItem(page, item));
    }
    block = page_opaque(page)->next;
    UnlockReleaseBuffer(buf);
    if (!ok) corrupt(index, bad);
  }
}

// Reads the entries of `list` into s.hits with their distance to the query.
void read_list(Relation index, ScanState& s, const embedding::VectorDistance& distance, int list) {
  const Size size = entry_size(s.centers.meta);
  walk_chain(index, s.centers.first[list], "", [&](ItemId item, const void* tuple) {
    if (ItemIdGetLength(item) < size) return true;  // not an entry: skipped, as always
    const auto* entry = static_cast<const EntryTuple*>(tuple);
    s.hits.push_back(
        {embedding::orderable(distance(s.query.data(), entry->vector)), entry->heap_tid});
    return true;
  });
}

// Puts the rows of `list`'s code blocks into s.heap with lower bounds of their distances.
void read_codes(Relation index, ScanState& s, int list) {
  const MetaPage& meta = s.centers.meta;
  // No codes: no codec to build (its rotation costs as much as reading a page of codes).
  if (s.centers.code_first[list] == InvalidBlockNumber) return;
  s.codec = list_codec(meta, s.centers.vector(list));
  s.estimator.prepare(*s.codec, s.query_floats.data(), static_cast<float>(gucs.quantized_epsilon));
  const Size size = code_block_size(meta);
  walk_chain(index, s.centers.code_first[list], "bad code block", [&](ItemId item, const void* t) {
    const auto* tuple = static_cast<const CodeBlockTuple*>(t);
    if (ItemIdGetLength(item) < size || tuple->count > kCodeRows) return false;
    s.estimator.estimate_list(*s.layout, tuple->area, tuple->count, s.estimates);
    for (int row = 0; row < tuple->count; ++row) {
      s.heap.push_back(
          {embedding::orderable(s.estimates[row]), false, tuple->entry[row], tuple->heap[row]});
      std::push_heap(s.heap.begin(), s.heap.end(), later);
    }
    return true;
  });
}

// The exact distance of `c` from its entry; false when the entry is gone or now holds another row.
bool exact_distance(Relation index, ScanState& s, Candidate& c) {
  const BlockNumber block = ItemPointerGetBlockNumber(&c.entry);
  const OffsetNumber off = ItemPointerGetOffsetNumber(&c.entry);
  if (block == kMetaBlock) return false;  // a block past the end: ReadBuffer's error
  Buffer buf = ReadBuffer(index, block);
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  Page page = BufferGetPage(buf);
  bool found = false;
  if (off >= FirstOffsetNumber && off <= PageGetMaxOffsetNumber(page)) {
    ItemId item = PageGetItemId(page, off);
    if (ItemIdIsNormal(item) && ItemIdGetLength(item) >= entry_size(s.centers.meta)) {
      const auto* entry = reinterpret_cast<const EntryTuple*>(PageGetItem(page, item));
      found = ItemPointerEquals(const_cast<ItemPointerData*>(&entry->heap_tid), &c.heap_tid);
      if (found) c.key = embedding::orderable((*s.distance)(s.query.data(), entry->vector));
    }
  }
  UnlockReleaseBuffer(buf);
  c.exact = true;
  return found;
}

// The next row of a quantised scan in exact order, from the lists read so far; false when none.
bool next_candidate(Relation index, ScanState& s, ItemPointerData* tid) {
  while (!s.heap.empty()) {
    std::pop_heap(s.heap.begin(), s.heap.end(), later);
    Candidate c = s.heap.back();
    s.heap.pop_back();
    if (c.exact) {
      *tid = c.heap_tid;
      return true;
    }
    check_for_interrupts();
    if (!exact_distance(index, s, c)) continue;
    s.heap.push_back(c);
    std::push_heap(s.heap.begin(), s.heap.end(), later);
  }
  return false;
}

// Reads the next `count` lists of the order into a new sorted batch; false when none are left.
bool next_batch(Relation index, ScanState& s, std::size_t count) {
  if (s.probed >= s.order.size()) return false;
  const MetaPage& meta = s.centers.meta;
  if (quantized(meta)) {
    const std::size_t end = std::min(s.order.size(), s.probed + count);
    for (; s.probed < end; ++s.probed) read_codes(index, s, s.order[s.probed]);
    return true;
  }
  const embedding::VectorDistance distance(static_cast<Metric>(meta.metric), meta.dimensions,
                                           static_cast<Format>(meta.format));
  s.hits.clear();
  s.pos = 0;
  const std::size_t end = std::min(s.order.size(), s.probed + count);
  for (; s.probed < end; ++s.probed) read_list(index, s, distance, s.order[s.probed]);
  std::sort(s.hits.begin(), s.hits.end(), [](const Hit& a, const Hit& b) {
    return a.distance < b.distance ||
           (a.distance == b.distance &&
            ItemPointerCompare(const_cast<ItemPointerData*>(&a.tid),
                               const_cast<ItemPointerData*>(&b.tid)) < 0);
  });
  return true;
}

void start(IndexScanDesc scan, ScanState& s) {
  s.started = true;
  if (scan->numberOfOrderBys == 0 || scan->orderByData == nullptr)
    throw Error(ErrorCode::kFeature, "cannot scan ivfflat index without order");
  pgstat_count_index_scan(scan->indexRelation);
  read_centers(scan->indexRelation, s.centers);
  const MetaPage& meta = s.centers.meta;
  const auto format = static_cast<Format>(meta.format);
  const auto metric = static_cast<Metric>(meta.metric);
  s.query.assign(embedding::element_bytes(format, meta.dimensions) / sizeof(uint32), 0);
  ScanKey key = &scan->orderByData[0];
  // A NULL query, or a zero one under cosine, orders nothing: the rows come back in list order
  // (every distance from the zero vector then ranks the same), as in pgvector.
  if (!(key->sk_flags & SK_ISNULL) &&
      prepare_vector(key->sk_argument, metric, format, meta.dimensions, s.query.data(),
                     s.query.size() * sizeof(uint32), "ivfflat") == 0)
    std::fill(s.query.begin(), s.query.end(), 0);
  // The lists by their center's distance to the query (stable: ties keep list order).
  const embedding::VectorDistance rank(center_metric(metric), meta.dimensions, format);
  s.center_distance.resize(meta.lists);
  for (int list = 0; list < meta.lists; ++list)
    s.center_distance[list] = embedding::orderable(rank(s.query.data(), s.centers.vector(list)));
  s.order.resize(meta.lists);
  std::iota(s.order.begin(), s.order.end(), 0);
  std::stable_sort(s.order.begin(), s.order.end(),
                   [&](int a, int b) { return s.center_distance[a] < s.center_distance[b]; });
  if (quantized(meta)) {
    s.distance = std::make_unique<embedding::VectorDistance>(metric, meta.dimensions, format);
    s.query_floats.resize(meta.dimensions);
    quant::stored_floats(format, s.query.data(), meta.dimensions, s.query_floats.data());
    s.layout = std::make_unique<quant::ListCodes>(code_layout(meta));
  }
  const std::size_t probes = std::min<std::size_t>(gucs.probes, meta.lists);
  next_batch(scan->indexRelation, s, probes);
}

bool get_tuple(IndexScanDesc scan, ScanState& s) {
  if (!s.started) start(scan, s);
  for (;;) {
    if (quantized(s.centers.meta) && next_candidate(scan->indexRelation, s, &scan->xs_heaptid)) {
      scan->xs_recheck = false;
      scan->xs_recheckorderby = false;
      return true;
    }
    if (s.pos < s.hits.size()) {
      scan->xs_heaptid = s.hits[s.pos++].tid;
      scan->xs_recheck = false;
      scan->xs_recheckorderby = false;
      return true;
    }
    // Out of rows: more lists only for an iterative scan (ivfflat.iterative_scan =
    // relaxed_order), up to ivfflat.max_probes lists in all, each batch in order, batches one
    // after another.
    if (static_cast<IterativeScan>(gucs.iterative_scan) == IterativeScan::kOff) return false;
    const std::size_t limit = std::max<std::size_t>(gucs.max_probes, gucs.probes);
    if (s.probed >= limit) return false;
    const std::size_t count = std::min<std::size_t>(std::max(gucs.probes, 1), limit - s.probed);
    if (!next_batch(scan->indexRelation, s, count)) return false;
  }
}

}  // namespace
}  // namespace embedding::pg::ivfflat

using namespace embedding::pg::ivfflat;

extern "C" IndexScanDesc ivfflat_beginscan(Relation index, int nkeys, int norderbys) {
  IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
  scan->opaque = embedding::pg::guarded(
      [&]() { return embedding::pg::new_owned<ScanState>(CurrentMemoryContext); });
  return scan;
}

extern "C" void ivfflat_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys,
                               int norderbys) {
  embedding::pg::copy_scan_keys(scan, keys, orderbys);
  static_cast<ScanState*>(scan->opaque)->reset();
}

extern "C" bool ivfflat_gettuple(IndexScanDesc scan, ScanDirection dir) {
  if (!IsMVCCSnapshot(scan->xs_snapshot))
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                    errmsg("non-MVCC snapshots are not supported with ivfflat")));
  return embedding::pg::guarded(
      [&]() { return get_tuple(scan, *static_cast<ScanState*>(scan->opaque)); });
}

extern "C" void ivfflat_endscan(IndexScanDesc scan) {
  static_cast<ScanState*>(scan->opaque)->reset();
}
