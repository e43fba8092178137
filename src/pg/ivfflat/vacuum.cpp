// ivfflat VACUUM: removes the entries of deleted rows from every list page (generic WAL), counts
// what is left, and points each list's inserts at its first page with room again. In a quantised
// index their code rows go first, and entries keep their offsets (the code rows point at them).
#include <cstring>

#include "core/common/error.h"
#include "core/quant/rotation.h"
#include "pg/am/vacuum.h"
#include "pg/guard.h"
#include "pg/ivfflat/centers.h"
#include "pg/ivfflat/codes.h"
#include "pg/ivfflat/ivfflat.h"
#include "pg/pg_call.h"

extern "C" {
#include "commands/vacuum.h"
#include "utils/memutils.h"
}

namespace embedding::pg::ivfflat {
namespace {

// Removes dead entries from one list page (when `callback` is given); adds the live entries
// left to the stats. Scans copy what they read under a page's share lock, so removing items
// under the exclusive lock is safe beside them. Returns the page's next page; *room tells whether
// an entry now fits. With `keep_offsets` (quantised indexes) the dead entries' line pointers
// become unused instead of being removed, so that no other entry moves.
BlockNumber vacuum_page(IndexVacuumInfo* info, IndexBulkDeleteResult* stats, BlockNumber block,
                        IndexBulkDeleteCallback callback, void* callback_state, Size entry,
                        bool keep_offsets, bool* room) {
  Buffer buf = ReadBufferExtended(info->index, MAIN_FORKNUM, block, RBM_NORMAL, info->strategy);
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  Page page = BufferGetPage(buf);
  OffsetNumber dead[MaxOffsetNumber];
  int ndead = 0;
  const OffsetNumber max = PageGetMaxOffsetNumber(page);
  for (OffsetNumber off = FirstOffsetNumber; off <= max; ++off) {
    ItemId item = PageGetItemId(page, off);
    if (!ItemIdIsUsed(item)) continue;
    auto* e = reinterpret_cast<EntryTuple*>(PageGetItem(page, item));
    if (callback != nullptr && callback(&e->heap_tid, callback_state))
      dead[ndead++] = off;
    else
      stats->num_index_tuples += 1;
  }
  if (ndead > 0) {
    GenericXLogState* state = GenericXLogStart(info->index);
    Page wpage = GenericXLogRegisterBuffer(state, buf, 0);
    if (keep_offsets) {
      for (int i = ndead - 1; i >= 0; --i) PageIndexTupleDeleteNoCompact(wpage, dead[i]);
      // The freed line pointers are reused by inserts (PageAddItem looks for them only with
      // this hint): else each insert takes a new one and churn fills the page with unused ones.
      if (PageGetMaxOffsetNumber(wpage) >= FirstOffsetNumber) PageSetHasFreeLinePointers(wpage);
    } else {
      PageIndexMultiDelete(wpage, dead, ndead);
    }
    GenericXLogFinish(state);
    stats->tuples_removed += ndead;
  }
  *room = PageGetFreeSpace(page) >= MAXALIGN(entry);
  const BlockNumber next = page_opaque(page)->next;
  UnlockReleaseBuffer(buf);
  return next;
}

// Removes the code rows of dead heap TIDs from one code page, each block compacted in place (its
// live rows first, in their order); returns the page's next page. *room tells whether a code
// now fits (a block with a free row, or space for a new block).
BlockNumber vacuum_code_page(IndexVacuumInfo* info, const MetaPage& meta, BlockNumber block,
                             IndexBulkDeleteCallback callback, void* callback_state, bool* room) {
  const Size size = code_block_size(meta);
  const quant::ListCodes layout = code_layout(meta);
  const std::size_t stride =
      quant::padded_dims(meta.dimensions) * meta.code_bits / 8 + sizeof(quant::CodeFactors);
  auto* fresh = static_cast<CodeBlockTuple*>(palloc(size));
  auto* slot = static_cast<uint8*>(palloc(stride));
  Buffer buf = ReadBufferExtended(info->index, MAIN_FORKNUM, block, RBM_NORMAL, info->strategy);
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  Page page = BufferGetPage(buf);
  GenericXLogState* state = nullptr;
  Page wpage = nullptr;
  bool bad = false;
  const OffsetNumber max = PageGetMaxOffsetNumber(page);
  for (OffsetNumber off = FirstOffsetNumber; off <= max && !bad; ++off) {
    ItemId item = PageGetItemId(page, off);
    if (!ItemIdIsUsed(item)) continue;
    auto* tuple = reinterpret_cast<CodeBlockTuple*>(PageGetItem(page, item));
    bad = ItemIdGetLength(item) < size || tuple->count > kCodeRows;
    if (bad) break;
    if (tuple->count < kCodeRows) *room = true;
    std::memset(fresh, 0, size);
    int kept = 0;
    for (int row = 0; row < tuple->count; ++row) {
      if (callback(&tuple->heap[row], callback_state)) continue;
      fresh->entry[kept] = tuple->entry[row];
      fresh->heap[kept] = tuple->heap[row];
      layout.get(tuple->area, row, slot);
      layout.put(fresh->area, kept++, slot);
    }
    if (kept == tuple->count) continue;
    *room = true;
    fresh->count = static_cast<uint16>(kept);
    if (state == nullptr) {
      state = GenericXLogStart(info->index);
      wpage = GenericXLogRegisterBuffer(state, buf, 0);
    }
    std::memcpy(PageGetItem(wpage, PageGetItemId(wpage, off)), fresh, size);
  }
  if (state != nullptr) GenericXLogFinish(state);
  if (PageGetFreeSpace(page) >= MAXALIGN(size)) *room = true;
  const BlockNumber next = page_opaque(page)->next;
  UnlockReleaseBuffer(buf);
  pfree(fresh);
  pfree(slot);
  if (bad) corrupt(info->index, "bad code block");
  return next;
}

// Every list, page by page along its chain, dead entries removed when a callback is given; then
// the list's insert page moves back to its first page with room, so that the space is reused.
void walk(IndexVacuumInfo* info, IndexBulkDeleteResult* stats, IndexBulkDeleteCallback callback,
          void* callback_state) {
  MemoryContext cxt =
      AllocSetContextCreate(CurrentMemoryContext, "ivfflat vacuum", ALLOCSET_DEFAULT_SIZES);
  Centers* centers = embedding::pg::new_owned<Centers>(cxt);
  read_centers(info->index, *centers);
  const MetaPage& meta = centers->meta;
  stats->num_index_tuples = 0;
  for (int list = 0; list < meta.lists; ++list) {
    // Code rows first: none is left pointing at an entry this pass frees (and a scan checks the
    // heap TID of the entry it reads, should an insert reuse the slot). Then the chain's code
    // inserts start at its first page with room, so that the freed rows are reused.
    if (quantized(meta) && callback != nullptr) {
      BlockNumber first_code_room = InvalidBlockNumber;
      for (BlockNumber block = centers->code_first[list]; block != InvalidBlockNumber;) {
        vacuum_delay_point();
        bool room = false;
        const BlockNumber next =
            vacuum_code_page(info, meta, block, callback, callback_state, &room);
        if (room && first_code_room == InvalidBlockNumber) first_code_room = block;
        block = next;
      }
      if (first_code_room != InvalidBlockNumber && first_code_room != centers->code_last[list])
        set_insert_page(info->index, meta, list, first_code_room, true);
    }
    BlockNumber first_room = InvalidBlockNumber;
    for (BlockNumber block = centers->first[list]; block != InvalidBlockNumber;) {
      vacuum_delay_point();
      bool room = false;
      const BlockNumber next = vacuum_page(info, stats, block, callback, callback_state,
                                           entry_size(meta), quantized(meta), &room);
      if (room && first_room == InvalidBlockNumber) first_room = block;
      block = next;
    }
    if (callback != nullptr && first_room != InvalidBlockNumber &&
        first_room != centers->last[list])
      set_insert_page(info->index, meta, list, first_room);
  }
  stats->num_pages = RelationGetNumberOfBlocks(info->index);
  MemoryContextDelete(cxt);
}

}  // namespace
}  // namespace embedding::pg::ivfflat

extern "C" IndexBulkDeleteResult* ivfflat_bulkdelete(IndexVacuumInfo* info,
                                                     IndexBulkDeleteResult* stats,
                                                     IndexBulkDeleteCallback callback,
                                                     void* callback_state) {
  return embedding::pg::bulk_delete(info, stats, callback, callback_state,
                                    embedding::pg::ivfflat::walk);
}

extern "C" IndexBulkDeleteResult* ivfflat_vacuumcleanup(IndexVacuumInfo* info,
                                                        IndexBulkDeleteResult* stats) {
  return embedding::pg::vacuum_cleanup(info, stats, embedding::pg::ivfflat::walk);
}
