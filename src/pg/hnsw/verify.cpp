// hnsw_verify(regclass): walks every page and every link of an hnsw index and reports the first
// structural problem as an error (XX001), or a summary of what it checked; then walks the graph
// from the entry point, as a search could, and reports live rows no scan can reach. For roles
// that may read the table. Its owner's check holds a SHARE lock on the table, so writers
// (INSERT, UPDATE, DELETE, VACUUM) wait and the verdict is exact; other roles' check takes ACCESS
// SHARE and says it is not exact. An invalid index (a cancelled CREATE INDEX CONCURRENTLY) is
// reported as such.
#include <algorithm>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/hnsw/reachability.h"
#include "pg/am/inspect.h"
#include "pg/guard.h"
#include "pg/hnsw/buffers.h"
#include "pg/hnsw/codes.h"
#include "pg/hnsw/hnsw.h"
#include "pg/pg_call.h"

extern "C" {
#include "access/relation.h"
#include "access/table.h"
#include "access/tableam.h"
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
#include "utils/snapmgr.h"
}

namespace embedding::pg::hnsw {
namespace {

struct NeighborList {
  NodeId node;
  int level;
  std::vector<std::pair<int, NodeId>> links;  // (level, target element)
};

struct ElementRef {
  NodeId node;
  NodeId list;  // its neighbour tuple
  ElementState state;
  bool operator<(const ElementRef& other) const { return node < other.node; }
};

struct Verifier {
  std::vector<std::pair<NodeId, int>> elements;  // node, level
  std::vector<ElementRef> refs;                  // the same elements, their lists and states
  std::vector<NeighborList> neighbor_lists;
  std::vector<std::pair<NodeId, int>> list_levels;
  std::vector<NodeId> free;        // free elements (ElementState)
  std::vector<NodeId> live_lists;  // the neighbour tuples of live elements
  std::vector<NodeId> dead_lists;  // those of dead elements (a VACUUM was interrupted)
  long links = 0, deleted = 0, heap_tids = 0, empty_pages = 0;
  std::vector<NodeId> unreachable;  // live elements no walk from the entry point reaches
  std::vector<ItemPointerData> unreachable_tids;
};

[[noreturn]] void bad(const std::string& what) {
  throw Error(ErrorCode::kCorruptData, "hnsw index is corrupt: " + what);
}

std::string at(NodeId node) { return node_text(node); }

// Pass 3: the live elements that a search cannot reach: a search descends the upper layers to
// some element of layer 1 or above and then expands layer-0 lists only, so the walk starts from
// every live or dead element above layer 0 (and the entry point) and follows layer-0 links of
// live and dead elements. Their rows no scan can return. Pure C++ on what the passes collected.
void find_unreachable(Verifier& v, NodeId entry) {
  const auto position = [&](NodeId node) -> std::size_t {
    auto it =
        std::lower_bound(v.refs.begin(), v.refs.end(), ElementRef{node, 0, ElementState::kLive});
    return it != v.refs.end() && it->node == node ? it - v.refs.begin() : v.refs.size();
  };
  std::vector<std::pair<NodeId, std::size_t>> lists;  // neighbour tuple -> neighbor_lists index
  for (std::size_t i = 0; i < v.neighbor_lists.size(); ++i)
    lists.push_back({v.neighbor_lists[i].node, i});
  std::sort(lists.begin(), lists.end());
  std::vector<bool> passable;
  for (const ElementRef& ref : v.refs) passable.push_back(ref.state != ElementState::kFree);
  const auto each_link = [&](auto&& emit) {
    for (std::size_t from = 0; from < v.refs.size(); ++from) {
      const ElementRef& ref = v.refs[from];
      auto it =
          std::lower_bound(lists.begin(), lists.end(), std::make_pair(ref.list, std::size_t{0}));
      if (!passable[from] || it == lists.end() || it->first != ref.list) continue;
      for (auto [level, target] : v.neighbor_lists[it->second].links) {
        const std::size_t at = position(target);
        if (level == 0 && at < v.refs.size())
          emit(static_cast<std::uint32_t>(from), static_cast<std::uint32_t>(at));
      }
    }
  };
  embedding::hnsw::LinkRows rows;
  rows.count(v.refs.size(), each_link);
  rows.fill(each_link);
  const std::vector<std::uint32_t>& offsets = rows.offsets;
  const std::vector<std::uint32_t>& targets = rows.targets;
  const std::size_t start = position(entry);
  if (start == v.refs.size()) return;  // checked before: the entry point is an element
  std::vector<bool> reached = embedding::hnsw::reachable(start, offsets, targets, passable);
  // v.elements holds the same elements in the same order, with their levels.
  for (std::size_t i = 0; i < v.refs.size(); ++i)
    if (v.elements[i].second > 0 && passable[i])
      embedding::hnsw::extend_reach(i, offsets, targets, passable, reached);
  for (std::size_t i = 0; i < v.refs.size(); ++i)
    if (v.refs[i].state == ElementState::kLive && !reached[i])
      v.unreachable.push_back(v.refs[i].node);
}

// How many heap rows of the unreachable elements a new snapshot sees: rows of inserts that a
// crash or an error interrupted before their element was linked are not visible, and VACUUM
// frees such elements; visible ones are rows that index scans can never return.
long visible_unreachable_rows(Relation heap, Relation index, Verifier& v) {
  std::vector<ItemPointerData>& tids = v.unreachable_tids;
  for (NodeId node : v.unreachable) {
    embedding::pg::check_for_interrupts();
    ItemPointerData copied[1000];  // max_heap_tids() is at most 1000
    int count = 0;
    embedding::pg::pg_call([&] {
      count = with_element(index, node, [&copied](const ElementTuple* e, Size) {
        const int n = e != nullptr ? std::min<int>(e->heap_tid_count, 1000) : 0;
        if (n > 0) std::copy(heap_tids(e), heap_tids(e) + n, copied);
        return n;
      });
    });
    tids.insert(tids.end(), copied, copied + count);
  }
  long visible = 0;
  for (ItemPointerData& tid : tids) {
    embedding::pg::pg_call([&] {
      bool all_dead = false;
      visible += table_index_fetch_tuple_check(heap, &tid, GetLatestSnapshot(), &all_dead);
    });
  }
  return visible;
}

}  // namespace
}  // namespace embedding::pg::hnsw

using namespace embedding::pg::hnsw;

EMB_FUNCTION(hnsw_verify) {
  // SHARE on the table stops writers (they take ROW EXCLUSIVE, VACUUM SHARE UPDATE EXCLUSIVE)
  // for the duration, and lets queries go on. A hot standby allows no more than ACCESS SHARE;
  // there, WAL replayed meanwhile may change pages under the walk. Only the table's owner gets
  // SHARE (open_for_inspection()).
  const embedding::pg::InspectedIndex opened = embedding::pg::open_for_inspection(
      PG_GETARG_OID(0), "hnsw", "hnsw_verify", RecoveryInProgress() ? AccessShareLock : ShareLock);
  const bool exact = opened.heap_lock == ShareLock;
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
    if (PageIsNew(page)) {
      // The index grew but a crash came before the page was written (normal in PostgreSQL):
      // free space, which VACUUM initialises.
      v->empty_pages++;
      embedding::pg::pg_call([&] { UnlockReleaseBuffer(buf); });
      continue;
    }
    bool ours = PageGetSpecialSize(page) == MAXALIGN(sizeof(PageOpaque)) &&
                reinterpret_cast<PageOpaque*>(PageGetSpecialPointer(page))->page_id == kPageId;
    std::string problem;
    if (!ours) problem = "page " + std::to_string(block) + " is not an hnsw page";
    for (OffsetNumber off = FirstOffsetNumber;
         ours && problem.empty() && off <= PageGetMaxOffsetNumber(page); ++off) {
      Size size = 0;
      auto* item = page_item(page, off, &size);
      const NodeId node = to_node(block, off);
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
                 (e->state == ElementState::kLive && e->heap_tid_count == 0))
          problem =
              "element " + at(node) + " has " + std::to_string(e->heap_tid_count) + " heap TIDs";
        else {
          v->elements.push_back({node, e->level});
          v->refs.push_back({node, to_node(e->neighbors), e->state});
          v->deleted += e->state != ElementState::kLive;
          if (e->state == ElementState::kFree) v->free.push_back(node);
          if (e->state == ElementState::kLive) v->live_lists.push_back(to_node(e->neighbors));
          if (e->state == ElementState::kDead) v->dead_lists.push_back(to_node(e->neighbors));
          v->heap_tids += e->heap_tid_count;
        }
      } else if (type == TupleType::kNeighbors) {
        auto* t = reinterpret_cast<NeighborTuple*>(item);
        if (size < neighbor_size(t->m, t->level, meta.code_stride) || t->m != meta.m)
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
      } else if (type == TupleType::kCenter && quantized(meta) && meta.center_block != 0 &&
                 node_block(node) == meta.center_block) {
        // The centre of the codes (codes.h): nothing links to it.
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
  std::sort(v->refs.begin(), v->refs.end());
  for (const ElementRef& ref : v->refs) {
    int level = level_of(ref.node, v->elements);
    if (level_of(ref.list, list_levels) != level)
      bad("element " + at(ref.node) + " points to a missing or mismatched neighbour list " +
          at(ref.list));
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
    find_unreachable(*v, to_node(meta.entry));
  } else if (v->elements.size() > static_cast<std::size_t>(v->deleted)) {
    bad("the index has live elements but no entry point");
  }
  // The codes of a quantised index's lists (a sample: each check reads and encodes a vector).
  const std::size_t codes_checked =
      quantized(meta) ? check_list_codes(index, meta, v->live_lists, 2000) : 0;
  const long lost = visible_unreachable_rows(heap, index, *v);
  text* result = nullptr;
  {
    // Rows no scan can return are not a broken structure: the result says so instead of "ok".
    // Under inner product most small vectors are nobody's neighbour (connect_orphans()): there
    // it is the nature of the graph, reported after the summary.
    const bool inner_product =
        static_cast<embedding::hnsw::Metric>(meta.metric) == embedding::hnsw::Metric::kInnerProduct;
    std::string summary =
        lost == 0 || inner_product
            ? std::string("ok: ")
            : "not ok: " + std::to_string(v->unreachable.size()) + " live elements holding " +
                  std::to_string(lost) +
                  " visible rows cannot be reached from the entry point, for example " +
                  at(v->unreachable.front()) +
                  ", so index scans cannot return those rows (VACUUM links them); ";
    summary += std::to_string(nblocks) + " pages, " + std::to_string(v->elements.size()) +
               " elements (" + std::to_string(v->deleted) + " deleted), " +
               std::to_string(v->heap_tids) + " heap rows, " + std::to_string(v->links) +
               " links, top level " + std::to_string(meta.entry_level);
    if (quantized(meta))
      summary += ", " + std::to_string(meta.code_bits) + "-bit neighbour codes (" +
                 std::to_string(codes_checked) + " checked)";
    if (v->empty_pages > 0)
      summary +=
          ", " + std::to_string(v->empty_pages) + " empty pages (a crash's, VACUUM uses them)";
    if (lost > 0 && inner_product)
      summary += ", " + std::to_string(lost) +
                 " visible rows in elements with no path from the entry point (usual under "
                 "inner product, see README)";
    if (lost == 0 && !v->unreachable.empty())
      summary +=
          ", " + std::to_string(v->unreachable.size()) +
          " unlinked elements of rows no one sees (an interrupted insert's, VACUUM frees them)";
    if (!exact) summary += "; not exact: writers were not stopped (see README)";
    embedding::pg::pg_call([&] { result = cstring_to_text(summary.c_str()); });
  }
  index_close(index, AccessShareLock);
  table_close(heap, opened.heap_lock);
  MemoryContextDelete(cxt);
  PG_RETURN_TEXT_P(result);
}
