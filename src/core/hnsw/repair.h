// Repair of an HNSW graph after deletions, over any storage (storage.h): a live node that links
// to deleted nodes re-selects its neighbours, and the chosen ones link back to it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <span>
#include <type_traits>
#include <vector>

#include "core/hnsw/insert.h"
#include "core/hnsw/params.h"
#include "core/hnsw/search.h"
#include "core/hnsw/select.h"
#include "core/hnsw/storage.h"

namespace embedding::hnsw {

// Working memory of repair(), reused across nodes so that no node allocates.
struct RepairScratch {
  std::vector<Candidate> candidates;
  std::vector<Candidate> pruning;  // a reverse link's re-selection
  std::vector<Candidate> entries;  // the search's entry points of the next level
  NodeId ids[2 * kMaxM];
  NodeId second[2 * kMaxM];
  SearchScratch search;
};

// What repair() needs to know of the graph as a whole.
struct RepairGraphState {
  std::size_t ef_construction;
  double live_share;  // live nodes / (live + deleted)
};

// Repairs the live node `node` of level `top_level`: on every level where it links to deleted
// nodes (deleted.contains(id)), its list is re-selected (the heuristic, lists filled as a build
// fills them) among its other neighbours, those of the deleted ones and, where more than a
// quarter of the list was deleted, the live nodes a search for its vector finds, as an insert
// would search (about ef_construction live ones); then the neighbours the heuristic itself chose
// (not those filled back in) link back to it, as an insert's do. Without the reverse links a
// live node whose in-links all came from deleted nodes is reached only if some repaired list
// happens to pick it.
//
// `make_distance()` returns the QueryDistance from node's vector; it is called once, only when
// some list lost a member. `visited` serves the search. Deleted nodes stay in the graph (searches
// pass through them) until the caller unlinks them; their lists are read, never written.
//
// Trivially destructible locals only (storage.h): the page storage instantiates this.
template <InsertableGraph G, class MakeDistance, VisitedSet V, class Deleted>
void repair(G& graph, NodeId node, int top_level, MakeDistance&& make_distance,
            const Deleted& deleted, const RepairGraphState& state, V& visited, RepairScratch& s) {
  using Distance = decltype(make_distance());
  static_assert(std::is_trivially_destructible_v<Distance>,
                "repair: the query distance must be trivially destructible");
  const auto pair_distance = [&graph](NodeId a, NodeId b) {
    return orderable(graph.distance(a, b));
  };
  std::optional<Distance> dist;
  std::optional<EntryPoint> entry;
  int searched_down_to = kMaxLevel + 1;  // levels above it have s.entries
  for (int level = top_level; level >= 0; --level) {
    const std::size_t n = graph.neighbors(node, level, s.ids);
    std::size_t lost = 0;
    for (std::size_t i = 0; i < n; ++i) lost += deleted.contains(s.ids[i]);
    if (lost == 0) continue;
    if (!dist) dist.emplace(make_distance());
    s.candidates.clear();
    const auto add = [&](NodeId id) {
      if (id == node || deleted.contains(id)) return;
      for (const Candidate& c : s.candidates)
        if (c.node == id) return;
      s.candidates.push_back({(*dist)(id), id});
    };
    for (std::size_t i = 0; i < n; ++i) {
      if (!deleted.contains(s.ids[i])) {
        add(s.ids[i]);
        continue;
      }
      const std::size_t m = graph.neighbors(s.ids[i], level, s.second);
      for (std::size_t k = 0; k < m; ++k) add(s.second[k]);
    }
    const std::size_t capacity = graph.neighbor_capacity(level);
    // A list that lost a few members is repaired well enough from the neighbourhood (the
    // common case, and cheap); one that lost more than a quarter also gets the nodes a search
    // finds. Searches run from the entry point down to this level, once per node.
    const bool search = lost * 4 > capacity;
    if (search && !entry) {
      entry = graph.entry_point();
      if (entry) {
        Candidate current{(*dist)(entry->node), entry->node};
        for (int l = entry->level; l > level; --l)
          current = greedy_closest(graph, *dist, current, l, s.search);
        s.entries.assign(1, current);
        searched_down_to = std::min<int>(entry->level, level) + 1;
      }
    }
    if (search && entry && level <= entry->level) {
      // The search passes through deleted nodes too; widen it so that it still finds about
      // ef_construction live ones.
      const std::size_t ef = std::min<std::size_t>(
          1000, static_cast<std::size_t>(std::max<std::size_t>(state.ef_construction, capacity) /
                                         std::max(state.live_share, 0.01)));
      for (int l = searched_down_to - 1; l >= level; --l) {
        visited.reset();
        visited.insert(node);
        search_layer(graph, *dist, visited, std::span<const Candidate>(s.entries), ef, l, s.search);
        const std::vector<Candidate>& found = sorted_results(s.search);
        if (!found.empty()) s.entries.assign(found.begin(), found.end());
      }
      searched_down_to = level;
      for (const Candidate& c : s.entries) add(c.node);
    }
    std::sort(s.candidates.begin(), s.candidates.end(), closer);
    std::size_t diverse = 0;  // how many of them the heuristic itself kept
    const std::size_t kept =
        select_neighbors(s.candidates.data(), s.candidates.size(), capacity, pair_distance,
                         /*heuristic=*/true, /*keep_pruned=*/true, &diverse);
    for (std::size_t i = 0; i < kept; ++i) s.ids[i] = s.candidates[i].node;
    if constexpr (requires { graph.write_neighbors(node, level, s.ids, kept); }) {
      graph.write_neighbors(node, level, s.ids, kept);  // a storage's plain overwrite
    } else {
      graph.update_neighbors(node, level, [&](NodeId* ids, std::size_t) {
        std::copy(s.ids, s.ids + kept, ids);
        return kept;
      });
    }
    for (std::size_t i = 0; i < diverse; ++i)
      link_back(graph, s.candidates[i].node, level, node, orderable(s.candidates[i].distance),
                pair_distance, BuildTuning{}, s.pruning);
  }
}

}  // namespace embedding::hnsw
