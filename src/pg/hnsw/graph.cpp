// PageGraph: reads and writes of elements and neighbour lists on hnsw index pages.
#include "pg/hnsw/graph.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "core/common/error.h"

extern "C" {
#include "storage/lmgr.h"
}

namespace embedding::pg::hnsw {

[[noreturn]] void corrupt(Relation index, const char* what, NodeId node) {
  throw Error(ErrorCode::kCorruptData,
              std::string("hnsw index \"") + RelationGetRelationName(index) +
                  "\" is corrupt: " + what + " at (" + std::to_string(node >> 16) + "," +
                  std::to_string(node & 0xffff) + ")");
}

std::size_t PageGraph::neighbors(NodeId node, int level, NodeId* out) const {
  ItemPointerData tid = to_tid(node);
  Buffer buf = pin_block(index_, ItemPointerGetBlockNumber(&tid));
  // The element's link to its list never changes: read it under the pin alone (see distances()).
  auto* element = tuple_at<ElementTuple>(BufferGetPage(buf), ItemPointerGetOffsetNumber(&tid),
                                         TupleType::kElement);
  if (element == nullptr) {
    ReleaseBuffer(buf);
    corrupt(index_, "missing element", node);
  }
  ItemPointerData ntid = element->neighbors;
  if (ItemPointerGetBlockNumber(&ntid) != BufferGetBlockNumber(buf)) {
    ReleaseBuffer(buf);
    buf = pin_block(index_, ItemPointerGetBlockNumber(&ntid));
  }
  LockBuffer(buf, BUFFER_LOCK_SHARE);  // lists change under writers' exclusive locks
  auto* list = tuple_at<NeighborTuple>(BufferGetPage(buf), ItemPointerGetOffsetNumber(&ntid),
                                       TupleType::kNeighbors);
  if (list == nullptr || level > list->level) {
    UnlockReleaseBuffer(buf);
    if (list == nullptr) corrupt(index_, "missing neighbour list", node);
    return 0;
  }
  std::size_t count = std::min<std::size_t>(list->counts[level], neighbor_capacity(level));
  const ItemPointerData* ids = neighbor_ids(list, level);
  for (std::size_t i = 0; i < count; ++i) out[i] = to_node(ids[i]);
  UnlockReleaseBuffer(buf);
  return count;
}

bool PageGraph::read_vector(NodeId node, float* out) const {
  ItemPointerData tid = to_tid(node);
  Buffer buf = pin_block(index_, ItemPointerGetBlockNumber(&tid));
  auto* element = tuple_at<ElementTuple>(BufferGetPage(buf), ItemPointerGetOffsetNumber(&tid),
                                         TupleType::kElement);
  bool ok = element != nullptr && element->dimensions == meta_.dimensions;
  if (ok) std::memcpy(out, element->vector, sizeof(float) * meta_.dimensions);
  ReleaseBuffer(buf);
  return ok;
}

float PageGraph::distance(NodeId a, NodeId b) const {
  if (cache_ == nullptr) {
    float va[2000], vb[2000];  // hnsw indexes at most 2000 dimensions
    if (meta_.dimensions > 2000 || !read_vector(a, va)) corrupt(index_, "missing element", a);
    if (!read_vector(b, vb)) corrupt(index_, "missing element", b);
    return distance_(va, vb);
  }
  const float* v[2];
  const NodeId nodes[2] = {a, b};
  for (int i = 0; i < 2; ++i) {
    v[i] = cache_->find(nodes[i]);
    if (v[i] == nullptr) {
      float* slot = cache_->add(nodes[i], meta_.dimensions);
      if (!read_vector(nodes[i], slot)) corrupt(index_, "missing element", nodes[i]);
      v[i] = slot;
    }
  }
  v[0] = cache_->find(a);  // the arena may have moved when b was added
  return distance_(v[0], v[1]);
}

float PageQueryDistance::operator()(NodeId node) const {
  float d;
  distances(&node, 1, &d);
  return d;
}

// Element tuples never move or go away (nothing in this access method deletes or compacts
// tuples), and a vector changes only when an insert reuses a free element, which no running
// scan can reach any more (MetaPage::free_after, vacuum.cpp; hot-standby queries aside).
// Otherwise VACUUM edits only the header's heap-TID count and state. So vectors are read under a
// pin with no content lock, as heap tuples are once known visible (storage/buffer/README). A
// concurrent GenericXLogFinish() or full-page-image replay rewrites those bytes with identical
// values.
void PageQueryDistance::distances(const NodeId* ids, std::size_t n, float* out) const {
  // Ids in order are in block order: the ids on one page share one pin. At most kMaxPins pages
  // are pinned at once (PostgreSQL tracks 8 pins per backend without a hash table).
  constexpr std::size_t kMaxPins = 6;
  constexpr std::size_t kMaxBatch = 2 * embedding::hnsw::kMaxM;
  struct Item {
    uint16 at;  // position in ids
    uint16 pin;
    const ElementTuple* element;
  };
  Item items[kMaxBatch];
  Buffer pins[kMaxPins];
  Relation index = graph_.index();
  const uint16 dimensions = static_cast<uint16>(graph_.meta().dimensions);
  for (std::size_t base = 0; base < n; base += kMaxBatch) {
    const std::size_t size = std::min(kMaxBatch, n - base);
    for (std::size_t i = 0; i < size; ++i) items[i].at = static_cast<uint16>(base + i);
    for (std::size_t i = 0; i < size; ++i) {
      ItemPointerData tid = to_tid(ids[base + i]);
      prefetch_item(index, ItemPointerGetBlockNumber(&tid), ItemPointerGetOffsetNumber(&tid));
    }
    std::sort(items, items + size,
              [&](const Item& a, const Item& b) { return ids[a.at] < ids[b.at]; });
    for (std::size_t first = 0, last; first < size; first = last) {
      // 1. Pin the pages of the next items (up to kMaxPins pages); prefetch line pointers and
      //    page headers (the offset is checked against pd_lower).
      std::size_t pin_count = 0;
      BlockNumber pinned = InvalidBlockNumber;
      for (last = first; last < size; ++last) {
        ItemPointerData tid = to_tid(ids[items[last].at]);
        const BlockNumber block = ItemPointerGetBlockNumber(&tid);
        if (block != pinned) {
          if (pin_count == kMaxPins) break;
          pins[pin_count++] = pin_block(index, block);
          pinned = block;
          __builtin_prefetch(BufferGetPage(pins[pin_count - 1]));
        }
        items[last].pin = static_cast<uint16>(pin_count - 1);
        __builtin_prefetch(
            PageGetItemId(BufferGetPage(pins[pin_count - 1]), ItemPointerGetOffsetNumber(&tid)));
      }
      // 2. Find each tuple and prefetch its first lines, so that the misses overlap.
      for (std::size_t i = first; i < last; ++i) {
        ItemPointerData tid = to_tid(ids[items[i].at]);
        items[i].element =
            tuple_at<ElementTuple>(BufferGetPage(pins[items[i].pin]),
                                   ItemPointerGetOffsetNumber(&tid), TupleType::kElement);
        if (items[i].element == nullptr) continue;
        const char* p = reinterpret_cast<const char*>(items[i].element);
        __builtin_prefetch(p);
        __builtin_prefetch(p + 64);
        __builtin_prefetch(p + 128);
      }
      // 3. Compute, then unpin.
      std::optional<NodeId> missing;
      for (std::size_t i = first; i < last; ++i) {
        const ElementTuple* e = items[i].element;
        if (e != nullptr && e->dimensions == dimensions)
          out[items[i].at] = graph_.vector_distance()(query_, e->vector);
        else if (!missing)
          missing = ids[items[i].at];
      }
      for (std::size_t p = 0; p < pin_count; ++p) ReleaseBuffer(pins[p]);
      if (missing) corrupt(index, "missing element", *missing);
    }
  }
}

void PageGraph::write_neighbors(NodeId node, int level, const NodeId* ids, std::size_t count) {
  ItemPointerData tid = to_tid(node);
  Buffer buf = ReadBuffer(index_, ItemPointerGetBlockNumber(&tid));
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  auto* element = tuple_at<ElementTuple>(BufferGetPage(buf), ItemPointerGetOffsetNumber(&tid),
                                         TupleType::kElement);
  if (element == nullptr) {
    UnlockReleaseBuffer(buf);
    corrupt(index_, "missing element", node);
  }
  ItemPointerData ntid = element->neighbors;
  UnlockReleaseBuffer(buf);

  buf = ReadBuffer(index_, ItemPointerGetBlockNumber(&ntid));
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  GenericXLogState* state = GenericXLogStart(index_);
  Page page = GenericXLogRegisterBuffer(state, buf, 0);
  auto* list =
      tuple_at<NeighborTuple>(page, ItemPointerGetOffsetNumber(&ntid), TupleType::kNeighbors);
  if (list == nullptr || level > list->level) {
    GenericXLogAbort(state);
    UnlockReleaseBuffer(buf);
    corrupt(index_, "missing neighbour list", node);
  }
  count = std::min(count, neighbor_capacity(level));
  ItemPointerData* out = neighbor_ids(list, level);
  for (std::size_t i = 0; i < count; ++i) out[i] = to_tid(ids[i]);
  list->counts[level] = static_cast<uint16>(count);
  GenericXLogFinish(state);
  UnlockReleaseBuffer(buf);
}

bool PageGraph::offer_entry_point(NodeId node, int level) {
  MetaPage meta = read_meta(index_);
  if (meta.entry_level >= level) {
    meta_.entry = meta.entry;
    meta_.entry_level = meta.entry_level;
    return false;
  }
  meta.entry = to_tid(node);
  meta.entry_level = static_cast<int16>(level);
  update_meta(index_, meta);
  meta_.entry = meta.entry;
  meta_.entry_level = meta.entry_level;
  return true;
}

// A page-level heavyweight lock on the metapage block: it only conflicts with itself.
void lock_for_update(Relation index) { LockPage(index, kMetaBlock, ExclusiveLock); }
void unlock_for_update(Relation index) { UnlockPage(index, kMetaBlock, ExclusiveLock); }

}  // namespace embedding::pg::hnsw
