// ivfflat VACUUM: removes the entries of deleted rows from every list page (generic WAL), counts
// what is left, and points each list's inserts at its first page with room again.
#include "pg/am/vacuum.h"
#include "core/common/error.h"
#include "pg/guard.h"
#include "pg/ivfflat/centers.h"
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
// an entry now fits.
BlockNumber vacuum_page(IndexVacuumInfo* info, IndexBulkDeleteResult* stats, BlockNumber block,
                        IndexBulkDeleteCallback callback, void* callback_state, Size entry,
                        bool* room) {
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
    PageIndexMultiDelete(wpage, dead, ndead);
    GenericXLogFinish(state);
    stats->tuples_removed += ndead;
  }
  *room = PageGetFreeSpace(page) >= MAXALIGN(entry);
  const BlockNumber next = page_opaque(page)->next;
  UnlockReleaseBuffer(buf);
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
  // Removing entries moves them on their pages, and the code rows say where they were: until
  // VACUUM rewrites the codes too, a quantised index refuses rather than answer wrongly later.
  if (quantized(meta) && callback != nullptr)
    throw Error(ErrorCode::kFeature, "VACUUM cannot remove rows from a quantized ivfflat index yet",
                "REINDEX the index instead.");
  stats->num_index_tuples = 0;
  for (int list = 0; list < meta.lists; ++list) {
    BlockNumber first_room = InvalidBlockNumber;
    for (BlockNumber block = centers->first[list]; block != InvalidBlockNumber;) {
      vacuum_delay_point();
      bool room = false;
      const BlockNumber next =
          vacuum_page(info, stats, block, callback, callback_state, entry_size(meta), &room);
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
