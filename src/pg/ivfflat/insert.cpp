// ivfflat insert: the row goes to the first page with room in its nearest center's list, from the
// center's insert page on; a full list gets a new page at its end (generic WAL); in a quantised
// index its code then goes to the end of the list's code chain.
#include <cstring>
#include <memory>
#include <vector>

#include "core/common/error.h"
#include "core/ivf/assign.h"
#include "pg/guard.h"
#include "pg/ivfflat/centers.h"
#include "pg/ivfflat/codes.h"
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
  // Quantised indexes: the row's list's codec, the row's slot and the encoder's scratch.
  std::unique_ptr<quant::SlotCodec> codec;
  std::vector<uint8> slot;
  std::vector<float> scratch;
  std::vector<float> floats;
};

InsertContext& insert_context() {
  static InsertContext* context = nullptr;
  if (context == nullptr) context = new_owned<InsertContext>(TopMemoryContext);
  return *context;
}

// Adds `entry` to the list whose center is `list`, on the first page with room from page `block`
// (its insert page as last read, which VACUUM moves back to the first page it freed room on) on,
// following the chain; at its end a new page is linked and becomes the insert page.
ItemPointerData append(Relation index, const MetaPage& meta, int list, BlockNumber block,
                       EntryTuple* entry, Size size) {
  const BlockNumber start = block;
  for (;;) {
    Buffer buf = ReadBuffer(index, block);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    Page page = BufferGetPage(buf);
    const BlockNumber next = page_opaque(page)->next;
    if (PageGetFreeSpace(page) >= MAXALIGN(size)) {
      GenericXLogState* state = GenericXLogStart(index);
      Page wpage = GenericXLogRegisterBuffer(state, buf, 0);
      ItemPointerData where;
      ItemPointerSet(&where, block, add_item(index, wpage, entry, size));
      GenericXLogFinish(state);
      UnlockReleaseBuffer(buf);
      // Full pages were passed on the way: the next insert starts here.
      if (block != start) set_insert_page(index, meta, list, block);
      return where;
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
    ItemPointerData where;
    ItemPointerSet(&where, BufferGetBlockNumber(nbuf), add_item(index, npage, entry, size));
    page_opaque(wpage)->next = BufferGetBlockNumber(nbuf);
    auto* center = reinterpret_cast<CenterTuple*>(
        PageGetItem(cpage, PageGetItemId(cpage, center_offset(meta, list))));
    center->last = BufferGetBlockNumber(nbuf);
    GenericXLogFinish(state);
    UnlockReleaseBuffer(cbuf);
    UnlockReleaseBuffer(nbuf);
    UnlockReleaseBuffer(buf);
    return where;
  }
}

// Writes row `row` (entry `entry`, heap TID `heap`, code `slot`) into the code block `tuple`.
void put_code(const MetaPage& meta, CodeBlockTuple* tuple, int row, const ItemPointerData& entry,
              const ItemPointerData& heap, const uint8* slot) {
  tuple->entry[row] = entry;
  tuple->heap[row] = heap;
  code_layout(meta).put(tuple->area, static_cast<std::size_t>(row), slot);
  tuple->count = static_cast<uint16>(row + 1);
}

// The first code block of `page` with a free row (InvalidOffsetNumber: none).
OffsetNumber open_block(Page page, Size size) {
  const OffsetNumber max = PageGetMaxOffsetNumber(page);
  for (OffsetNumber off = FirstOffsetNumber; off <= max; ++off) {
    ItemId item = PageGetItemId(page, off);
    if (ItemIdIsNormal(item) && ItemIdGetLength(item) >= size &&
        reinterpret_cast<CodeBlockTuple*>(PageGetItem(page, item))->count < kCodeRows)
      return off;
  }
  return InvalidOffsetNumber;
}

// Appends a row's code to `list`'s code chain: into the first code block with a free row (VACUUM
// leaves them), else a new block, on the first page with room from `block` (the chain's insert
// page as last read) on; at the chain's end a new page is linked (the center's chain then ends
// there). Full pages passed on the way: the next insert starts where this one went.
void append_code(Relation index, const MetaPage& meta, int list, BlockNumber block,
                 const ItemPointerData& entry, const ItemPointerData& heap, const uint8* slot) {
  const Size size = code_block_size(meta);
  auto* fresh = static_cast<CodeBlockTuple*>(palloc0(size));
  put_code(meta, fresh, 0, entry, heap, slot);
  const BlockNumber start = block;
  Buffer buf = InvalidBuffer;
  while (block != InvalidBlockNumber) {
    buf = ReadBuffer(index, block);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    Page page = BufferGetPage(buf);
    const OffsetNumber open = open_block(page, size);
    if (open != InvalidOffsetNumber || PageGetFreeSpace(page) >= MAXALIGN(size)) {
      GenericXLogState* state = GenericXLogStart(index);
      Page wpage = GenericXLogRegisterBuffer(state, buf, 0);
      if (open != InvalidOffsetNumber) {
        auto* tuple =
            reinterpret_cast<CodeBlockTuple*>(PageGetItem(wpage, PageGetItemId(wpage, open)));
        put_code(meta, tuple, tuple->count, entry, heap, slot);
      } else {
        add_item(index, wpage, fresh, size);
      }
      GenericXLogFinish(state);
      UnlockReleaseBuffer(buf);
      pfree(fresh);
      if (block != start) set_insert_page(index, meta, list, block, true);
      return;
    }
    const BlockNumber next = page_opaque(page)->next;
    if (next == InvalidBlockNumber) break;  // the chain's full last page: kept locked
    UnlockReleaseBuffer(buf);
    buf = InvalidBuffer;
    block = next;
  }
  // A new page linked after the full last page, then the center page: the same lock order as
  // append(). A list without codes yet: the center page first, to see whether another insert
  // started the chain meanwhile (then on from its end); no one waits for the new page.
  Buffer cbuf = InvalidBuffer;
  if (buf == InvalidBuffer) {
    cbuf = ReadBuffer(index, center_block(meta, list));
    LockBuffer(cbuf, BUFFER_LOCK_EXCLUSIVE);
    const CodeChain* chain = code_chain(
        meta,
        reinterpret_cast<CenterTuple*>(PageGetItem(
            BufferGetPage(cbuf), PageGetItemId(BufferGetPage(cbuf), center_offset(meta, list)))));
    const BlockNumber last = chain->last;
    if (last != InvalidBlockNumber) {
      UnlockReleaseBuffer(cbuf);
      pfree(fresh);
      append_code(index, meta, list, last, entry, heap, slot);
      return;
    }
  }
  LockRelationForExtension(index, ExclusiveLock);
  Buffer nbuf = ReadBuffer(index, P_NEW);
  LockBuffer(nbuf, BUFFER_LOCK_EXCLUSIVE);
  UnlockRelationForExtension(index, ExclusiveLock);
  if (cbuf == InvalidBuffer) {
    cbuf = ReadBuffer(index, center_block(meta, list));
    LockBuffer(cbuf, BUFFER_LOCK_EXCLUSIVE);
  }
  GenericXLogState* state = GenericXLogStart(index);
  Page npage = GenericXLogRegisterBuffer(state, nbuf, GENERIC_XLOG_FULL_IMAGE);
  Page cpage = GenericXLogRegisterBuffer(state, cbuf, 0);
  init_page(npage);
  add_item(index, npage, fresh, size);
  CodeChain* chain = code_chain(meta, reinterpret_cast<CenterTuple*>(PageGetItem(
                                          cpage, PageGetItemId(cpage, center_offset(meta, list)))));
  if (buf != InvalidBuffer)
    page_opaque(GenericXLogRegisterBuffer(state, buf, 0))->next = BufferGetBlockNumber(nbuf);
  else
    chain->first = BufferGetBlockNumber(nbuf);
  chain->last = BufferGetBlockNumber(nbuf);
  GenericXLogFinish(state);
  UnlockReleaseBuffer(cbuf);
  UnlockReleaseBuffer(nbuf);
  if (buf != InvalidBuffer) UnlockReleaseBuffer(buf);
  pfree(fresh);
}

// The code of the prepared row in ctx.vector around `list`'s center, into ctx.slot.
void encode_row(InsertContext& ctx, int list) {
  const MetaPage& meta = ctx.centers.meta;
  ctx.codec = list_codec(meta, ctx.centers.vector(list));
  ctx.slot.assign(ctx.codec->stride(), 0);
  ctx.scratch.assign(ctx.codec->scratch_floats(), 0.0f);
  ctx.floats.assign(meta.dimensions, 0.0f);
  quant::stored_floats(static_cast<Format>(meta.format), ctx.vector, meta.dimensions,
                       ctx.floats.data());
  ctx.codec->encode(ctx.floats.data(), ctx.slot.data(), ctx.scratch.data());
}

void insert_row(Relation index, Datum value, ItemPointer heap_tid) {
  InsertContext& ctx = insert_context();
  read_centers(index, ctx.centers);
  const MetaPage& meta = ctx.centers.meta;
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
  const ItemPointerData where = append(index, meta, best, ctx.centers.last[best], entry, size);
  pfree(entry);
  if (quantized(meta)) {
    encode_row(ctx, static_cast<int>(best));
    append_code(index, meta, static_cast<int>(best), ctx.centers.code_last[best], where, *heap_tid,
                ctx.slot.data());
  }
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
