// The on-disk layout of an ivfflat index (metapage, center and entry tuples, list pages) and the
// helpers that read and write its pages.
#pragma once

extern "C" {
#include "postgres.h"

#include "access/generic_xlog.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
#include "utils/rel.h"
}

#include "core/vector/stored_distance.h"
#include "pg/index_vector.h"

namespace embedding::pg::ivfflat {

// Block 0 is the metapage; blocks 1..center_pages hold the center tuples (center i is item i+1 of
// page 1 + i / centers_per_page); then the list pages, each list a chain linked through the page
// opaque's `next`. Every write after the build goes through generic WAL. Readers hold a page's
// share lock while they read it and copy what they keep.

constexpr uint32 kMagic = 0x454d4249;  // "EMBI"
constexpr uint32 kVersion = 1;
// A quantised index (WITH (quantization = 'rabitq')): centers carry a CodeChain, and each list
// has a second chain of pages of CodeBlockTuples.
constexpr uint32 kQuantizedVersion = 2;
constexpr uint16 kPageId = 0xE4B2;
constexpr BlockNumber kMetaBlock = 0;

struct PageOpaque {
  BlockNumber next;  // the list's next page (InvalidBlockNumber: the last)
  uint16 flags;
  uint16 page_id;  // kPageId
};

struct MetaPage {
  uint32 magic;
  uint32 version;
  uint32 dimensions;
  uint16 lists;
  uint8 format;  // embedding::Format
  uint8 metric;  // embedding::Metric
  uint16 centers_per_page;
  uint16 center_pages;
  uint16 code_bits;  // 0: not quantised (version 1); 1 or 2 (version 2)
  uint16 unused;
};

// A list's center and where its pages are; the vector follows (element_bytes(format, dims)).
struct CenterTuple {
  BlockNumber first;  // the list's first page
  BlockNumber last;   // where inserts start looking for room (VACUUM moves it back)
  alignas(4) uint8 vector[FLEXIBLE_ARRAY_MEMBER];
};

// In a quantised index, after a center's vector: its list's chain of code pages (InvalidBlockNumber
// while the list has no codes).
struct CodeChain {
  BlockNumber first;
  BlockNumber last;  // where code inserts start looking for room (VACUUM moves it back)
};

// Up to kCodeRows rows of a list as codes around the list's center (a quant::SlotCodec a list),
// each with where its EntryTuple is and its heap TID; the codes follow in a quant::ListCodes area
// (padded coordinates, kCodeRows rows, code_bits bits).
constexpr int kCodeRows = 32;
struct CodeBlockTuple {
  uint16 count;
  uint16 unused;
  ItemPointerData entry[kCodeRows];
  ItemPointerData heap[kCodeRows];
  alignas(4) uint8 area[FLEXIBLE_ARRAY_MEMBER];
};

// One indexed row: its heap TID and its vector (element_bytes(format, dims), as the index
// stores it: normalised for cosine).
struct EntryTuple {
  ItemPointerData heap_tid;
  uint16 unused;
  alignas(4) uint8 vector[FLEXIBLE_ARRAY_MEMBER];
};

// The on-disk format: sizes and offsets of every on-page struct.
static_assert(sizeof(PageOpaque) == 8);
static_assert(sizeof(MetaPage) == 24 && offsetof(MetaPage, code_bits) == 20 &&
              offsetof(MetaPage, lists) == 12 && offsetof(MetaPage, format) == 14 &&
              offsetof(MetaPage, metric) == 15 && offsetof(MetaPage, centers_per_page) == 16 &&
              offsetof(MetaPage, center_pages) == 18);
static_assert(offsetof(CenterTuple, last) == 4 && offsetof(CenterTuple, vector) == 8);
static_assert(offsetof(EntryTuple, unused) == 6 && offsetof(EntryTuple, vector) == 8);
static_assert(sizeof(CodeChain) == 8 && offsetof(CodeBlockTuple, entry) == 4 &&
              offsetof(CodeBlockTuple, heap) == 196 && offsetof(CodeBlockTuple, area) == 388);

inline bool quantized(const MetaPage& meta) { return meta.code_bits != 0; }
inline Size vector_bytes(const MetaPage& meta) {
  return embedding::element_bytes(static_cast<Format>(meta.format), meta.dimensions);
}
inline Size center_size(const MetaPage& meta) {
  return offsetof(CenterTuple, vector) + vector_bytes(meta) +
         (quantized(meta) ? sizeof(CodeChain) : 0);
}
// A center's code chain (quantised indexes): after its vector, which is a whole number of words.
inline CodeChain* code_chain(const MetaPage& meta, CenterTuple* center) {
  return reinterpret_cast<CodeChain*>(center->vector + vector_bytes(meta));
}
inline Size entry_size(const MetaPage& meta) {
  return offsetof(EntryTuple, vector) +
         embedding::element_bytes(static_cast<Format>(meta.format), meta.dimensions);
}
inline BlockNumber center_block(const MetaPage& meta, int list) {
  return 1 + static_cast<BlockNumber>(list / meta.centers_per_page);
}
inline OffsetNumber center_offset(const MetaPage& meta, int list) {
  return static_cast<OffsetNumber>(list % meta.centers_per_page + 1);
}
inline PageOpaque* page_opaque(Page page) {
  return reinterpret_cast<PageOpaque*>(PageGetSpecialPointer(page));
}

void init_page(Page page);
// The metapage of a new index with `lists` lists, its centers packed on as few pages as fit.
// `code_bits` 0: not quantised.
MetaPage new_meta(Format format, Metric metric, int dimensions, int lists, int code_bits = 0);
// Initialises `page` as the metapage holding `meta`.
void init_meta_page(Page page, const MetaPage& meta);
// Copies block 0's MetaPage (buffer share-locked meanwhile). Throws on a page that is not ours.
MetaPage read_meta(Relation index);
// Adds `item` to `page` at `offset` (InvalidOffsetNumber: the first free one) and returns where
// it went; raises an error naming the index when the page has no room.
OffsetNumber add_item(Relation index, Page page, const void* item, Size size,
                      OffsetNumber offset = InvalidOffsetNumber);
// Throws Error(kCorruptData) naming the index and what is wrong.
[[noreturn]] void corrupt(Relation index, const char* what);

}  // namespace embedding::pg::ivfflat
