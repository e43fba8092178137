// PageGraph: reads and writes of elements and neighbour lists on hnsw index pages.
#include "pg/hnsw/graph.h"

#include <cstring>

#include "core/common/error.h"

extern "C" {
#include "storage/lmgr.h"
}

namespace embedding::pg::hnsw {
namespace {

[[noreturn]] void corrupt(Relation index, const char* what, NodeId node) {
  throw Error(ErrorCode::kCorruptData,
              std::string("hnsw index \"") + RelationGetRelationName(index) +
                  "\" is corrupt: " + what + " at (" + std::to_string(node >> 16) + "," +
                  std::to_string(node & 0xffff) + ")");
}

// The tuple at `tid` on the locked page, checked for its type; nullptr if absent or another type.
template <typename T>
T* tuple_at(Page page, OffsetNumber offset, TupleType type) {
  Size size = 0;
  auto* t = reinterpret_cast<T*>(page_item(page, offset, &size));
  if (t == nullptr || size < sizeof(TupleType) || t->type != type) return nullptr;
  return t;
}

}  // namespace

std::size_t PageGraph::neighbors(NodeId node, int level, NodeId* out) const {
  ItemPointerData tid = to_tid(node);
  Buffer buf = ReadBuffer(index_, ItemPointerGetBlockNumber(&tid));
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  Page page = BufferGetPage(buf);
  auto* element =
      tuple_at<ElementTuple>(page, ItemPointerGetOffsetNumber(&tid), TupleType::kElement);
  if (element == nullptr) {
    UnlockReleaseBuffer(buf);
    corrupt(index_, "missing element", node);
  }
  ItemPointerData ntid = element->neighbors;
  if (ItemPointerGetBlockNumber(&ntid) != BufferGetBlockNumber(buf)) {
    UnlockReleaseBuffer(buf);
    buf = ReadBuffer(index_, ItemPointerGetBlockNumber(&ntid));
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    page = BufferGetPage(buf);
  }
  auto* list =
      tuple_at<NeighborTuple>(page, ItemPointerGetOffsetNumber(&ntid), TupleType::kNeighbors);
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
  Buffer buf = ReadBuffer(index_, ItemPointerGetBlockNumber(&tid));
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  auto* element = tuple_at<ElementTuple>(BufferGetPage(buf), ItemPointerGetOffsetNumber(&tid),
                                         TupleType::kElement);
  bool ok = element != nullptr && element->dimensions == meta_.dimensions;
  if (ok) std::memcpy(out, element->vector, sizeof(float) * meta_.dimensions);
  UnlockReleaseBuffer(buf);
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
  ItemPointerData tid = to_tid(node);
  Buffer buf = ReadBuffer(graph_.index(), ItemPointerGetBlockNumber(&tid));
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  auto* element = tuple_at<ElementTuple>(BufferGetPage(buf), ItemPointerGetOffsetNumber(&tid),
                                         TupleType::kElement);
  if (element == nullptr || element->dimensions != graph_.meta().dimensions) {
    UnlockReleaseBuffer(buf);
    corrupt(graph_.index(), "missing element", node);
  }
  float d = graph_.vector_distance()(query_, element->vector);
  UnlockReleaseBuffer(buf);
  return d;
}

void PageQueryDistance::distances(const NodeId* ids, std::size_t n, float* out) const {
  constexpr std::size_t kBatch = 64;
  Buffer buffers[kBatch];
  const char* items[kBatch];
  for (std::size_t start = 0; start < n; start += kBatch) {
    const std::size_t count = std::min(kBatch, n - start);
    // 1. Pin, and prefetch each line pointer.
    for (std::size_t i = 0; i < count; ++i) {
      ItemPointerData tid = to_tid(ids[start + i]);
      buffers[i] = ReadBuffer(graph_.index(), ItemPointerGetBlockNumber(&tid));
      Page page = BufferGetPage(buffers[i]);
      __builtin_prefetch(page);  // the header: step 3 checks the offset against pd_lower
      __builtin_prefetch(PageGetItemId(page, ItemPointerGetOffsetNumber(&tid)));
    }
    // 2. Prefetch each tuple's first lines. This unlocked read only computes an address to
    //    prefetch (existing line pointers never move); step 3 reads under the lock.
    for (std::size_t i = 0; i < count; ++i) {
      ItemPointerData tid = to_tid(ids[start + i]);
      Page page = BufferGetPage(buffers[i]);
      ItemId id = PageGetItemId(page, ItemPointerGetOffsetNumber(&tid));
      items[i] = page + std::min<unsigned>(ItemIdGetOffset(id), BLCKSZ - 128);
      __builtin_prefetch(items[i]);
      __builtin_prefetch(items[i] + 64);
      __builtin_prefetch(items[i] + 128);
    }
    // 3. Read under the share lock and compute.
    for (std::size_t i = 0; i < count; ++i) {
      ItemPointerData tid = to_tid(ids[start + i]);
      LockBuffer(buffers[i], BUFFER_LOCK_SHARE);
      auto* element = tuple_at<ElementTuple>(BufferGetPage(buffers[i]),
                                             ItemPointerGetOffsetNumber(&tid), TupleType::kElement);
      const bool ok = element != nullptr && element->dimensions == graph_.meta().dimensions;
      if (ok) out[start + i] = graph_.vector_distance()(query_, element->vector);
      LockBuffer(buffers[i], BUFFER_LOCK_UNLOCK);
      if (!ok) {
        for (std::size_t j = i; j < count; ++j) ReleaseBuffer(buffers[j]);
        corrupt(graph_.index(), "missing element", ids[start + i]);
      }
      ReleaseBuffer(buffers[i]);
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
