// aminsert for hnsw: one new element linked into the on-disk graph (see insert.h).
#include "pg/hnsw/insert.h"

#include <algorithm>
#include <random>

#include "core/common/id_set.h"
#include "core/hnsw/insert.h"
#include "pg/guard.h"
#include "pg/hnsw/graph.h"
#include "pg/hnsw/hnsw.h"
#include "pg/hnsw/options.h"
#include "pg/pg_call.h"

extern "C" {
#include "access/transam.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
}

namespace embedding::pg::hnsw {
namespace {

// Working memory reused by every insert of this backend (owned by TopMemoryContext, so an error
// in the middle of an insert leaks nothing).
struct InsertContext {
  embedding::IdSet visited;
  VectorCache cache;
  embedding::hnsw::SearchScratch scratch;
  std::mt19937_64 rng{std::random_device{}()};
  uint32 vector[kMaxVectorBytes / sizeof(uint32)];  // the row, as the index stores it
};

InsertContext& insert_context() {
  static InsertContext* context = nullptr;
  if (context == nullptr) context = new_owned<InsertContext>(TopMemoryContext);
  return *context;
}

// Adds `item` to the locked page of `buf` and returns its offset; InvalidOffsetNumber if no room.
OffsetNumber add_item(Page page, const void* item, Size size) {
  if (PageGetFreeSpace(page) < MAXALIGN(size)) return InvalidOffsetNumber;
  return PageAddItem(page, static_cast<Item>(const_cast<void*>(item)), size, InvalidOffsetNumber,
                     false, false);
}

// A page with `needed` bytes free: the metapage's insert page if it has room, else a new page.
// Returns the buffer exclusively locked and registered in `state` (a new page is initialised).
Buffer page_with_room(Relation index, MetaPage& meta, Size needed, GenericXLogState* state,
                      Page* page) {
  if (meta.insert_page != InvalidBlockNumber && meta.insert_page != kMetaBlock) {
    Buffer buf = ReadBuffer(index, meta.insert_page);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    if (PageGetFreeSpace(BufferGetPage(buf)) >= needed) {
      *page = GenericXLogRegisterBuffer(state, buf, 0);
      return buf;
    }
    UnlockReleaseBuffer(buf);
  }
  LockRelationForExtension(index, ExclusiveLock);
  Buffer buf = ReadBuffer(index, P_NEW);
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  UnlockRelationForExtension(index, ExclusiveLock);
  *page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
  init_page(*page);
  meta.insert_page = BufferGetBlockNumber(buf);
  return buf;
}

// Overwrites a free element (see ElementState) with `element` (`esize` bytes) and empties its
// neighbour tuple for `level`, if every scan that might still read free elements has ended
// (MetaPage::free_after). Looks from meta.free_page on and moves it past pages without free
// elements (to 0 when none is left). Returns the element's TID, or false when none fits.
//
// Any free element fits a level-0 element (most inserts), so those take one from the first page
// that has any, and the pages skipped on the way are skipped for good. A higher level needs a
// free element of at least that level: the search for one gives up kMaxPagesForLevel pages
// after the first page with free elements.
bool reuse_free_element(Relation index, MetaPage& meta, ElementTuple* element, Size esize,
                        int level, ItemPointerData* etid) {
  constexpr BlockNumber kMaxPagesForLevel = 8;
  if (meta.free_page == 0 ||
      !GlobalVisCheckRemovableFullXid(nullptr, FullTransactionIdFromU64(meta.free_after)))
    return false;
  const BlockNumber nblocks = RelationGetNumberOfBlocks(index);
  BlockNumber first_free = 0;  // the first page seen with a free element
  for (BlockNumber block = meta.free_page; block < nblocks; ++block) {
    check_for_interrupts();
    if (first_free != 0 && block - first_free >= kMaxPagesForLevel) {
      meta.free_page = first_free;
      return false;
    }
    // The page is locked exclusively only once it has a slot; another insert may take that
    // slot meanwhile, so it is checked again under the exclusive lock.
    Buffer buf = ReadBuffer(index, block);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buf);
    // The free element of the lowest level that can take this one (its list has room for that
    // many levels), so that the rare high-level inserts still find a slot.
    OffsetNumber best = InvalidOffsetNumber;
    int best_level = embedding::hnsw::kMaxLevel + 1;
    for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); ++off) {
      Size size = 0;
      auto* old = tuple_at<ElementTuple>(page, off, TupleType::kElement, &size);
      if (old == nullptr || old->deleted != kFree) continue;
      if (first_free == 0) first_free = block;
      if (size >= esize && old->level >= level && old->level < best_level) {
        best = off;
        best_level = old->level;
      }
    }
    if (best != InvalidOffsetNumber) {
      LockBuffer(buf, BUFFER_LOCK_UNLOCK);
      LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
      const OffsetNumber off = best;
      Size size = 0;
      auto* old = tuple_at<ElementTuple>(page, off, TupleType::kElement, &size);
      if (old == nullptr || old->deleted != kFree || size < esize || old->level < level) {
        UnlockReleaseBuffer(buf);  // taken by another insert: look at this page again
        --block;
        continue;
      }
      const ItemPointerData ntid = old->neighbors;
      const BlockNumber list_block = ItemPointerGetBlockNumber(&ntid);
      Buffer nbuf = InvalidBuffer;
      if (list_block != block) {
        nbuf = ReadBuffer(index, list_block);  // only writers lock two pages: no deadlock
        LockBuffer(nbuf, BUFFER_LOCK_EXCLUSIVE);
      }
      auto* list =
          tuple_at<NeighborTuple>(BufferIsValid(nbuf) ? BufferGetPage(nbuf) : page,
                                  ItemPointerGetOffsetNumber(&ntid), TupleType::kNeighbors);
      if (list == nullptr || list->level < level) {
        if (BufferIsValid(nbuf)) UnlockReleaseBuffer(nbuf);
        UnlockReleaseBuffer(buf);
        NodeId node = (static_cast<NodeId>(block) << 16) | off;
        corrupt(index, "a free element lacks its neighbour list", node);
      }
      GenericXLogState* state = GenericXLogStart(index);
      Page epage = GenericXLogRegisterBuffer(state, buf, 0);
      Page npage = BufferIsValid(nbuf) ? GenericXLogRegisterBuffer(state, nbuf, 0) : epage;
      element->neighbors = ntid;
      memcpy(PageGetItem(epage, PageGetItemId(epage, off)), element, esize);
      auto* empty = reinterpret_cast<NeighborTuple*>(
          PageGetItem(npage, PageGetItemId(npage, ItemPointerGetOffsetNumber(&ntid))));
      empty->level = static_cast<uint8>(level);  // the tuple keeps its larger size
      std::fill(empty->counts, empty->counts + level + 1, uint16{0});
      GenericXLogFinish(state);
      if (BufferIsValid(nbuf)) UnlockReleaseBuffer(nbuf);
      UnlockReleaseBuffer(buf);
      meta.free_page = first_free;
      ItemPointerSet(etid, block, off);
      return true;
    }
    UnlockReleaseBuffer(buf);
  }
  meta.free_page = first_free;
  return false;
}

// Adds `element` (`esize` bytes, level `level`) and an empty neighbour tuple to a page with room,
// extending the index if needed; returns the element's TID and moves meta.insert_page along.
ItemPointerData add_element(Relation index, MetaPage& meta, ElementTuple* element, Size esize,
                            int level) {
  const Size nsize = neighbor_size(meta.m, level);
  auto* neighbors = static_cast<NeighborTuple*>(palloc0(nsize));
  neighbors->type = TupleType::kNeighbors;
  neighbors->level = static_cast<uint8>(level);
  neighbors->m = meta.m;

  const bool together = item_footprint(esize) + item_footprint(nsize) <= empty_page_free_space();
  GenericXLogState* state = GenericXLogStart(index);
  Page page;
  Buffer ebuf = page_with_room(index, meta,
                               together ? MAXALIGN(esize) + item_footprint(nsize) : MAXALIGN(esize),
                               state, &page);
  Buffer nbuf = InvalidBuffer;
  Page npage = page;
  if (!together || PageGetFreeSpace(page) < MAXALIGN(esize) + item_footprint(nsize)) {
    // Large vectors: the neighbour list goes on a page of its own.
    LockRelationForExtension(index, ExclusiveLock);
    nbuf = ReadBuffer(index, P_NEW);
    LockBuffer(nbuf, BUFFER_LOCK_EXCLUSIVE);
    UnlockRelationForExtension(index, ExclusiveLock);
    npage = GenericXLogRegisterBuffer(state, nbuf, GENERIC_XLOG_FULL_IMAGE);
    init_page(npage);
  }
  ItemPointerData ntid;
  OffsetNumber noff = add_item(npage, neighbors, nsize);
  ItemPointerSet(&ntid, BufferGetBlockNumber(BufferIsValid(nbuf) ? nbuf : ebuf), noff);
  element->neighbors = ntid;
  OffsetNumber eoff = add_item(page, element, esize);
  if (noff == InvalidOffsetNumber || eoff == InvalidOffsetNumber)
    elog(ERROR, "hnsw: failed to add index tuples to page");
  GenericXLogFinish(state);
  ItemPointerData etid;
  ItemPointerSet(&etid, BufferGetBlockNumber(ebuf), eoff);
  if (BufferIsValid(nbuf)) {
    meta.insert_page = BufferGetBlockNumber(nbuf);
    UnlockReleaseBuffer(nbuf);
  }
  UnlockReleaseBuffer(ebuf);
  pfree(neighbors);
  return etid;
}

}  // namespace

ItemPointerData place_element(Relation index, MetaPage& meta, const void* vector, int level,
                              const ItemPointerData* heap_tids, int heap_tid_count,
                              int reserved_tids) {
  const Size bytes = vector_bytes(meta, vector);
  const Size esize = element_size(bytes, std::max(heap_tid_count, reserved_tids));
  auto* element = static_cast<ElementTuple*>(palloc0(esize));
  element->type = TupleType::kElement;
  element->level = static_cast<uint8>(level);
  element->format = meta.format;
  element->heap_tid_count = static_cast<uint16>(heap_tid_count);
  element->dimensions = element_dimensions(meta);
  memcpy(element->vector, vector, bytes);
  for (int i = 0; i < heap_tid_count; ++i) hnsw::heap_tids(element)[i] = heap_tids[i];

  const MetaPage old_meta = meta;
  ItemPointerData etid;
  if (!reuse_free_element(index, meta, element, esize, level, &etid))
    etid = add_element(index, meta, element, esize, level);
  if (meta.insert_page != old_meta.insert_page || meta.free_page != old_meta.free_page) {
    // Only what this insert learnt: a VACUUM or another insert may have moved them since.
    modify_meta(index, [&](MetaPage& current) {
      bool changed = false;
      if (meta.insert_page != old_meta.insert_page && current.insert_page == old_meta.insert_page) {
        current.insert_page = meta.insert_page;
        changed = true;
      }
      if (meta.free_page != old_meta.free_page && current.free_page == old_meta.free_page) {
        current.free_page = meta.free_page;
        changed = true;
      }
      return changed;
    });
  }
  pfree(element);
  return etid;
}

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
  PageGraph graph(index, meta, &ctx.cache);
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
