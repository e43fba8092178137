// PageGraph: reads and writes of elements and neighbour lists on hnsw index pages.
#include "pg/hnsw/graph.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "core/common/error.h"
#include "pg/hnsw/codes.h"
#include "pg/hnsw/place.h"

extern "C" {
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
}

namespace embedding::pg::hnsw {

namespace {

// What reading a neighbour list found.
enum class ListRead : uint8 { kRead, kMissingElement, kMissingList, kElsewhere };
struct ListResult {
  ListRead status;
  std::size_t count;
  ItemPointerData list;  // kElsewhere: the list's TID
};

// Copies the ids of `level` of the list at `offset` of a locked page into out (at most
// `capacity`); a list without that level reads as empty.
ListResult copy_list(Page page, OffsetNumber offset, int level, std::size_t capacity, NodeId* out) {
  auto* list = tuple_at<NeighborTuple>(page, offset, TupleType::kNeighbors);
  if (list == nullptr) return {ListRead::kMissingList, 0, {}};
  if (level > list->level) return {ListRead::kRead, 0, {}};
  const std::size_t count = std::min<std::size_t>(list->counts[level], capacity);
  const ItemPointerData* ids = neighbor_ids(list, level);
  for (std::size_t i = 0; i < count; ++i) out[i] = to_node(ids[i]);
  return {ListRead::kRead, count, {}};
}

}  // namespace

std::size_t PageGraph::neighbors(NodeId node, int level, NodeId* out) const {
  const std::size_t capacity = neighbor_capacity(level);
  // Every read of a page is under its share lock (see distances()); the list is usually on the
  // element's page, read under the same lock.
  ListResult read = with_page(index_, node_block(node), [&](Page page) -> ListResult {
    auto* element = tuple_at<ElementTuple>(page, node_offset(node), TupleType::kElement);
    if (element == nullptr) return {ListRead::kMissingElement, 0, {}};
    const ItemPointerData ntid = element->neighbors;
    if (ItemPointerGetBlockNumber(&ntid) != node_block(node))
      return {ListRead::kElsewhere, 0, ntid};
    return copy_list(page, ItemPointerGetOffsetNumber(&ntid), level, capacity, out);
  });
  if (read.status == ListRead::kElsewhere) {
    const ItemPointerData ntid = read.list;
    read = with_page(index_, ItemPointerGetBlockNumber(&ntid), [&](Page page) {
      return copy_list(page, ItemPointerGetOffsetNumber(&ntid), level, capacity, out);
    });
  }
  if (read.status == ListRead::kMissingElement) corrupt(index_, "missing element", node);
  if (read.status == ListRead::kMissingList) corrupt(index_, "missing neighbour list", node);
  return read.count;
}

Size PageGraph::read_vector(NodeId node, void* out) const {
  return with_element(index_, node, [&](const ElementTuple* element, Size) -> Size {
    const Size bytes = element != nullptr && matches(element, meta_) ? vector_bytes(element) : 0;
    if (bytes != 0) std::memcpy(out, element->vector, bytes);
    return bytes;
  });
}

bool PageGraph::merge_duplicate(NodeId node, NodeId existing) {
  const BlockNumber new_block = node_block(node);
  // The grown tuple may move the page's other tuples (PageIndexTupleOverwrite): safe because
  // every reader reads a page under its share lock and keeps no pointer into it after.
  const LockedPair pair = lock_pair(index_, node_block(existing), new_block);
  const Buffer old_buf = pair.first, new_buf = pair.second;
  const auto release = [&pair] { unlock_pair(pair); };
  Page old_page = BufferGetPage(old_buf);
  Size old_size = 0;
  auto* old_element =
      tuple_at<ElementTuple>(old_page, node_offset(existing), TupleType::kElement, &old_size);
  auto* new_element =
      tuple_at<ElementTuple>(BufferGetPage(new_buf), node_offset(node), TupleType::kElement);
  const int count = old_element ? old_element->heap_tid_count : 0;
  const bool same_kind = old_element != nullptr && new_element != nullptr &&
                         matches(old_element, meta_) && matches(new_element, meta_);
  const Size bytes = same_kind ? vector_bytes(old_element) : 0;
  const Size grown = element_size(bytes, count + 1);
  const bool mergeable = same_kind && old_element->state == ElementState::kLive &&
                         new_element->heap_tid_count == 1 && count < max_heap_tids(bytes) &&
                         vector_bytes(new_element) == bytes &&
                         std::memcmp(old_element->vector, new_element->vector, bytes) == 0 &&
                         (MAXALIGN(grown) <= MAXALIGN(old_size) ||
                          PageGetExactFreeSpace(old_page) >= MAXALIGN(grown) - MAXALIGN(old_size));
  if (!mergeable) {
    release();
    return false;
  }
  auto* merged = static_cast<ElementTuple*>(palloc0(std::max(grown, old_size)));
  std::memcpy(merged, old_element, old_size);
  heap_tids(merged)[count] = heap_tids(new_element)[0];
  merged->heap_tid_count = static_cast<uint16>(count + 1);
  GenericXLogState* state = GenericXLogStart(index_);
  Page opage = GenericXLogRegisterBuffer(state, old_buf, 0);
  Page npage = new_buf == old_buf ? opage : GenericXLogRegisterBuffer(state, new_buf, 0);
  if (!PageIndexTupleOverwrite(opage, node_offset(existing), reinterpret_cast<Item>(merged),
                               std::max(grown, old_size)))
    elog(ERROR, "hnsw: could not grow an element tuple");
  mark_free(npage, node_offset(node));
  GenericXLogFinish(state);
  release();
  pfree(merged);
  note_free(new_block);
  return true;
}

void PageGraph::mark_free(Page page, OffsetNumber offset) {
  auto* freed = reinterpret_cast<ElementTuple*>(PageGetItem(page, PageGetItemId(page, offset)));
  freed->state = ElementState::kFree;
  freed->heap_tid_count = 0;
}

void PageGraph::note_free(BlockNumber block) {
  // Let inserts reuse the freed element. Nothing can read it (no list links to it), so when no
  // other element is waiting to be freed it is reusable at once (free_after 0).
  modify_meta(index_, [&](MetaPage& meta) {
    if (meta.free_page != 0 && meta.free_page <= block) return false;
    if (meta.free_page == 0) meta.free_after = 0;
    meta.free_page = block;
    return true;
  });
}

NodeId PageGraph::relocate_duplicate(NodeId node, NodeId closest) {
  uint32 vector[kMaxVectorBytes / sizeof(uint32)];
  uint32 other[kMaxVectorBytes / sizeof(uint32)];
  const Size bytes = read_vector(node, vector);
  if (bytes == 0 || read_vector(closest, other) != bytes || std::memcmp(vector, other, bytes) != 0)
    return node;
  const int reserved = max_heap_tids(bytes);
  struct Movable {
    bool movable;
    int level;
    ItemPointerData heap_tid;
  };
  const Movable found = with_element(index_, node, [&](const ElementTuple* element, Size size) {
    if (element == nullptr || element->state != ElementState::kLive ||
        element->heap_tid_count != 1 || size >= element_size(bytes, reserved))
      return Movable{false, 0, {}};
    return Movable{true, element->level, heap_tids(element)[0]};
  });
  if (!found.movable) return node;
  // The copy first, then the original is freed: a crash in between leaves an unlinked element
  // whose row the crash aborted, as any insert interrupted before linking does.
  MetaPage meta = read_meta(index_);
  const ItemPointerData moved =
      place_element(index_, meta, vector, found.level, &found.heap_tid, 1, reserved);
  Buffer buf = ReadBuffer(index_, node_block(node));
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  GenericXLogState* state = GenericXLogStart(index_);
  mark_free(GenericXLogRegisterBuffer(state, buf, 0), node_offset(node));
  GenericXLogFinish(state);
  UnlockReleaseBuffer(buf);
  note_free(node_block(node));
  return to_node(moved);
}

float PageGraph::distance(NodeId a, NodeId b) const {
  if (cache_ == nullptr) {
    uint32 va[kMaxVectorBytes / 4], vb[kMaxVectorBytes / 4];
    if (read_vector(a, va) == 0) corrupt(index_, "missing element", a);
    if (read_vector(b, vb) == 0) corrupt(index_, "missing element", b);
    return distance_(va, vb);
  }
  const void* v[2];
  const NodeId nodes[2] = {a, b};
  for (int i = 0; i < 2; ++i) {
    v[i] = cache_->find(nodes[i]);
    if (v[i] == nullptr) {
      uint32 read[kMaxVectorBytes / 4];
      const Size bytes = read_vector(nodes[i], read);
      if (bytes == 0) corrupt(index_, "missing element", nodes[i]);
      void* slot = cache_->add(nodes[i], bytes);
      std::memcpy(slot, read, bytes);
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

// Pages are read under their share lock: an insert that merges a duplicate row into an element
// grows that tuple, which moves the page's other tuples (merge_duplicate()). An element's
// vector changes only when an insert reuses a free element, which no running scan can reach any
// more (MetaPage::free_after, vacuum.cpp; hot-standby queries aside). Reading under a pin alone
// would race with that move.
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
  const MetaPage& meta = graph_.meta();
  for (std::size_t base = 0; base < n; base += kMaxBatch) {
    const std::size_t size = std::min(kMaxBatch, n - base);
    for (std::size_t i = 0; i < size; ++i) items[i].at = static_cast<uint16>(base + i);
    for (std::size_t i = 0; i < size; ++i)
      prefetch_item(index, node_block(ids[base + i]), node_offset(ids[base + i]));
    std::sort(items, items + size,
              [&](const Item& a, const Item& b) { return ids[a.at] < ids[b.at]; });
    for (std::size_t first = 0, last; first < size; first = last) {
      // 1. Pin the pages of the next items (up to kMaxPins pages); prefetch line pointers and
      //    page headers (the offset is checked against pd_lower).
      std::size_t pin_count = 0;
      BlockNumber pinned = InvalidBlockNumber;
      for (last = first; last < size; ++last) {
        const NodeId node = ids[items[last].at];
        const BlockNumber block = node_block(node);
        if (block != pinned) {
          if (pin_count == kMaxPins) break;
          pins[pin_count++] = pin_block(index, block);
          pinned = block;
          __builtin_prefetch(BufferGetPage(pins[pin_count - 1]));
        }
        items[last].pin = static_cast<uint16>(pin_count - 1);
        __builtin_prefetch(PageGetItemId(BufferGetPage(pins[pin_count - 1]), node_offset(node)));
      }
      for (std::size_t p = 0; p < pin_count; ++p) LockBuffer(pins[p], BUFFER_LOCK_SHARE);
      // 2. Find each tuple and prefetch its first lines, so that the misses overlap.
      for (std::size_t i = first; i < last; ++i) {
        items[i].element = tuple_at<ElementTuple>(
            BufferGetPage(pins[items[i].pin]), node_offset(ids[items[i].at]), TupleType::kElement);
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
        if (e != nullptr && matches(e, meta))
          out[items[i].at] = graph_.vector_distance()(query_, e->vector);
        else if (!missing)
          missing = ids[items[i].at];
      }
      for (std::size_t p = 0; p < pin_count; ++p) UnlockReleaseBuffer(pins[p]);
      if (missing) corrupt(index, "missing element", *missing);
    }
  }
}

void PageGraph::slot_of(NodeId node, uint8* out) const {
  const Size stride = meta_.code_stride;
  if (cache_ != nullptr) {
    if (const uint8* known = cache_->find_code(node)) {
      std::memcpy(out, known, stride);
      return;
    }
  }
  uint32 read[kMaxVectorBytes / 4];
  const void* vector = cache_ != nullptr ? cache_->find(node) : nullptr;
  if (vector == nullptr) {
    if (read_vector(node, read) == 0) corrupt(index_, "missing element", node);
    vector = read;
  }
  encode_slot(*codec_, static_cast<embedding::hnsw::Format>(meta_.format), vector, out);
  if (cache_ != nullptr) std::memcpy(cache_->add_code(node, stride), out, stride);
}

bool PageGraph::write_neighbors(NodeId node, int level, const NodeId* ids, std::size_t count,
                                const NodeId* before, std::size_t before_count, bool must_match) {
  struct ListTid {
    bool found;
    ItemPointerData tid;
  };
  const ListTid list_tid = with_element(index_, node, [](const ElementTuple* element, Size) {
    return element == nullptr ? ListTid{false, {}} : ListTid{true, element->neighbors};
  });
  if (!list_tid.found) corrupt(index_, "missing element", node);
  const ItemPointerData ntid = list_tid.tid;
  count = std::min(count, neighbor_capacity(level));

  // Quantised level 0: the codes of new links, computed before the list is locked (they read
  // other pages); the others are copied from the list itself.
  const Size stride = level == 0 ? meta_.code_stride : 0;
  if (stride != 0 && codec_ == nullptr)
    elog(ERROR, "hnsw: a writer of a quantised index has no codec");
  alignas(8) uint8 fresh[BLCKSZ];  // 2 * m slots fit a page (quantized_stride())
  alignas(8) uint8 slots[BLCKSZ];
  bool is_fresh[2 * embedding::hnsw::kMaxM] = {};
  if (stride != 0) {
    for (std::size_t i = 0; i < count; ++i) {
      if (std::find(before, before + before_count, ids[i]) != before + before_count) continue;
      slot_of(ids[i], fresh + i * stride);
      is_fresh[i] = true;
    }
  }

  Buffer buf = ReadBuffer(index_, ItemPointerGetBlockNumber(&ntid));
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  auto* current = tuple_at<NeighborTuple>(BufferGetPage(buf), ItemPointerGetOffsetNumber(&ntid),
                                          TupleType::kNeighbors);
  if (current == nullptr || level > current->level) {
    UnlockReleaseBuffer(buf);
    corrupt(index_, "missing neighbour list", node);
  }
  const ItemPointerData* now = neighbor_ids(current, level);
  const std::size_t now_count = current->counts[level];
  if (must_match) {
    // Another writer may have changed the list since the caller read it.
    bool same = now_count == before_count;
    for (std::size_t i = 0; same && i < before_count; ++i) same = to_node(now[i]) == before[i];
    if (!same) {
      UnlockReleaseBuffer(buf);
      return false;
    }
  }
  NodeId kept[2 * embedding::hnsw::kMaxM];
  std::size_t kept_count = 0;
  const quant::ListCodes layout = list_codes(meta_);
  for (std::size_t i = 0; i < count; ++i) {
    if (stride != 0) {
      uint8* slot = slots + kept_count * stride;
      bool known = is_fresh[i];
      if (known) std::memcpy(slot, fresh + i * stride, stride);
      for (std::size_t j = 0; !known && j < now_count; ++j)
        if (to_node(now[j]) == ids[i]) {
          layout.get(neighbor_slots(current), j, slot);
          known = true;
        }
      if (!known) continue;  // only when a forced write lost the race
    }
    kept[kept_count++] = ids[i];
  }
  GenericXLogState* state = GenericXLogStart(index_);
  Page page = GenericXLogRegisterBuffer(state, buf, 0);
  auto* list =
      tuple_at<NeighborTuple>(page, ItemPointerGetOffsetNumber(&ntid), TupleType::kNeighbors);
  ItemPointerData* out = neighbor_ids(list, level);
  for (std::size_t i = 0; i < kept_count; ++i) out[i] = to_tid(kept[i]);
  if (stride != 0) put_list_codes(meta_, neighbor_slots(list), slots, kept_count);
  list->counts[level] = static_cast<uint16>(kept_count);
  GenericXLogFinish(state);
  UnlockReleaseBuffer(buf);
  return true;
}

bool PageGraph::offer_entry_point(NodeId node, int level) {
  bool taken = false;
  modify_meta(index_, [&](MetaPage& meta) {
    taken = meta.entry_level < level;
    if (taken) {
      meta.entry = to_tid(node);
      meta.entry_level = static_cast<int16>(level);
    }
    meta_.entry = meta.entry;
    meta_.entry_level = meta.entry_level;
    return taken;
  });
  return taken;
}

// A page-level heavyweight lock on the metapage block: it only conflicts with itself.
static LOCKMODE lock_mode(GraphLock mode) {
  return mode == GraphLock::kShared ? ShareLock : ExclusiveLock;
}
void lock_graph(Relation index, GraphLock mode) { LockPage(index, kMetaBlock, lock_mode(mode)); }
void unlock_graph(Relation index, GraphLock mode) {
  UnlockPage(index, kMetaBlock, lock_mode(mode));
}

}  // namespace embedding::pg::hnsw
