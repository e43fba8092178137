// Page-level helpers of the hnsw index: page initialisation, tuples, node ids in messages, and
// reading and WAL-logging the metapage.
#include "pg/hnsw/pages.h"

#include <string>

#include "core/common/error.h"
#include "core/quant/rotation.h"
#include "pg/am/metapage.h"

namespace embedding::pg::hnsw {

void init_page(Page page) {
  PageInit(page, BLCKSZ, sizeof(PageOpaque));
  auto* opaque = reinterpret_cast<PageOpaque*>(PageGetSpecialPointer(page));
  opaque->flags = 0;
  opaque->page_id = kPageId;
}

static MetaPage* meta_of(Page page) { return reinterpret_cast<MetaPage*>(PageGetContents(page)); }

// Stores meta and keeps pd_lower past it, so that full-page images do not drop it as a hole.
static void set_meta(Page page, const MetaPage& meta) { write_meta_page(page, &meta, sizeof meta); }

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
  static_assert(kMetaBlock == 0);  // where read_meta_page() reads
  const MetaPage meta = read_meta_page<MetaPage>(index);
  if (meta.magic == kMagic && meta.version == kFormerQuantizedVersion)
    throw Error(ErrorCode::kFeature,
                "index \"" + std::string(RelationGetRelationName(index)) +
                    "\" was built in the quantized format of embedding 0.6.0, which this version "
                    "no longer reads: rebuild it with REINDEX INDEX");
  // A quantised metapage's code layout is checked here, before anything sizes lists by it.
  const bool codes_ok =
      !quantized(meta) ||
      (meta.code_bits == 1 &&
       meta.code_stride == quant::padded_dims(meta.dimensions) / 8 + sizeof(quant::CodeFactors));
  if (meta.magic != kMagic || (meta.version != kVersion && meta.version != kQuantizedVersion) ||
      (meta.version == kQuantizedVersion) != quantized(meta) || !codes_ok)
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

Item page_item(Page page, OffsetNumber offset, Size* size) {
  if (offset < FirstOffsetNumber || offset > PageGetMaxOffsetNumber(page)) return nullptr;
  ItemId id = PageGetItemId(page, offset);
  if (!ItemIdIsNormal(id)) return nullptr;
  if (size) *size = ItemIdGetLength(id);
  return PageGetItem(page, id);
}

std::string node_text(NodeId node) {
  return "(" + std::to_string(node_block(node)) + "," + std::to_string(node_offset(node)) + ")";
}

[[noreturn]] void corrupt(Relation index, const char* what, NodeId node) {
  throw Error(ErrorCode::kCorruptData, std::string("hnsw index \"") +
                                           RelationGetRelationName(index) +
                                           "\" is corrupt: " + what + " at " + node_text(node));
}

}  // namespace embedding::pg::hnsw
