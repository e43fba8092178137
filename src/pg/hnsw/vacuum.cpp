// VACUUM for hnsw: drop dead heap TIDs from elements, mark elements without live rows dead,
// then repair the graph: every live element that linked to a dead one re-selects its neighbours
// from its remaining ones and those of the dead element, and the chosen ones link back to it, so
// searches keep their recall. Last, dead elements become free: inserts overwrite them once no scan
// can still be reading them.
#include <algorithm>
#include <vector>

#include "core/common/id_set.h"
#include "core/hnsw/repair.h"
#include "pg/am/vacuum.h"
#include "pg/hnsw/codes.h"
#include "pg/hnsw/graph.h"
#include "pg/hnsw/hnsw.h"
#include "pg/hnsw/orphans.h"
#include "pg/pg_call.h"

extern "C" {
#include "access/transam.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
}

namespace embedding::pg::hnsw {
namespace {

struct VacuumState {
  embedding::IdSet deleted;
  VectorCache cache;
  IndexCodec codec;  // quantised indexes: the codes of the links repair writes
  std::vector<NodeId> live;
  // The highest live element, for a new entry point.
  NodeId top = 0;
  int top_level = -1;
  std::vector<BlockNumber> dead_blocks;  // pages with elements in state kDead, ascending
  std::vector<uint32> vector;  // the vector of the element being repaired, as the index stores it
  embedding::IdSet visited;
  embedding::hnsw::RepairScratch repair;
  BlockNumber first_deleted = 0;  // the lowest page with a dead or free element (0: none)
};

// Initialises the exclusively locked page of `buf` as an empty index page if it is new (all
// zeros, as a crash can leave one); returns whether it was.
bool init_if_new(Relation index, Buffer buf) {
  if (!PageIsNew(BufferGetPage(buf))) return false;
  GenericXLogState* state = GenericXLogStart(index);
  init_page(GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE));
  GenericXLogFinish(state);
  return true;
}

// Pass 1 on one page: removes dead heap TIDs and marks elements left without any dead. Runs
// beside inserts (they may merge a row into an element only while it is live, under the same
// buffer lock). A page left all zeros by a crash (the index grew, the crash came before the
// page was written) becomes an empty index page; returns true for those.
bool remove_dead_rows(IndexVacuumInfo* info, IndexBulkDeleteResult* stats, BlockNumber block,
                      IndexBulkDeleteCallback callback, void* callback_state) {
  Buffer buf = ReadBufferExtended(info->index, MAIN_FORKNUM, block, RBM_NORMAL, info->strategy);
  LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
  if (init_if_new(info->index, buf)) {
    UnlockReleaseBuffer(buf);
    return true;
  }
  GenericXLogState* state = GenericXLogStart(info->index);
  Page page = GenericXLogRegisterBuffer(state, buf, 0);
  bool changed = false;
  for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); ++off) {
    auto* element = tuple_at<ElementTuple>(page, off, TupleType::kElement);
    if (element == nullptr || element->state != ElementState::kLive) continue;
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
    if (kept == 0) element->state = ElementState::kDead;
  }
  if (changed)
    GenericXLogFinish(state);
  else
    GenericXLogAbort(state);
  UnlockReleaseBuffer(buf);
  return false;
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
    const NodeId node = to_node(block, off);
    if (element->state == ElementState::kLive) {
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
    if (element->state == ElementState::kDead &&
        (v.dead_blocks.empty() || v.dead_blocks.back() != block))
      v.dead_blocks.push_back(block);
  }
  UnlockReleaseBuffer(buf);
}

// The level of the element `node` (-1 if it is none).
int element_level(Relation index, NodeId node) {
  return with_element(index, node, [](const ElementTuple* element, Size) {
    return element != nullptr ? int{element->level} : -1;
  });
}

// Pass 2 for one live element: the core's repair (core/hnsw/repair.h) on the page storage.
void repair(PageGraph& graph, NodeId node, VacuumState& v) {
  // Live elements' vectors do not change while the graph is repaired (inserts wait), and the
  // next elements' neighbourhoods overlap this one's: the cache is kept until it holds a
  // quarter of maintenance_work_mem (its arrays grow by doubling, so it allocates at most half).
  if (v.cache.bytes() > static_cast<std::size_t>(maintenance_work_mem) * 256) v.cache.clear();
  const auto make_distance = [&graph, &v, node] {
    v.vector.resize(kMaxVectorBytes / sizeof(uint32));
    if (graph.read_vector(node, v.vector.data()) == 0)
      corrupt(graph.index(), "missing element", node);
    return PageQueryDistance(graph, v.vector.data());
  };
  const embedding::hnsw::RepairGraphState state{
      graph.meta().ef_construction,
      static_cast<double>(v.live.size()) / (v.live.size() + v.deleted.size())};
  embedding::hnsw::repair(graph, node, element_level(graph.index(), node), make_distance, v.deleted,
                          state, v.visited, v.repair);
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
      if (element != nullptr && element->state == ElementState::kDead)
        element->state = ElementState::kFree;
    }
    GenericXLogFinish(state);
    UnlockReleaseBuffer(buf);
  }
}

// How long VACUUM waits for the transactions that hold snapshots before it frees elements.
constexpr long kSnapshotWaitMs = 2000;

// True once every other transaction of this database that held a snapshot at the call has
// ended; false if one is still running after timeout_ms (interrupts are honoured meanwhile).
bool wait_for_snapshots(long timeout_ms) {
  int count = 0;
  VirtualTransactionId* vxids = GetCurrentVirtualXIDs(InvalidTransactionId, /*excludeXmin0=*/true,
                                                      /*allDbs=*/false, PROC_IN_VACUUM, &count);
  const TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
  for (int i = 0; i < count; ++i) {
    while (!VirtualXactLock(vxids[i], /*wait=*/false)) {
      if (GetCurrentTimestamp() >= deadline) return false;
      vacuum_delay_point();
      pg_usleep(10000L);
    }
  }
  return true;
}

// ambulkdelete's pass (under am/vacuum.h's guard): removes the dead rows, repairs the graph
// around the elements left without live rows, then frees them.
void bulk_delete_pass(IndexVacuumInfo* info, IndexBulkDeleteResult* stats,
                      IndexBulkDeleteCallback callback, void* callback_state) {
  Relation index = info->index;
  MemoryContext cxt =
      AllocSetContextCreate(CurrentMemoryContext, "hnsw vacuum", ALLOCSET_DEFAULT_SIZES);
  VacuumState* v = embedding::pg::new_owned<VacuumState>(cxt);
  // Pass 1 beside inserts and searches; then inserts wait while the graph is repaired and
  // dead elements are freed (searches go on).
  stats->num_index_tuples = 0;
  BlockNumber first_empty = InvalidBlockNumber;
  for (BlockNumber block = 1; block < RelationGetNumberOfBlocks(index); ++block) {
    vacuum_delay_point();
    if (remove_dead_rows(info, stats, block, callback, callback_state) &&
        first_empty == InvalidBlockNumber)
      first_empty = block;
  }
  if (first_empty != InvalidBlockNumber) {
    // Inserts fill it next (they move on to new pages once it is full).
    modify_meta(index, [&](MetaPage& current) {
      current.insert_page = first_empty;
      return true;
    });
  }
  lock_graph(index, GraphLock::kExclusive);
  MetaPage meta = read_meta(index);
  const BlockNumber nblocks = RelationGetNumberOfBlocks(index);
  for (BlockNumber block = 1; block < nblocks; ++block) {
    vacuum_delay_point();
    collect(info, block, *v);
  }
  if (v->deleted.size() > 0) {
    PageGraph graph(index, meta, &v->cache, quantized(meta) ? &v->codec.of(index, meta) : nullptr);
    for (NodeId node : v->live) {
      vacuum_delay_point();
      repair(graph, node, *v);
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
  // No live list leads to a dead element any more, so inserts may go on: they cannot reach
  // one. A scan that began before this point may still hold a dead element it reached
  // through a list repaired since, and may read its vector later, so a dead element may be
  // overwritten only once such scans have ended. Scans hold a snapshot: wait
  // a little for every transaction with one to end; then the freed elements are reusable at
  // once (free_after 0: this also covers what earlier VACUUMs freed). Otherwise inserts reuse
  // them once the transaction id read here is older than every snapshot's xmin. free_after
  // is stored before any element becomes free, so that a VACUUM interrupted while freeing
  // leaves no free element without it (free_page may point at dead ones: inserts skip them).
  // (A hot standby's queries are not among the snapshots the primary sees unless
  // hot_standby_feedback is on: generic WAL cannot carry a recovery conflict. Such a query
  // that spans a VACUUM and later inserts may miss or misorder rows, as it may with
  // pgvector's reuse of deleted elements; it cannot crash.)
  unlock_graph(index, GraphLock::kExclusive);
  if (!v->dead_blocks.empty()) {
    const uint64 next_xid = U64FromFullTransactionId(ReadNextFullTransactionId());
    const bool all_ended = wait_for_snapshots(kSnapshotWaitMs);
    modify_meta(index, [&](MetaPage& current) {
      current.free_after = all_ended ? 0 : std::max(current.free_after, next_xid);
      current.free_page = v->first_deleted;
      return true;
    });
    free_dead(info, *v);
  } else {
    modify_meta(index, [&](MetaPage& current) {
      const bool changed = current.free_page != v->first_deleted;
      current.free_page = v->first_deleted;
      return changed;
    });
  }
  MemoryContextDelete(cxt);
  connect_orphans(index, info->strategy);  // last: see orphans.h
  stats->num_pages = nblocks;
}

// amvacuumcleanup's count when no bulk delete ran (under am/vacuum.h's guard): the live rows for
// the statistics, then the orphans' links.
void count_live(IndexVacuumInfo* info, IndexBulkDeleteResult* stats, IndexBulkDeleteCallback,
                void*) {
  const BlockNumber nblocks = RelationGetNumberOfBlocks(info->index);
  for (BlockNumber block = 1; block < nblocks; ++block) {
    vacuum_delay_point();
    Buffer buf = ReadBufferExtended(info->index, MAIN_FORKNUM, block, RBM_NORMAL, info->strategy);
    LockBuffer(buf, BUFFER_LOCK_SHARE);
    Page page = BufferGetPage(buf);
    if (PageIsNew(page)) {
      LockBuffer(buf, BUFFER_LOCK_UNLOCK);
      LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
      init_if_new(info->index, buf);
    }
    for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); ++off) {
      auto* element = tuple_at<ElementTuple>(page, off, TupleType::kElement);
      if (element != nullptr && element->state == ElementState::kLive)
        stats->num_index_tuples += element->heap_tid_count;
    }
    UnlockReleaseBuffer(buf);
  }
  connect_orphans(info->index, info->strategy);  // see orphans.h
}

}  // namespace
}  // namespace embedding::pg::hnsw

extern "C" IndexBulkDeleteResult* hnsw_bulkdelete(IndexVacuumInfo* info,
                                                  IndexBulkDeleteResult* stats,
                                                  IndexBulkDeleteCallback callback,
                                                  void* callback_state) {
  return embedding::pg::bulk_delete(info, stats, callback, callback_state,
                                    embedding::pg::hnsw::bulk_delete_pass);
}

extern "C" IndexBulkDeleteResult* hnsw_vacuumcleanup(IndexVacuumInfo* info,
                                                     IndexBulkDeleteResult* stats) {
  return embedding::pg::vacuum_cleanup(info, stats, embedding::pg::hnsw::count_live);
}
