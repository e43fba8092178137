// Page-level helpers of the hnsw index: page initialisation, and reading and WAL-logging the
// metapage.
#include "pg/hnsw/pages.h"

#include "core/common/error.h"

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
                  embedding::hnsw::Metric metric) {
  MetaPage meta{};
  meta.magic = kMagic;
  meta.version = kVersion;
  meta.dimensions = static_cast<uint32>(dimensions);
  meta.m = static_cast<uint16>(params.m);
  meta.ef_construction = static_cast<uint16>(params.ef_construction);
  meta.metric = static_cast<uint8>(metric);
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

void update_meta(Relation index, const MetaPage& meta) {
  Buffer buf = ReadBuffer(index, kMetaBlock);
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  GenericXLogState* state = GenericXLogStart(index);
  Page page = GenericXLogRegisterBuffer(state, buf, 0);
  set_meta(page, meta);
  GenericXLogFinish(state);
  UnlockReleaseBuffer(buf);
}

Item page_item(Page page, OffsetNumber offset, Size* size) {
  if (offset < FirstOffsetNumber || offset > PageGetMaxOffsetNumber(page)) return nullptr;
  ItemId id = PageGetItemId(page, offset);
  if (!ItemIdIsNormal(id)) return nullptr;
  if (size) *size = ItemIdGetLength(id);
  return PageGetItem(page, id);
}

}  // namespace embedding::pg::hnsw
