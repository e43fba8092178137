// Page-level helpers of the ivfflat index: page initialisation, the metapage, adding items, and
// the error for a page that is not what the layout says (see pages.h).
#include "pg/ivfflat/pages.h"

#include <string>

#include "core/common/error.h"
#include "pg/am/metapage.h"

namespace embedding::pg::ivfflat {

void init_page(Page page) {
  PageInit(page, BLCKSZ, sizeof(PageOpaque));
  auto* opaque = page_opaque(page);
  opaque->next = InvalidBlockNumber;
  opaque->flags = 0;
  opaque->page_id = kPageId;
}

MetaPage new_meta(Format format, Metric metric, int dimensions, int lists, int code_bits) {
  MetaPage meta{};
  meta.magic = kMagic;
  meta.version = code_bits != 0 ? kQuantizedVersion : kVersion;
  meta.code_bits = static_cast<uint16>(code_bits);
  meta.dimensions = static_cast<uint32>(dimensions);
  meta.lists = static_cast<uint16>(lists);
  meta.format = static_cast<uint8>(format);
  meta.metric = static_cast<uint8>(metric);
  const Size room = BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(PageOpaque));
  meta.centers_per_page =
      static_cast<uint16>(room / (MAXALIGN(center_size(meta)) + sizeof(ItemIdData)));
  meta.center_pages =
      static_cast<uint16>((lists + meta.centers_per_page - 1) / meta.centers_per_page);
  return meta;
}

void init_meta_page(Page page, const MetaPage& meta) {
  init_page(page);
  write_meta_page(page, &meta, sizeof meta);
}

MetaPage read_meta(Relation index) {
  const auto meta = read_meta_page<MetaPage>(index);
  // Version 1 metapages end before code_bits: the page's zeros read as 0.
  const bool version_ok =
      (meta.version == kVersion && meta.code_bits == 0) ||
      (meta.version == kQuantizedVersion && (meta.code_bits == 1 || meta.code_bits == 2));
  if (meta.magic != kMagic || !version_ok || meta.lists < 1 || meta.centers_per_page < 1)
    corrupt(index, "bad metapage");
  return meta;
}

OffsetNumber add_item(Relation index, Page page, const void* item, Size size, OffsetNumber offset) {
  const OffsetNumber added =
      PageAddItem(page, static_cast<Item>(const_cast<void*>(item)), size, offset, false, false);
  if (added == InvalidOffsetNumber || (offset != InvalidOffsetNumber && added != offset))
    elog(ERROR, "failed to add index item to \"%s\"", RelationGetRelationName(index));
  return added;
}

[[noreturn]] void corrupt(Relation index, const char* what) {
  throw Error(
      ErrorCode::kCorruptData,
      std::string("ivfflat index \"") + RelationGetRelationName(index) + "\" is corrupt: " + what);
}

}  // namespace embedding::pg::ivfflat
