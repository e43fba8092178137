// VACUUM for hnsw: drop dead heap TIDs from elements, mark elements without live rows dead,
// then repair the graph: every live element that linked to a dead one re-selects its neighbours
// from its remaining ones and those of the dead element, so searches keep their recall. Last,
// dead elements become free: inserts overwrite them once no scan can still be reading them.
#include <algorithm>
#include <vector>

#include "core/common/id_set.h"
#include "core/hnsw/select.h"
#include "pg/guard.h"
#include "pg/hnsw/graph.h"
#include "pg/hnsw/hnsw.h"
#include "pg/pg_call.h"

extern "C" {
#include "access/transam.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "utils/memutils.h"
}

namespace embedding::pg::hnsw {
namespace {

struct VacuumState {
  embedding::IdSet deleted;
  VectorCache cache;
  std::vector<NodeId> live;
  std::vector<Candidate> candidates;
  NodeId ids[2 * embedding::hnsw::kMaxM];
  NodeId second[2 * embedding::hnsw::kMaxM];
  // The highest live element, for a new entry point.
  NodeId top = 0;
  int top_level = -1;
  std::vector<BlockNumber> dead_blocks;  // pages with elements in state kDead, ascending
  BlockNumber first_deleted = 0;         // the lowest page with a dead or free element (0: none)
};

// Pass 1 on one page: removes dead heap TIDs and marks elements left without any dead. Runs
// beside inserts (they may merge a row into an element only while it is live, under the same
// buffer lock).
void remove_dead_rows(IndexVacuumInfo* info, IndexBulkDeleteResult* stats, BlockNumber block,
                      IndexBulkDeleteCallback callback, void* callback_state) {
  Buffer buf = ReadBufferExtended(info->index, MAIN_FORKNUM, block, RBM_NORMAL, info->strategy);
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  GenericXLogState* state = GenericXLogStart(info->index);
  Page page = GenericXLogRegisterBuffer(state, buf, 0);
  bool changed = false;
  for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); ++off) {
    auto* element = tuple_at<ElementTuple>(page, off, TupleType::kElement);
    if (element == nullptr || element->deleted != kLive) continue;
    int kept = 0;
    ItemPointerData* tids = heap_tids(element);
    for (int i = 0; i < element->heap_tid_count; ++i) {
      if (callback(&tids[i], callback_state)) {
        stats->tuples_removed += 1;
        changed = true;
      } else {
        tids[kept++] = tids[i];
      }
    }
    element->heap_tid_count = static_cast<uint16>(kept);
    stats->num_index_tuples += kept;
    if (kept == 0) element->deleted = kDead;
  }
  if (changed)
    GenericXLogFinish(state);
  else
    GenericXLogAbort(state);
  UnlockReleaseBuffer(buf);
}

// Pass 2's census of one page, under the exclusive graph lock (so it includes what inserts
// added during pass 1): live elements to repair, deleted ones to unlink, the highest live one.
void collect(IndexVacuumInfo* info, BlockNumber block, VacuumState& v) {
  Buffer buf = ReadBufferExtended(info->index, MAIN_FORKNUM, block, RBM_NORMAL, info->strategy);
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  Page page = BufferGetPage(buf);
  for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); ++off) {
    auto* element = tuple_at<ElementTuple>(page, off, TupleType::kElement);
    if (element == nullptr) continue;
    ItemPointerData tid;
    ItemPointerSet(&tid, block, off);
    const NodeId node = to_node(tid);
    if (element->deleted == kLive) {
      v.live.push_back(node);
      if (element->level > v.top_level) {
        v.top_level = element->level;
        v.top = node;
      }
      continue;
    }
    // Dead now, or dead or free since an earlier VACUUM.
    v.deleted.insert(node);
    if (v.first_deleted == 0) v.first_deleted = block;
    if (element->deleted == kDead && (v.dead_blocks.empty() || v.dead_blocks.back() != block))
      v.dead_blocks.push_back(block);
  }
  UnlockReleaseBuffer(buf);
}

// Pass 2 for one live element: replace deleted neighbours on every level.
void repair(PageGraph& graph, NodeId node, int top_level, VacuumState& v) {
  for (int level = 0; level <= top_level; ++level) {
    const std::size_t n = graph.neighbors(node, level, v.ids);
    bool touched = false;
    for (std::size_t i = 0; i < n && !touched; ++i) touched = v.deleted.contains(v.ids[i]);
    if (!touched) continue;
    v.cache.clear();
    v.candidates.clear();
    auto add = [&](NodeId id) {
      if (id == node || v.deleted.contains(id)) return;
      for (const Candidate& c : v.candidates)
        if (c.node == id) return;
      v.candidates.push_back({graph.distance(node, id), id});
    };
    for (std::size_t i = 0; i < n; ++i) {
      if (!v.deleted.contains(v.ids[i])) {
        add(v.ids[i]);
        continue;
      }
      const std::size_t m = graph.neighbors(v.ids[i], level, v.second);
      for (std::size_t k = 0; k < m; ++k) add(v.second[k]);
    }
    std::sort(v.candidates.begin(), v.candidates.end(), embedding::hnsw::closer);
    const std::size_t kept = embedding::hnsw::select_neighbors(
        v.candidates.data(), v.candidates.size(), graph.neighbor_capacity(level),
        [&graph](NodeId a, NodeId b) { return graph.distance(a, b); });
    for (std::size_t i = 0; i < kept; ++i) v.ids[i] = v.candidates[i].node;
    graph.write_neighbors(node, level, v.ids, kept);
  }
}

// Pass 3, once no live list links to a dead element: they all become free.
void free_dead(IndexVacuumInfo* info, const VacuumState& v) {
  for (BlockNumber block : v.dead_blocks) {
    vacuum_delay_point();
    Buffer buf = ReadBufferExtended(info->index, MAIN_FORKNUM, block, RBM_NORMAL, info->strategy);
    LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
    GenericXLogState* state = GenericXLogStart(info->index);
    Page page = GenericXLogRegisterBuffer(state, buf, 0);
    for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); ++off) {
      auto* element = tuple_at<ElementTuple>(page, off, TupleType::kElement);
      if (element != nullptr && element->deleted == kDead) element->deleted = kFree;
    }
    GenericXLogFinish(state);
    UnlockReleaseBuffer(buf);
  }
}

int element_level(Relation index, NodeId node) {
  ItemPointerData tid = to_tid(node);
  Buffer buf = pin_block(index, ItemPointerGetBlockNumber(&tid));
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  auto* element = tuple_at<ElementTuple>(BufferGetPage(buf), ItemPointerGetOffsetNumber(&tid),
                                         TupleType::kElement);
  int level = element != nullptr ? element->level : -1;
  UnlockReleaseBuffer(buf);
  return level;
}

}  // namespace
}  // namespace embedding::pg::hnsw

using namespace embedding::pg::hnsw;

extern "C" IndexBulkDeleteResult* hnsw_bulkdelete(IndexVacuumInfo* info,
                                                  IndexBulkDeleteResult* stats,
                                                  IndexBulkDeleteCallback callback,
                                                  void* callback_state) {
  return embedding::pg::guarded([&]() {
    if (stats == nullptr)
      stats = static_cast<IndexBulkDeleteResult*>(palloc0(sizeof(IndexBulkDeleteResult)));
    Relation index = info->index;
    MemoryContext cxt =
        AllocSetContextCreate(CurrentMemoryContext, "hnsw vacuum", ALLOCSET_DEFAULT_SIZES);
    VacuumState* v = embedding::pg::new_owned<VacuumState>(cxt);
    // Pass 1 beside inserts and searches; then inserts wait while the graph is repaired and
    // dead elements are freed (searches go on).
    stats->num_index_tuples = 0;
    for (BlockNumber block = 1; block < RelationGetNumberOfBlocks(index); ++block) {
      vacuum_delay_point();
      remove_dead_rows(info, stats, block, callback, callback_state);
    }
    lock_graph(index, GraphLock::kExclusive);
    MetaPage meta = read_meta(index);
    const BlockNumber nblocks = RelationGetNumberOfBlocks(index);
    for (BlockNumber block = 1; block < nblocks; ++block) {
      vacuum_delay_point();
      collect(info, block, *v);
    }
    if (v->deleted.size() > 0) {
      PageGraph graph(index, meta, &v->cache);
      for (NodeId node : v->live) {
        vacuum_delay_point();
        repair(graph, node, element_level(index, node), *v);
      }
      if (meta.entry_level >= 0 && v->deleted.contains(to_node(meta.entry))) {
        modify_meta(index, [&](MetaPage& current) {  // before the old entry point is freed
          current.entry_level = static_cast<int16>(v->top_level);
          if (v->top_level >= 0)
            current.entry = to_tid(v->top);
          else
            ItemPointerSetInvalid(&current.entry);
          return true;
        });
      }
    }
    // A scan that began before this point may still hold a dead element it reached through a
    // list repaired since; one that begins later cannot reach any. Scans hold a snapshot, so
    // once the id read here is older than every snapshot's xmin, those scans have ended. The
    // id is stored before any element becomes free, so that a VACUUM interrupted in pass 3
    // leaves no free element without it (free_page may point at dead ones: inserts skip them).
    // (A hot standby's queries are not among the snapshots the primary sees unless
    // hot_standby_feedback is on: generic WAL cannot carry a recovery conflict. Such a query
    // that spans a VACUUM and later inserts may miss or misorder rows, as it may with
    // pgvector's reuse of deleted elements; it cannot crash.)
    const uint64 next_xid = U64FromFullTransactionId(ReadNextFullTransactionId());
    modify_meta(index, [&](MetaPage& current) {
      const MetaPage before = current;
      if (!v->dead_blocks.empty()) current.free_after = next_xid;
      current.free_page = v->first_deleted;
      return current.free_after != before.free_after || current.free_page != before.free_page;
    });
    free_dead(info, *v);
    unlock_graph(index, GraphLock::kExclusive);
    MemoryContextDelete(cxt);
    stats->num_pages = nblocks;
    return stats;
  });
}

extern "C" IndexBulkDeleteResult* hnsw_vacuumcleanup(IndexVacuumInfo* info,
                                                     IndexBulkDeleteResult* stats) {
  if (info->analyze_only) return stats;
  if (stats == nullptr) {
    // No bulk delete ran: count the live rows for the statistics.
    stats = static_cast<IndexBulkDeleteResult*>(palloc0(sizeof(IndexBulkDeleteResult)));
    const BlockNumber nblocks = RelationGetNumberOfBlocks(info->index);
    for (BlockNumber block = 1; block < nblocks; ++block) {
      vacuum_delay_point();
      Buffer buf = ReadBufferExtended(info->index, MAIN_FORKNUM, block, RBM_NORMAL, info->strategy);
      LockBuffer(buf, BUFFER_LOCK_SHARE);
      Page page = BufferGetPage(buf);
      for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); ++off) {
        auto* element = tuple_at<ElementTuple>(page, off, TupleType::kElement);
        if (element != nullptr && !element->deleted)
          stats->num_index_tuples += element->heap_tid_count;
      }
      UnlockReleaseBuffer(buf);
    }
  }
  stats->num_pages = RelationGetNumberOfBlocks(info->index);
  return stats;
}
