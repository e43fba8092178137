// Where a new element's tuples go on the hnsw pages: into a free element VACUUM left, else onto
// the insert page or a new one, with its empty neighbour list (see place.h).
#include "pg/hnsw/place.h"

#include <algorithm>

#include "pg/hnsw/buffers.h"
#include "pg/pg_call.h"

extern "C" {
#include "access/transam.h"
#include "storage/lmgr.h"
#include "utils/snapmgr.h"
}

namespace embedding::pg::hnsw {
namespace {

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
    // The free element of the lowest level that can take this one (its list has room for that
    // many levels), so that the rare high-level inserts still find a slot. Found under a share
    // lock; another insert may take it before the exclusive locks, so it is checked again then.
    struct Slot {
      OffsetNumber offset;
      ItemPointerData list;  // its neighbour tuple
      bool any_free;
    };
    const Slot slot = with_page(index, block, [&](Page page) {
      Slot best{InvalidOffsetNumber, {}, false};
      int best_level = embedding::hnsw::kMaxLevel + 1;
      for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); ++off) {
        Size size = 0;
        auto* old = tuple_at<ElementTuple>(page, off, TupleType::kElement, &size);
        if (old == nullptr || old->state != ElementState::kFree) continue;
        best.any_free = true;
        if (size >= esize && old->level >= level && old->level < best_level) {
          best.offset = off;
          best.list = old->neighbors;
          best_level = old->level;
        }
      }
      return best;
    });
    if (slot.any_free && first_free == 0) first_free = block;
    if (slot.offset == InvalidOffsetNumber) continue;
    // The element's page and its list's page, exclusively and in ascending block order.
    const ItemPointerData ntid = slot.list;
    const LockedPair pair = lock_pair(index, block, ItemPointerGetBlockNumber(&ntid));
    Page page = BufferGetPage(pair.first);
    Size size = 0;
    auto* old = tuple_at<ElementTuple>(page, slot.offset, TupleType::kElement, &size);
    if (old == nullptr || old->state != ElementState::kFree || size < esize || old->level < level ||
        to_node(old->neighbors) != to_node(ntid)) {
      unlock_pair(pair);  // taken by another insert: look at this page again
      --block;
      continue;
    }
    auto* list = tuple_at<NeighborTuple>(BufferGetPage(pair.second),
                                         ItemPointerGetOffsetNumber(&ntid), TupleType::kNeighbors);
    if (list == nullptr || list->level < level) {
      unlock_pair(pair);
      corrupt(index, "a free element lacks its neighbour list", to_node(block, slot.offset));
    }
    GenericXLogState* state = GenericXLogStart(index);
    Page epage = GenericXLogRegisterBuffer(state, pair.first, 0);
    Page npage =
        pair.second == pair.first ? epage : GenericXLogRegisterBuffer(state, pair.second, 0);
    element->neighbors = ntid;
    memcpy(PageGetItem(epage, PageGetItemId(epage, slot.offset)), element, esize);
    auto* empty = reinterpret_cast<NeighborTuple*>(
        PageGetItem(npage, PageGetItemId(npage, ItemPointerGetOffsetNumber(&ntid))));
    empty->level = static_cast<uint8>(level);  // the tuple keeps its larger size
    std::fill(empty->counts, empty->counts + level + 1, uint16{0});
    GenericXLogFinish(state);
    unlock_pair(pair);
    meta.free_page = first_free;
    ItemPointerSet(etid, block, slot.offset);
    return true;
  }
  meta.free_page = first_free;
  return false;
}

// Adds `element` (`esize` bytes, level `level`) and an empty neighbour tuple to a page with room,
// extending the index if needed; returns the element's TID and moves meta.insert_page along.
ItemPointerData add_element(Relation index, MetaPage& meta, ElementTuple* element, Size esize,
                            int level) {
  const Size nsize = neighbor_size(meta.m, level, meta.code_stride);
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

}  // namespace embedding::pg::hnsw
