// hnsw_verify(regclass): walks every page and every link of an hnsw index and reports the first
// structural problem as an error (XX001), or a summary of what it checked. For roles that may
// read the table; it holds a SHARE lock on the table, so writers (INSERT, UPDATE, DELETE, VACUUM)
// wait and the verdict is exact. An invalid index (a cancelled CREATE INDEX CONCURRENTLY) is
// reported as such.
#include <algorithm>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "pg/guard.h"
#include "pg/hnsw/hnsw.h"
#include "pg/hnsw/pages.h"
#include "pg/pg_call.h"

extern "C" {
#include "access/relation.h"
#include "access/table.h"
#include "access/xlog.h"
#include "catalog/index.h"
#include "catalog/pg_am.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
}

namespace embedding::pg::hnsw {
namespace {

struct NeighborList {
  NodeId node;
  int level;
  std::vector<std::pair<int, NodeId>> links;  // (level, target element)
};

struct Verifier {
  std::vector<std::pair<NodeId, int>> elements;  // node, level
  std::vector<std::pair<NodeId, NodeId>> lists;  // element -> its neighbour tuple
  std::vector<NeighborList> neighbor_lists;
  std::vector<std::pair<NodeId, int>> list_levels;
  std::vector<NodeId> free;        // free elements (ElementState)
  std::vector<NodeId> live_lists;  // the neighbour tuples of live elements
  std::vector<NodeId> dead_lists;  // those of dead elements (a VACUUM was interrupted)
  long links = 0, deleted = 0, heap_tids = 0;
};

[[noreturn]] void bad(const std::string& what) {
  throw Error(ErrorCode::kCorruptData, "hnsw index is corrupt: " + what);
}

std::string at(NodeId node) {
  return "(" + std::to_string(node >> 16) + "," + std::to_string(node & 0xffff) + ")";
}

}  // namespace
}  // namespace embedding::pg::hnsw

using namespace embedding::pg::hnsw;

EMB_FUNCTION(hnsw_verify) {
  // SHARE on the table stops writers (they take ROW EXCLUSIVE, VACUUM SHARE UPDATE EXCLUSIVE)
  // for the duration, and lets queries go on. A hot standby allows no more than ACCESS SHARE;
  // there, WAL replayed meanwhile may change pages under the walk.
  const LOCKMODE heap_lock = RecoveryInProgress() ? AccessShareLock : ShareLock;
  const embedding::pg::InspectedIndex opened =
      embedding::pg::open_for_inspection(PG_GETARG_OID(0), "hnsw", "hnsw_verify", heap_lock);
  Relation heap = opened.heap;
  Relation index = opened.index;
  if (!index->rd_index->indisvalid)
    throw embedding::Error(
        embedding::ErrorCode::kCorruptData,
        std::string("index \"") + RelationGetRelationName(index) + "\" is not valid",
        "A CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY did not finish: "
        "DROP or REINDEX it.");
  MemoryContext cxt =
      AllocSetContextCreate(CurrentMemoryContext, "hnsw verify", ALLOCSET_DEFAULT_SIZES);
  Verifier* v = embedding::pg::new_owned<Verifier>(cxt);
  MetaPage meta = read_meta(index);
  const BlockNumber nblocks = RelationGetNumberOfBlocks(index);
  // Pass 1: every page and tuple, recording elements and their levels.
  for (BlockNumber block = 1; block < nblocks; ++block) {
    Buffer buf = InvalidBuffer;
    // C++ objects are alive here: PostgreSQL calls that may raise an error go through pg_call.
    embedding::pg::check_for_interrupts();
    embedding::pg::pg_call([&] {
      buf = ReadBuffer(index, block);
      LockBuffer(buf, BUFFER_LOCK_SHARE);
    });
    Page page = BufferGetPage(buf);
    bool ours = !PageIsNew(page) && PageGetSpecialSize(page) == MAXALIGN(sizeof(PageOpaque)) &&
                reinterpret_cast<PageOpaque*>(PageGetSpecialPointer(page))->page_id == kPageId;
    std::string problem;
    if (!ours) problem = "page " + std::to_string(block) + " is not an hnsw page";
    for (OffsetNumber off = FirstOffsetNumber;
         ours && problem.empty() && off <= PageGetMaxOffsetNumber(page); ++off) {
      Size size = 0;
      auto* item = page_item(page, off, &size);
      ItemPointerData tid;
      ItemPointerSet(&tid, block, off);
      NodeId node = to_node(tid);
      if (item == nullptr) continue;
      auto type = *reinterpret_cast<TupleType*>(item);
      if (type == TupleType::kElement) {
        auto* e = reinterpret_cast<ElementTuple*>(item);
        if (size < offsetof(ElementTuple, vector) + 4 || !matches(e, meta) ||
            size < element_size(vector_bytes(e), e->heap_tid_count))
          problem = "element " + at(node) + " has the wrong size";
        else if (e->level > embedding::hnsw::kMaxLevel)
          problem = "element " + at(node) + " has level " + std::to_string(e->level);
        else if (e->heap_tid_count > max_heap_tids(vector_bytes(e)) ||
                 (!e->deleted && e->heap_tid_count == 0))
          problem =
              "element " + at(node) + " has " + std::to_string(e->heap_tid_count) + " heap TIDs";
        else {
          v->elements.push_back({node, e->level});
          v->lists.push_back({node, to_node(e->neighbors)});
          v->deleted += e->deleted != kLive;
          if (e->deleted == kFree) v->free.push_back(node);
          if (e->deleted == kLive) v->live_lists.push_back(to_node(e->neighbors));
          if (e->deleted == kDead) v->dead_lists.push_back(to_node(e->neighbors));
          v->heap_tids += e->heap_tid_count;
        }
      } else if (type == TupleType::kNeighbors) {
        auto* t = reinterpret_cast<NeighborTuple*>(item);
        if (size < neighbor_size(t->m, t->level) || t->m != meta.m)
          problem = "neighbour list " + at(node) + " has the wrong size";
        else {
          NeighborList& list = v->neighbor_lists.emplace_back(NeighborList{node, t->level, {}});
          for (int level = 0; level <= t->level && problem.empty(); ++level) {
            Size cap = level == 0 ? 2u * t->m : t->m;
            if (t->counts[level] > cap) problem = "neighbour list " + at(node) + " overflows";
            ItemPointerData* ids = neighbor_ids(t, level);
            for (int i = 0; i < t->counts[level] && problem.empty(); ++i)
              list.links.push_back({level, to_node(ids[i])});
          }
        }
      } else {
        problem = "unknown tuple type at " + at(node);
      }
    }
    embedding::pg::pg_call([&] { UnlockReleaseBuffer(buf); });
    if (!problem.empty()) bad(problem);
  }
  // Pass 2: links. Each element's list exists with its level; every id is an element of at
  // least that level; the entry point is an element of the top level.
  auto& list_levels = v->list_levels;
  for (const NeighborList& list : v->neighbor_lists) list_levels.push_back({list.node, list.level});
  auto level_of = [&](NodeId node, const std::vector<std::pair<NodeId, int>>& table) {
    auto it = std::lower_bound(table.begin(), table.end(), std::make_pair(node, -1));
    return it != table.end() && it->first == node ? it->second : -1;
  };
  std::sort(v->elements.begin(), v->elements.end());
  std::sort(list_levels.begin(), list_levels.end());
  int top = -1;
  for (auto& [node, list] : v->lists) {
    int level = level_of(node, v->elements);
    if (level_of(list, list_levels) != level)
      bad("element " + at(node) + " points to a missing or mismatched neighbour list " + at(list));
    top = std::max(top, level);
  }
  // Free elements' lists are never read and keep stale links. Free elements may be overwritten
  // by inserts at any time: no live list may lead to one. Dead elements (left by an interrupted
  // VACUUM) are still searched through; their lists may lead to free elements only when the
  // VACUUM stopped while freeing, so only their levels are checked.
  std::sort(v->free.begin(), v->free.end());
  std::sort(v->live_lists.begin(), v->live_lists.end());
  std::sort(v->dead_lists.begin(), v->dead_lists.end());
  const auto has = [](const std::vector<NodeId>& sorted, NodeId node) {
    return std::binary_search(sorted.begin(), sorted.end(), node);
  };
  for (const NeighborList& list : v->neighbor_lists) {
    const bool live = has(v->live_lists, list.node);
    if (!live && !has(v->dead_lists, list.node)) continue;
    for (auto [level, target] : list.links) {
      const bool free = has(v->free, target);
      if (!free && level_of(target, v->elements) < level)
        bad("neighbour list " + at(list.node) + " links to " + at(target) +
            " which is not an element of level " + std::to_string(level));
      if (live && free)
        bad("neighbour list " + at(list.node) + " of a live element links to the free element " +
            at(target));
      v->links++;
    }
  }
  if (meta.entry_level >= 0) {
    if (level_of(to_node(meta.entry), v->elements) != meta.entry_level)
      bad("the entry point " + at(to_node(meta.entry)) + " is not an element of level " +
          std::to_string(meta.entry_level));
    if (has(v->free, to_node(meta.entry)))
      bad("the entry point " + at(to_node(meta.entry)) + " is a free element");
  } else if (v->elements.size() > static_cast<std::size_t>(v->deleted)) {
    bad("the index has live elements but no entry point");
  }
  text* result = nullptr;
  {
    const std::string summary =
        "ok: " + std::to_string(nblocks) + " pages, " + std::to_string(v->elements.size()) +
        " elements (" + std::to_string(v->deleted) + " deleted), " + std::to_string(v->heap_tids) +
        " heap rows, " + std::to_string(v->links) + " links, top level " +
        std::to_string(meta.entry_level);
    embedding::pg::pg_call([&] { result = cstring_to_text(summary.c_str()); });
  }
  index_close(index, AccessShareLock);
  table_close(heap, heap_lock);
  MemoryContextDelete(cxt);
  PG_RETURN_TEXT_P(result);
}
