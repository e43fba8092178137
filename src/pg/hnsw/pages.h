// The on-disk layout of an hnsw index: a metapage at block 0, then pages of element tuples
// (vector, level, heap TIDs) and neighbour tuples (one id list per level), and node ids.
#pragma once

extern "C" {
#include "postgres.h"

#include "access/generic_xlog.h"
#include "storage/bufmgr.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
#include "utils/rel.h"
}

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/hnsw/params.h"
#include "core/quant/list_codes.h"
#include "core/quant/rabitq.h"

namespace embedding::pg::hnsw {

using embedding::hnsw::NodeId;

constexpr uint32 kMagic = 0x454d4248;  // "EMBH"
// Version 1: plain graph. Version 3: level-0 neighbour lists carry their neighbours' codes
// (quantised). Version 2 was 0.6.0's quantised format (a slot of code and factors after each id,
// no blocks): read_meta() asks for a REINDEX.
constexpr uint32 kVersion = 1;
constexpr uint32 kFormerQuantizedVersion = 2;
constexpr uint32 kQuantizedVersion = 3;
constexpr BlockNumber kMetaBlock = 0;
constexpr uint16 kPageId = 0xE4B1;

struct PageOpaque {
  uint16 flags;
  uint16 page_id;  // kPageId, so tools can tell our pages apart
};

struct MetaPage {
  uint32 magic;
  uint32 version;
  uint32 dimensions;
  uint16 m;
  uint16 ef_construction;
  uint8 metric;       // embedding::hnsw::Metric
  uint8 format;       // embedding::hnsw::Format (0, float4, in indexes made before halfvec and bit)
  int16 entry_level;  // -1 when the graph is empty
  ItemPointerData entry;
  BlockNumber insert_page;  // last page, where inserts look for room first
  // Reuse of deleted elements (see ElementState): the lowest page that may hold a free
  // element (0: none), and the transaction id after which every free element may be reused.
  // Metapages written before these fields existed read zeros: nothing to reuse.
  BlockNumber free_page;
  uint64 free_after;  // a FullTransactionId's value
  // Quantised (version 3): level-0 lists carry their neighbours' codes (list_codes(): RaBitQ
  // code_bits bits a padded dimension and the factors; code_stride is the bytes of a code and
  // its CodeFactors, a "slot", as writers pass them around), the rotation is drawn from
  // code_seed, and the codes are taken around the centre stored at center_block (0: the origin).
  // Version 1 metapages read zeros here.
  uint8 code_bits;
  uint8 unused3;
  uint16 code_stride;
  BlockNumber center_block;
  uint64 code_seed;
};

enum class TupleType : uint8 { kElement = 1, kNeighbors = 2, kCenter = 3 };

// What VACUUM made of an element. kDead: no heap row refers to it, and VACUUM is removing the
// links to it. kFree: no live list links to it any more (VACUUM finished that), so once every
// scan that began before then has ended (MetaPage::free_after) an insert may overwrite it.
// The values are on disk: they never change.
enum class ElementState : uint8 { kLive = 0, kDead = 1, kFree = 2 };

// Heap rows with an identical vector share one element: their TIDs follow the vector.
// The vector takes element_bytes(format, dimensions) bytes, a multiple of 4.
struct ElementTuple {
  TupleType type;
  uint8 level;
  ElementState state;  // other than kLive once no heap row refers to it
  uint8 format;        // the metapage's format, so that the tuple's layout is known from itself
  uint16 heap_tid_count;
  uint16 dimensions;
  ItemPointerData neighbors;  // this element's NeighborTuple
  uint16 unused2;
  alignas(4) uint8 vector[FLEXIBLE_ARRAY_MEMBER];  // then ItemPointerData heap_tids[heap_tid_count]
};
// The largest vector an opclass allows (2,000 float4, 4,000 halfs, 64,000 bits, 1,000
// sparse elements), so that an element fits on a page.
constexpr Size kMaxVectorBytes = 8004;
// The largest prepared query (a sparsevec may have 16,000 elements when it is not indexed).
constexpr Size kMaxQueryBytes = 4 + 8 * 16000;
// Bytes of a stored vector of the index (`vector` in its format).
inline Size vector_bytes(const MetaPage& meta, const void* vector) {
  return embedding::hnsw::vector_size(static_cast<embedding::hnsw::Format>(meta.format),
                                      meta.dimensions, vector);
}
inline Size vector_bytes(const ElementTuple* e) {
  return embedding::hnsw::vector_size(static_cast<embedding::hnsw::Format>(e->format),
                                      e->dimensions, e->vector);
}
inline ItemPointerData* heap_tids(ElementTuple* e) {
  return reinterpret_cast<ItemPointerData*>(e->vector + vector_bytes(e));
}
inline const ItemPointerData* heap_tids(const ElementTuple* e) {
  return reinterpret_cast<const ItemPointerData*>(e->vector + vector_bytes(e));
}
// Whether the element holds a vector of this index's type and size (sparse vectors: of any
// number of elements; their tuples keep dimensions 0).
inline bool matches(const ElementTuple* e, const MetaPage& meta) {
  if (e->format != meta.format) return false;
  if (e->format == static_cast<uint8>(embedding::hnsw::Format::kSparse))
    return e->dimensions == 0 && vector_bytes(e) <= kMaxVectorBytes;
  return e->dimensions == meta.dimensions;
}
// The dimensions field of an element tuple of this index.
inline uint16 element_dimensions(const MetaPage& meta) {
  return meta.format == static_cast<uint8>(embedding::hnsw::Format::kSparse)
             ? 0
             : static_cast<uint16>(meta.dimensions);
}

// Lists for levels 0..level: level 0 holds up to 2 * m ids, each level above up to m. In a
// quantised index the ids are followed (at an 8-byte boundary) by the codes of the level-0 ids,
// in the same order: neighbor_slots(), laid out by list_codes(). (Upper levels are searched with
// exact distances: they are few nodes, and codes there would not fit a page at high dimensions.)
struct NeighborTuple {
  TupleType type;
  uint8 level;
  uint16 m;
  uint16 counts[FLEXIBLE_ARRAY_MEMBER];  // level + 1 counts, then the ids (see neighbor_ids)
};

// The on-disk format, pinned: a change to any of these structs fails the build here rather
// than making existing indexes unreadable.
static_assert(sizeof(ItemPointerData) == 6 && alignof(ItemPointerData) == 2);
static_assert(sizeof(PageOpaque) == 4 && offsetof(PageOpaque, page_id) == 2);
static_assert(sizeof(MetaPage) == 64 && alignof(MetaPage) == 8);
static_assert(offsetof(MetaPage, version) == 4 && offsetof(MetaPage, dimensions) == 8 &&
              offsetof(MetaPage, m) == 12 && offsetof(MetaPage, ef_construction) == 14 &&
              offsetof(MetaPage, metric) == 16 && offsetof(MetaPage, format) == 17 &&
              offsetof(MetaPage, entry_level) == 18 && offsetof(MetaPage, entry) == 20 &&
              offsetof(MetaPage, insert_page) == 28 && offsetof(MetaPage, free_page) == 32 &&
              offsetof(MetaPage, free_after) == 40 && offsetof(MetaPage, code_bits) == 48 &&
              offsetof(MetaPage, code_stride) == 50 && offsetof(MetaPage, center_block) == 52 &&
              offsetof(MetaPage, code_seed) == 56);
static_assert(sizeof(TupleType) == 1 && sizeof(ElementState) == 1);
static_assert(sizeof(ElementTuple) == 16 && alignof(ElementTuple) == 4);
static_assert(offsetof(ElementTuple, level) == 1 && offsetof(ElementTuple, state) == 2 &&
              offsetof(ElementTuple, format) == 3 && offsetof(ElementTuple, heap_tid_count) == 4 &&
              offsetof(ElementTuple, dimensions) == 6 && offsetof(ElementTuple, neighbors) == 8 &&
              offsetof(ElementTuple, unused2) == 14 && offsetof(ElementTuple, vector) == 16);
static_assert(sizeof(NeighborTuple) == 4 && alignof(NeighborTuple) == 2);
static_assert(offsetof(NeighborTuple, level) == 1 && offsetof(NeighborTuple, m) == 2 &&
              offsetof(NeighborTuple, counts) == 4);

inline Size element_size(Size vector_bytes, int heap_tid_count) {
  return offsetof(ElementTuple, vector) + vector_bytes + sizeof(ItemPointerData) * heap_tid_count;
}
inline Size neighbor_ids_offset(int level) {
  return offsetof(NeighborTuple, counts) + sizeof(uint16) * (level + 1);
}
inline Size neighbor_capacity_total(int m, int level) {
  return 2 * m + static_cast<Size>(m) * level;
}
inline Size neighbor_slots_offset(int m, int level) {
  return TYPEALIGN(
      8, neighbor_ids_offset(level) + sizeof(ItemPointerData) * neighbor_capacity_total(m, level));
}
// The layout of the level-0 codes of a quantised index's lists (quant/list_codes.h; the slots
// of code_stride bytes hold padded / 8 bytes of 1-bit code, then the factors).
inline quant::ListCodes list_codes(Size code_stride, int m) {
  return quant::ListCodes(8 * (code_stride - sizeof(quant::CodeFactors)), 2 * static_cast<Size>(m));
}
inline quant::ListCodes list_codes(const MetaPage& meta) {
  return list_codes(meta.code_stride, meta.m);
}
// Lays `count` slots (code_stride bytes each) out as a list's codes in `area`, the rest zero.
inline void put_list_codes(Size code_stride, int m, uint8* area, const uint8* slots, Size count) {
  const quant::ListCodes layout = list_codes(code_stride, m);
  memset(area, 0, layout.bytes());
  for (Size i = 0; i < count; ++i) layout.put(area, i, slots + i * code_stride);
}
inline void put_list_codes(const MetaPage& meta, uint8* area, const uint8* slots, Size count) {
  put_list_codes(meta.code_stride, meta.m, area, slots, count);
}
// Bytes of a list tuple; `stride` is the metapage's code_stride (0: no codes).
inline Size neighbor_size(int m, int level, Size stride = 0) {
  if (stride == 0)
    return neighbor_ids_offset(level) + sizeof(ItemPointerData) * neighbor_capacity_total(m, level);
  return neighbor_slots_offset(m, level) + list_codes(stride, m).bytes();
}
// Ids of `level` start after those of the levels below it.
inline ItemPointerData* neighbor_ids(NeighborTuple* t, int level) {
  auto* base = reinterpret_cast<ItemPointerData*>(reinterpret_cast<char*>(t) +
                                                  neighbor_ids_offset(t->level));
  return level == 0 ? base : base + 2 * t->m + static_cast<Size>(t->m) * (level - 1);
}

// The codes of level 0, in the order of neighbor_ids(t, 0) (quantised indexes only; laid out
// by list_codes()).
inline uint8* neighbor_slots(NeighborTuple* t) {
  return reinterpret_cast<uint8*>(t) + neighbor_slots_offset(t->m, t->level);
}
inline const uint8* neighbor_slots(const NeighborTuple* t) {
  return neighbor_slots(const_cast<NeighborTuple*>(t));
}
inline bool quantized(const MetaPage& meta) { return meta.code_bits != 0; }

// The centre of a quantised index's codes: `dimensions` floats on a page of its own.
struct CenterTuple {
  TupleType type;
  uint8 unused[3];
  uint32 dimensions;
  float values[FLEXIBLE_ARRAY_MEMBER];
};
static_assert(offsetof(CenterTuple, values) == 8);

// Free space of an empty index page, and what an item of `size` bytes takes from it.
inline Size empty_page_free_space() {
  return BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(PageOpaque));
}
inline Size item_footprint(Size size) { return MAXALIGN(size) + sizeof(ItemIdData); }
// Most heap rows one element can hold: it must fit on an empty page (with room to spare for
// its neighbour list when the vector is small), and at most 1000.
inline int max_heap_tids(Size vector_bytes) {
  const Size full = empty_page_free_space() - sizeof(ItemIdData);
  const Size fixed = element_size(vector_bytes, 0);
  const Size room = fixed <= full / 2 ? full / 2 : full;
  int fit = static_cast<int>(std::min<Size>(1000, (room - fixed) / sizeof(ItemPointerData)));
  while (fit > 1 && MAXALIGN(element_size(vector_bytes, fit)) > room) --fit;
  return std::max(fit, 1);
}

// A node id is a tuple's TID packed as block << 16 | offset: ids in order are in page order.
inline NodeId to_node(BlockNumber block, OffsetNumber offset) {
  return (static_cast<NodeId>(block) << 16) | offset;
}
inline NodeId to_node(const ItemPointerData& tid) {
  return to_node(ItemPointerGetBlockNumberNoCheck(&tid), ItemPointerGetOffsetNumberNoCheck(&tid));
}
inline BlockNumber node_block(NodeId node) { return static_cast<BlockNumber>(node >> 16); }
inline OffsetNumber node_offset(NodeId node) { return static_cast<OffsetNumber>(node & 0xffff); }
inline ItemPointerData to_tid(NodeId node) {
  ItemPointerData tid;
  ItemPointerSet(&tid, node_block(node), node_offset(node));
  return tid;
}
// "(block,offset)", as messages name a tuple.
std::string node_text(NodeId node);

void init_page(Page page);
// The metapage of an empty graph.
MetaPage new_meta(int dimensions, const embedding::hnsw::Params& params,
                  embedding::hnsw::Metric metric, embedding::hnsw::Format format);
// Initialises `page` as the metapage holding `meta`.
void init_meta_page(Page page, const MetaPage& meta);
// Copies block 0's MetaPage (buffer share-locked meanwhile). Throws on a page that is not ours.
MetaPage read_meta(Relation index);
// Changes the metapage: fn(MetaPage&) edits a copy read under the page's exclusive buffer lock
// and returns whether it changed anything; a change is written through generic WAL before the
// lock is released. Concurrent writers change different fields (inserts the insert and free
// pages, VACUUM the free fields and the entry point), so none of their changes is lost. fn must
// not call PostgreSQL.
Buffer lock_meta(Relation index, MetaPage* meta);
void write_meta_and_unlock(Relation index, Buffer buf, const MetaPage& meta, bool changed);
template <class Fn>
void modify_meta(Relation index, Fn&& fn) {
  MetaPage meta;
  Buffer buf = lock_meta(index, &meta);
  const bool changed = fn(meta);
  write_meta_and_unlock(index, buf, meta, changed);
}
// The item at `tid` on a locked page, or nullptr when the offset is out of range or unused.
Item page_item(Page page, OffsetNumber offset, Size* size);
// The tuple at `offset`, checked for its type: tuple_at<ElementTuple>(page, off, kElement).
// nullptr if the item is absent or of another type; `size`, when given, receives its length.
template <typename T>
T* tuple_at(Page page, OffsetNumber offset, TupleType type, Size* size = nullptr) {
  Size length = 0;
  auto* t = reinterpret_cast<T*>(page_item(page, offset, &length));
  if (t == nullptr || length < sizeof(TupleType) || t->type != type) return nullptr;
  if (size != nullptr) *size = length;
  return t;
}
// Throws Error(kCorruptData) naming the index, what is wrong, and the node's TID.
[[noreturn]] void corrupt(Relation index, const char* what, NodeId node);

}  // namespace embedding::pg::hnsw
