// connect_orphans() for page storage (orphans.h): read every live element's links, walk the graph
// from the entry point, and link each live element the walk missed from a reached neighbour.
#include "pg/hnsw/orphans.h"

#include <algorithm>
#include <vector>

#include "core/hnsw/reachability.h"
#include "core/hnsw/select.h"
#include "pg/hnsw/codes.h"
#include "pg/hnsw/graph.h"
#include "pg/pg_call.h"

extern "C" {
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "utils/memutils.h"
}

namespace embedding::pg::hnsw {
namespace {

struct OrphanState {
  std::vector<NodeId> live;                      // live elements, ascending
  std::vector<uint8> levels;                     // their levels
  std::vector<std::pair<NodeId, uint32>> lists;  // their neighbour tuples -> position in live
  embedding::hnsw::LinkRows rows;                // layer-0 links between live elements
  std::vector<uint32> newly;                     // what the walk from an adopted element reached
  std::vector<uint32> in_links;
  bool walk = false;  // the links are kept (else only counted: orphans are then the elements
                      // without in-links, and groups that link only among themselves are missed)
  std::vector<bool> reached, passable;
  std::vector<Candidate> hosts;
  NodeId ids[2 * embedding::hnsw::kMaxM];
  VectorCache cache;
  IndexCodec codec;  // quantised indexes: the codes of the links repair writes
};

std::size_t position(const OrphanState& s, NodeId node) {
  auto it = std::lower_bound(s.live.begin(), s.live.end(), node);
  return it != s.live.end() && *it == node ? it - s.live.begin() : s.live.size();
}

// Runs fn(page, offset, node) on every item of `block` under its share lock. fn must not call
// PostgreSQL.
template <class Fn>
void for_each_item(Relation index, BlockNumber block, BufferAccessStrategy strategy, Fn&& fn) {
  Buffer buf = ReadBufferExtended(index, MAIN_FORKNUM, block, RBM_NORMAL, strategy);
  LockBuffer(buf, BUFFER_LOCK_SHARE);
  Page page = BufferGetPage(buf);
  for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); ++off) {
    fn(page, off, to_node(block, off));
  }
  UnlockReleaseBuffer(buf);
}

// Pass 1: the live elements and their lists.
void collect_live(Relation index, BlockNumber block, BufferAccessStrategy strategy,
                  OrphanState& s) {
  for_each_item(index, block, strategy, [&](Page page, OffsetNumber off, NodeId node) {
    auto* element = tuple_at<ElementTuple>(page, off, TupleType::kElement);
    if (element == nullptr || element->state != ElementState::kLive) return;
    s.lists.push_back({to_node(element->neighbors), static_cast<uint32>(s.live.size())});
    s.live.push_back(node);  // pages in order, offsets in order: ascending
    s.levels.push_back(element->level);
  });
}

// Runs fn(from, to) on every layer-0 link of a live element's list to a live element on
// `block`, as positions in live (searches expand layer-0 lists only, see hnsw_verify).
template <class Fn>
void for_each_link(Relation index, BlockNumber block, BufferAccessStrategy strategy, OrphanState& s,
                   Fn&& fn) {
  for_each_item(index, block, strategy, [&](Page page, OffsetNumber off, NodeId node) {
    auto* list = tuple_at<NeighborTuple>(page, off, TupleType::kNeighbors);
    if (list == nullptr) return;
    auto owner = std::lower_bound(s.lists.begin(), s.lists.end(), std::make_pair(node, 0u));
    if (owner == s.lists.end() || owner->first != node) return;
    const ItemPointerData* ids = neighbor_ids(list, 0);
    const int count = std::min<int>(list->counts[0], 2 * list->m);
    for (int i = 0; i < count; ++i) {
      const std::size_t at = position(s, to_node(ids[i]));
      if (at < s.live.size() && at != owner->second) fn(owner->second, static_cast<uint32>(at));
    }
  });
}

// Links the element at `orphan` from the closest reached element it links to (on any level;
// without the walk, on layer 0)
// whose layer-0 list has room or a member, farthest from that element, with another in-link to
// spare. Returns the host's position, or live.size() when none could take it.
std::size_t adopt(PageGraph& graph, std::size_t orphan, OrphanState& s) {
  const NodeId node = s.live[orphan];
  s.hosts.clear();
  const auto consider = [&](std::size_t at) {
    if (at < s.live.size() && s.reached[at] && (s.hosts.empty() || s.hosts.back().node != at))
      s.hosts.push_back(
          {embedding::hnsw::orderable(graph.distance(node, s.live[at])), static_cast<NodeId>(at)});
  };
  if (s.walk) {
    for (uint32 i = s.rows.offsets[orphan]; i < s.rows.offsets[orphan + 1]; ++i)
      consider(s.rows.targets[i]);
  } else {
    const std::size_t n = graph.neighbors(node, 0, s.ids);
    for (std::size_t i = 0; i < n; ++i) consider(position(s, s.ids[i]));
  }
  std::sort(s.hosts.begin(), s.hosts.end(), embedding::hnsw::closer);
  const std::size_t capacity = graph.neighbor_capacity(0);
  for (const Candidate& host : s.hosts) {
    const NodeId host_node = s.live[host.node];
    // The editor may run more than once (update_neighbors()); the last run is what is written.
    NodeId replaced = node;
    bool added = false;
    graph.update_neighbors(host_node, 0, [&](NodeId* ids, std::size_t count) -> std::size_t {
      replaced = node;
      added = false;
      for (std::size_t i = 0; i < count; ++i)
        if (ids[i] == node) return count;
      std::size_t slot = count;
      if (count == capacity) {
        float farthest = -1;
        for (std::size_t i = 0; i < count; ++i) {
          const std::size_t at = position(s, ids[i]);
          if (at < s.live.size() && s.in_links[at] < 2) continue;
          const float d = embedding::hnsw::orderable(graph.distance(host_node, ids[i]));
          if (d > farthest) farthest = d, slot = i;
        }
        if (slot == count) return count;  // every member would lose its only in-link
        replaced = ids[slot];
      }
      ids[slot] = node;
      added = true;
      return slot == count ? count + 1 : count;
    });
    if (!added) continue;
    const std::size_t gone = position(s, replaced);
    if (replaced != node && gone < s.live.size()) --s.in_links[gone];
    ++s.in_links[orphan];
    return host.node;
  }
  return s.live.size();
}

// Counts the layer-0 links of the reached element at `from` as in-links of their targets. A link
// to itself is no in-link (LinkRows pads a row that shrank between its two passes with those).
void add_in_links(OrphanState& s, uint32 from) {
  for (uint32 i = s.rows.offsets[from]; i < s.rows.offsets[from + 1]; ++i)
    if (s.rows.targets[i] != from) ++s.in_links[s.rows.targets[i]];
}

// Whether `node` is a live element now.
bool is_live(Relation index, NodeId node) {
  return with_element(index, node, [](const ElementTuple* element, Size) {
    return element != nullptr && element->state == ElementState::kLive;
  });
}

}  // namespace

long connect_orphans(Relation index, BufferAccessStrategy strategy) {
  const MetaPage meta = read_meta(index);
  if (meta.entry_level < 0 ||
      static_cast<embedding::hnsw::Metric>(meta.metric) == embedding::hnsw::Metric::kInnerProduct)
    return 0;
  const BlockNumber nblocks = RelationGetNumberOfBlocks(index);
  const double budget = static_cast<double>(maintenance_work_mem) * 1024.0;
  MemoryContext cxt =
      AllocSetContextCreate(CurrentMemoryContext, "hnsw orphans", ALLOCSET_DEFAULT_SIZES);
  OrphanState* s = embedding::pg::new_owned<OrphanState>(cxt);
  for (BlockNumber block = 1; block < nblocks; ++block) {
    vacuum_delay_point();
    collect_live(index, block, strategy, *s);
  }
  std::sort(s->lists.begin(), s->lists.end());
  const std::size_t n = s->live.size();
  const auto each_link = [&](auto&& emit) {
    for (BlockNumber block = 1; block < nblocks; ++block) {
      vacuum_delay_point();
      for_each_link(index, block, strategy, *s, emit);
    }
  };
  s->in_links.assign(n, 0);
  s->rows.count(n, [&](auto&& emit) {
    each_link([&](uint32 from, uint32 to) {
      ++s->in_links[to];
      emit(from, to);
    });
  });
  // Per element about 40 bytes (positions, lists, counts), per link 4: the walk when they fit.
  s->walk = n * 40.0 + s->rows.links() * 4.0 <= budget;
  s->passable.assign(n, true);
  const std::size_t entry = position(*s, to_node(meta.entry));
  if (s->walk) {
    s->rows.fill(each_link);
    // From the entry point and every element above layer 0 (where a search's descent may
    // end); in-links are counted again from reached elements only: the ones a member can spare.
    s->reached.assign(n, false);
    for (std::size_t i = 0; i < n; ++i)
      if (i == entry || s->levels[i] > 0)
        embedding::hnsw::extend_reach(i, s->rows.offsets, s->rows.targets, s->passable, s->reached);
    s->in_links.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i)
      if (s->reached[i]) add_in_links(*s, static_cast<uint32>(i));
  } else {
    s->reached.assign(n, false);
    for (std::size_t i = 0; i < n; ++i)
      s->reached[i] = s->in_links[i] > 0 || i == entry || s->levels[i] > 0;
  }
  long linked = 0;
  if (entry < n) {
    // The index was read beside inserts; linking waits for them (an insert in flight has placed
    // its element but not linked it yet, and may still free it), and links only elements that
    // are still live then.
    lock_graph(index, GraphLock::kExclusive);
    PageGraph graph(index, meta, &s->cache, quantized(meta) ? &s->codec.of(index, meta) : nullptr);
    for (std::size_t i = 0; i < n; ++i) {
      if (s->reached[i]) continue;
      vacuum_delay_point();
      if (!is_live(index, s->live[i]) || adopt(graph, i, *s) == n) continue;
      // Now reached, and with it whatever it links to that was not (a group that linked only
      // among itself). Its links are as read: the lists it leads to changed only by gaining
      // an orphan, which the walk reaches from where it was adopted.
      if (s->walk) {
        s->newly.clear();
        embedding::hnsw::extend_reach(i, s->rows.offsets, s->rows.targets, s->passable, s->reached,
                                      &s->newly);
        for (uint32 reached : s->newly) add_in_links(*s, reached);
      } else {
        s->reached[i] = true;
      }
      ++linked;
    }
    unlock_graph(index, GraphLock::kExclusive);
  }
  MemoryContextDelete(cxt);
  return linked;
}

}  // namespace embedding::pg::hnsw
