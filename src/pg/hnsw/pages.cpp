// Page-level helpers of the hnsw index: page initialisation, and reading and WAL-logging the
// metapage.
#include "pg/hnsw/pages.h"

#include <array>
#include <vector>

#include "core/common/error.h"
#include "pg/pg_call.h"

extern "C" {
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/buf_internals.h"
#include "utils/memutils.h"
}

namespace embedding::pg::hnsw {

void init_page(Page page) {
  PageInit(page, BLCKSZ, sizeof(PageOpaque));
  auto* opaque = reinterpret_cast<PageOpaque*>(PageGetSpecialPointer(page));
  opaque->flags = 0;
  opaque->page_id = kPageId;
}

static MetaPage* meta_of(Page page) { return reinterpret_cast<MetaPage*>(PageGetContents(page)); }

// Stores meta and keeps pd_lower past it, so that full-page images do not drop it as a hole.
static void set_meta(Page page, const MetaPage& meta) {
  *meta_of(page) = meta;
  reinterpret_cast<PageHeader>(page)->pd_lower =
      static_cast<LocationIndex>(reinterpret_cast<char*>(meta_of(page) + 1) - page);
}

MetaPage new_meta(int dimensions, const embedding::hnsw::Params& params,
                  embedding::hnsw::Metric metric, embedding::hnsw::Format format) {
  MetaPage meta{};
  meta.magic = kMagic;
  meta.version = kVersion;
  meta.dimensions = static_cast<uint32>(dimensions);
  meta.m = static_cast<uint16>(params.m);
  meta.ef_construction = static_cast<uint16>(params.ef_construction);
  meta.metric = static_cast<uint8>(metric);
  meta.format = static_cast<uint8>(format);
  meta.entry_level = -1;
  ItemPointerSetInvalid(&meta.entry);
  meta.insert_page = InvalidBlockNumber;
  return meta;
}

void init_meta_page(Page page, const MetaPage& meta) {
  init_page(page);
  set_meta(page, meta);
}

MetaPage read_meta(Relation index) {
  Buffer buf = ReadBuffer(index, kMetaBlock);
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  MetaPage meta = *meta_of(BufferGetPage(buf));
  UnlockReleaseBuffer(buf);
  if (meta.magic != kMagic || meta.version != kVersion)
    throw Error(ErrorCode::kCorruptData, "index \"" + std::string(RelationGetRelationName(index)) +
                                             "\" is not a valid hnsw index (bad metapage)");
  return meta;
}

Buffer lock_meta(Relation index, MetaPage* meta) {
  Buffer buf = ReadBuffer(index, kMetaBlock);
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  *meta = *meta_of(BufferGetPage(buf));
  return buf;
}

void write_meta_and_unlock(Relation index, Buffer buf, const MetaPage& meta, bool changed) {
  if (changed) {
    GenericXLogState* state = GenericXLogStart(index);
    Page page = GenericXLogRegisterBuffer(state, buf, 0);
    set_meta(page, meta);
    GenericXLogFinish(state);
  }
  UnlockReleaseBuffer(buf);
}

namespace {

// Where this backend last found each block of the few indexes it used most recently. A stale
// entry costs one failed tag check; entries are never trusted without it.
class RecentBuffers {
 public:
  // A temporary index (local buffers) is told apart from a shared one by its backend.
  Buffer* slot(const RelFileNode& node, BackendId backend, BlockNumber block) {
    Entry* entry = nullptr;
    for (Entry& e : entries_)
      if (e.used && RelFileNodeEquals(e.node, node) && e.backend == backend) entry = &e;
    if (entry == nullptr) {
      entry = &entries_[next_victim_];
      next_victim_ = (next_victim_ + 1) % entries_.size();
      entry->used = true;
      entry->node = node;
      entry->backend = backend;
      entry->buffers.clear();
    }
    if (block >= entry->buffers.size()) entry->buffers.resize(block + 1024, InvalidBuffer);
    return &entry->buffers[block];
  }

 private:
  struct Entry {
    bool used = false;
    RelFileNode node{};
    BackendId backend = InvalidBackendId;
    std::vector<Buffer> buffers;
  };
  std::array<Entry, 4> entries_;
  std::size_t next_victim_ = 0;
};

RecentBuffers& recent_buffers() {
  static RecentBuffers* recent = nullptr;
  if (recent == nullptr) recent = new_owned<RecentBuffers>(TopMemoryContext);
  return *recent;
}

}  // namespace

// Raises the usage count of a shared buffer this backend has pinned, as a ReadBuffer() pin does:
// the clock sweep lowers it on each pass and evicts a buffer whose count reached zero. Done the way
// PinBuffer() does it, by compare-and-swap while the header is not locked; a lost race (another
// backend changed the state meanwhile) leaves the count as it is, which is only a hint.
static void raise_usage_count(Buffer buffer) {
  BufferDesc* desc = GetBufferDescriptor(buffer - 1);
  uint32 state = pg_atomic_read_u32(&desc->state);
  if ((state & BM_LOCKED) == 0 && BUF_STATE_GET_USAGECOUNT(state) < BM_MAX_USAGE_COUNT)
    pg_atomic_compare_exchange_u32(&desc->state, &state, state + BUF_USAGECOUNT_ONE);
}

Buffer pin_block(Relation index, BlockNumber block) {
  // ReadRecentBuffer() skips the shared buffer table's hash probe under a partition lock. But it
  // does not raise the usage count of a shared buffer this backend has not pinned already (a local
  // buffer's it does), so a page read only through it would look unused to the clock sweep and be
  // evicted under pressure however hot it is: the count is raised here as ReadBuffer() would.
  Buffer* recent = recent_buffers().slot(index->rd_node, index->rd_backend, block);
  if (*recent != InvalidBuffer && ReadRecentBuffer(index->rd_node, MAIN_FORKNUM, block, *recent)) {
    if (!BufferIsLocal(*recent)) raise_usage_count(*recent);
    // Counted as ReadBuffer() counts a hit: pg_statio_* and VACUUM's cost-based delay.
    pgstat_count_buffer_read(index);
    pgstat_count_buffer_hit(index);
    VacuumPageHit++;
    if (VacuumCostActive) VacuumCostBalance += VacuumCostPageHit;
    return *recent;
  }
  *recent = ReadBuffer(index, block);
  return *recent;
}

void prefetch_item(Relation index, BlockNumber block, OffsetNumber offset) {
  const Buffer recent = *recent_buffers().slot(index->rd_node, index->rd_backend, block);
  if (recent == InvalidBuffer || BufferIsLocal(recent)) return;
  // Only addresses are computed here: a stale buffer just prefetches the wrong lines.
  __builtin_prefetch(GetBufferDescriptor(recent - 1));
  Page page = BufferGetPage(recent);
  __builtin_prefetch(page);
  __builtin_prefetch(PageGetItemId(page, offset));
}

Item page_item(Page page, OffsetNumber offset, Size* size) {
  if (offset < FirstOffsetNumber || offset > PageGetMaxOffsetNumber(page)) return nullptr;
  ItemId id = PageGetItemId(page, offset);
  if (!ItemIdIsNormal(id)) return nullptr;
  if (size) *size = ItemIdGetLength(id);
  return PageGetItem(page, id);
}

}  // namespace embedding::pg::hnsw
