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

// The usage count the clock sweep lowers on each pass and each ReadBuffer() pin raises by one (up
// to BM_MAX_USAGE_COUNT), read without the header lock: a hint, checked by nothing.
static uint32 usage_count(Buffer buffer) {
  BufferDesc* desc = BufferIsLocal(buffer) ? GetLocalBufferDescriptor(-buffer - 1)
                                           : GetBufferDescriptor(buffer - 1);
  return BUF_STATE_GET_USAGECOUNT(pg_atomic_read_u32(&desc->state));
}

Buffer pin_block(Relation index, BlockNumber block) {
  // ReadRecentBuffer() skips the shared buffer table's hash probe, but it does not raise the usage
  // count of a shared buffer this backend has not pinned already, so a page read only through it
  // would look unused to the clock sweep and be evicted under pressure however hot it is. So the
  // recent buffer is used only while its usage count is at the maximum, where ReadBuffer() could
  // not raise it either: pages keep the protection every access would give them through
  // ReadBuffer() (which brings a page to the maximum after a few reads), and while the sweep seldom
  // passes (the index fits, the pool is not under pressure) almost no access pays for the probe.
  Buffer* recent = recent_buffers().slot(index->rd_node, index->rd_backend, block);
  if (*recent != InvalidBuffer && usage_count(*recent) >= BM_MAX_USAGE_COUNT &&
      ReadRecentBuffer(index->rd_node, MAIN_FORKNUM, block, *recent)) {
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
