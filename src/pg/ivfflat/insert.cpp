// ivfflat insert: the row goes to the first page with room in its nearest center's list, from the
// center's insert page on; a full list gets a new page at its end (generic WAL).
#include <cstring>

#include "core/common/error.h"
#include "core/ivf/assign.h"
#include "pg/guard.h"
#include "pg/ivfflat/centers.h"
#include "pg/ivfflat/ivfflat.h"
#include "pg/pg_call.h"

extern "C" {
#include "storage/lmgr.h"
#include "utils/memutils.h"
}

namespace embedding::pg::ivfflat {
namespace {

// Working memory reused by this backend's inserts (TopMemoryContext: an error leaks nothing).
struct InsertContext {
  Centers centers;
  uint32 vector[2000 + 1];
};

InsertContext& insert_context() {
  static InsertContext* context = nullptr;
  if (context == nullptr) context = new_owned<InsertContext>(TopMemoryContext);
  return *context;
}

// Adds `entry` to the list whose center is `list`, on the first page with room from page `block`
// (its insert page as last read, which VACUUM moves back to the first page it freed room on) on,
// following the chain; at its end a new page is linked and becomes the insert page.
void append(Relation index, const MetaPage& meta, int list, BlockNumber block, EntryTuple* entry,
            Size size) {
  const BlockNumber start = block;
  for (;;) {
    Buffer buf = ReadBuffer(index, block);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    Page page = BufferGetPage(buf);
    const BlockNumber next = page_opaque(page)->next;
    if (PageGetFreeSpace(page) >= MAXALIGN(size)) {
      GenericXLogState* state = GenericXLogStart(index);
      Page wpage = GenericXLogRegisterBuffer(state, buf, 0);
      add_item(index, wpage, entry, size);
      GenericXLogFinish(state);
      UnlockReleaseBuffer(buf);
      // Full pages were passed on the way: the next insert starts here.
      if (block != start) set_insert_page(index, meta, list, block);
      return;
    }
    if (next != InvalidBlockNumber) {  // full: on along the chain
      UnlockReleaseBuffer(buf);
      block = next;
      continue;
    }
    // Full: a new page after it, and the center's `last` moved there. Lock order: the list's
    // last page, then the new page, then the center page (no one waits in the other order:
    // scans hold one page at a time, inserts reach center pages only here).
    LockRelationForExtension(index, ExclusiveLock);
    Buffer nbuf = ReadBuffer(index, P_NEW);
    LockBuffer(nbuf, BUFFER_LOCK_EXCLUSIVE);
    UnlockRelationForExtension(index, ExclusiveLock);
    Buffer cbuf = ReadBuffer(index, center_block(meta, list));
    LockBuffer(cbuf, BUFFER_LOCK_EXCLUSIVE);
    GenericXLogState* state = GenericXLogStart(index);
    Page wpage = GenericXLogRegisterBuffer(state, buf, 0);
    Page npage = GenericXLogRegisterBuffer(state, nbuf, GENERIC_XLOG_FULL_IMAGE);
    Page cpage = GenericXLogRegisterBuffer(state, cbuf, 0);
    init_page(npage);
    add_item(index, npage, entry, size);
    page_opaque(wpage)->next = BufferGetBlockNumber(nbuf);
    auto* center = reinterpret_cast<CenterTuple*>(
        PageGetItem(cpage, PageGetItemId(cpage, center_offset(meta, list))));
    center->last = BufferGetBlockNumber(nbuf);
    GenericXLogFinish(state);
    UnlockReleaseBuffer(cbuf);
    UnlockReleaseBuffer(nbuf);
    UnlockReleaseBuffer(buf);
    return;
  }
}

void insert_row(Relation index, Datum value, ItemPointer heap_tid) {
  InsertContext& ctx = insert_context();
  read_centers(index, ctx.centers);
  const MetaPage& meta = ctx.centers.meta;
  if (quantized(meta))
    throw Error(ErrorCode::kFeature, "inserts into a quantized ivfflat index are not supported yet",
                "Drop the index before loading rows, then create it again.");
  const auto format = static_cast<Format>(meta.format);
  const auto metric = static_cast<Metric>(meta.metric);
  if (prepare_vector(value, metric, format, static_cast<int>(meta.dimensions), ctx.vector,
                     sizeof(ctx.vector), "ivfflat") == 0)
    return;  // a zero vector under cosine: nothing to rank it by (as pgvector)
  const embedding::VectorDistance rank(center_metric(metric), meta.dimensions, format);
  uint32 best = 0;
  embedding::ivf::assign_nearest(rank, ctx.centers.vectors.data(), meta.lists,
                                 ctx.centers.words * sizeof(uint32), ctx.vector, 1, 0, &best, 1);
  const Size size = entry_size(meta);
  auto* entry = static_cast<EntryTuple*>(palloc0(size));
  entry->heap_tid = *heap_tid;
  std::memcpy(entry->vector, ctx.vector, size - offsetof(EntryTuple, vector));
  append(index, meta, best, ctx.centers.last[best], entry, size);
  pfree(entry);
}

}  // namespace
}  // namespace embedding::pg::ivfflat

extern "C" bool ivfflat_insert(Relation index, Datum* values, bool* isnull, ItemPointer heap_tid,
                               Relation heap, IndexUniqueCheck check_unique, bool index_unchanged,
                               IndexInfo* info) {
  if (isnull[0]) return false;
  return embedding::pg::guarded([&]() {
    MemoryContext old = MemoryContextSwitchTo(
        AllocSetContextCreate(CurrentMemoryContext, "ivfflat insert", ALLOCSET_SMALL_SIZES));
    MemoryContext insert_cxt = CurrentMemoryContext;
    embedding::pg::ivfflat::insert_row(index, values[0], heap_tid);
    MemoryContextSwitchTo(old);
    MemoryContextDelete(insert_cxt);
    return false;
  });
}
