// HNSW insertion over any storage (storage.h): find the new node's neighbours on each of its
// levels from the top, link both ways, and re-select the neighbour lists that overflow.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "core/hnsw/params.h"
#include "core/hnsw/search.h"
#include "core/hnsw/select.h"
#include "core/hnsw/storage.h"

namespace embedding::hnsw {

struct InsertResult {
  bool linked;  // false: the storage merged the node into an identical one
  NodeId node;  // the node that now stands for the vector (itself, or the one merged into)
};

// A reverse link: adds `node` (`distance` from `neighbor`) to the list of `neighbor` at `level`
// unless it is there already; a full list re-selects among its members and `node`, as lists are
// filled everywhere (tuning.heuristic, tuning.keep_pruned). Used by insert() and by repairs of
// the graph after deletions.
template <InsertableGraph G, class PairDistance>
void link_back(G& graph, NodeId neighbor, int level, NodeId node, float distance,
               PairDistance& pair_distance, const BuildTuning& tuning,
               std::vector<Candidate>& pruning) {
  const std::size_t capacity = graph.neighbor_capacity(level);
  graph.update_neighbors(neighbor, level, [&](NodeId* ids, std::size_t count) -> std::size_t {
    for (std::size_t i = 0; i < count; ++i)
      if (ids[i] == node) return count;
    if (count < capacity) {
      ids[count] = node;
      return count + 1;
    }
    pruning.clear();
    pruning.push_back({distance, node});
    for (std::size_t i = 0; i < count; ++i)
      pruning.push_back({pair_distance(neighbor, ids[i]), ids[i]});
    std::sort(pruning.begin(), pruning.end(), closer);
    const std::size_t kept = select_neighbors(pruning.data(), pruning.size(), capacity,
                                              pair_distance, tuning.heuristic, tuning.keep_pruned);
    for (std::size_t i = 0; i < kept; ++i) ids[i] = pruning[i].node;
    return kept;
  });
}

// Links `node`, whose vector the storage already holds and whose level is `node_level`, into
// the graph. `dist` measures from the new node's vector. Safe to run concurrently for
// different nodes when the storage's update_neighbors() is atomic per node.
//
// All levels are searched before anything is linked, so that (1) the node's own lists are
// complete before any other node can reach it and (2) a storage with the optional hook
// `bool g.merge_duplicate(NodeId node, NodeId existing)` can, before anything changed, merge
// the node into an existing node with an identical vector (pgvector keeps several heap TIDs
// per element). The hook is offered the closest nodes found on layer 0 that are exactly as far
// as the closest one; returning true ends the insert unlinked. Many separate copies of one
// vector would otherwise fill each other's lists and leave the later copies unreachable. When
// none of them can take it, a storage with `NodeId g.relocate_duplicate(NodeId node, NodeId
// closest)` may move the still unlinked node to where it has room for many later copies (its
// id changes), so that later copies merge again instead of each becoming a node of its own.
template <InsertableGraph G, QueryDistance F, VisitedSet V>
InsertResult insert(G& graph, NodeId node, int node_level, F& dist, V& visited,
                    const Params& params, const BuildTuning& tuning, SearchScratch& scratch) {
  const auto pair_distance = [&graph](NodeId a, NodeId b) {
    return orderable(graph.distance(a, b));
  };

  std::optional<EntryPoint> entry = graph.entry_point();
  while (!entry) {
    if (graph.offer_entry_point(node, node_level)) return {true, node};  // the first node
    entry = graph.entry_point();
  }

  Candidate current{orderable(dist(entry->node)), entry->node};
  for (int level = entry->level; level > node_level; --level)
    current = greedy_closest(graph, dist, current, level, scratch);

  // Phase 1: search each level from the top, select the neighbours, keep them per level.
  const int top = std::min(entry->level, node_level);
  std::vector<Candidate>& entries = scratch.entries;
  std::vector<Candidate>& pruning = scratch.pruning;
  std::vector<std::vector<Candidate>>& chosen = scratch.chosen;
  std::vector<std::size_t>& chosen_kept = scratch.chosen_kept;
  if (chosen.size() < static_cast<std::size_t>(top) + 1)
    chosen.resize(static_cast<std::size_t>(top) + 1);
  if (chosen_kept.size() < static_cast<std::size_t>(top) + 1)
    chosen_kept.resize(static_cast<std::size_t>(top) + 1);
  entries.assign(1, current);
  const std::size_t ef = static_cast<std::size_t>(params.ef_construction);
  for (int level = top; level >= 0; --level) {
    std::vector<Candidate>& selection = chosen[static_cast<std::size_t>(level)];
    visited.reset();
    visited.insert(node);
    search_layer(graph, dist, visited, std::span<const Candidate>(entries), ef, level, scratch);
    std::vector<Candidate>& found = sorted_results(scratch);
    std::erase_if(found, [node](const Candidate& c) { return c.node == node; });
    if constexpr (requires { graph.merge_duplicate(node, node); }) {
      if (level == 0 && !found.empty()) {
        for (const Candidate& c : found) {
          if (c.distance != found.front().distance) break;
          if (graph.merge_duplicate(node, c.node)) return {false, c.node};
        }
        // No copy could take it: the node becomes the one that takes the next copies.
        if constexpr (requires { graph.relocate_duplicate(node, node); })
          node = graph.relocate_duplicate(node, found.front().node);
      }
    }
    // The paper's W: all ef nodes found are the next layer's entry points.
    if (!found.empty()) entries.assign(found.begin(), found.end());
    selection.assign(found.begin(), found.end());
    const std::size_t capacity = graph.neighbor_capacity(level);
    const std::size_t wanted = (level == 0 && !tuning.wide_layer0) ? capacity / 2 : capacity;
    selection.resize(select_neighbors(selection.data(), selection.size(), wanted, pair_distance,
                                      tuning.heuristic, tuning.keep_pruned,
                                      &chosen_kept[static_cast<std::size_t>(level)]));
  }

  // A storage that keeps each link's distance and the heuristic's split (ScoredList) has its
  // lists maintained incrementally by add_scored_link(); that needs the default selection.
  [[maybe_unused]] bool scored = false;
  if constexpr (ScoredGraph<G>) scored = tuning.heuristic && tuning.keep_pruned;

  // Phase 2: the node's own lists. Nothing links to it yet, so they are normally empty; a
  // storage may still hold links from an earlier attempt, which are merged in.
  for (int level = top; level >= 0; --level) {
    const std::vector<Candidate>& selection = chosen[static_cast<std::size_t>(level)];
    const std::size_t capacity = graph.neighbor_capacity(level);
    if constexpr (ScoredGraph<G>) {
      if (scored) {
        graph.update_scored_neighbors(node, level, [&](ScoredList& list) {
          std::vector<Candidate> earlier;
          for (std::size_t i = 0; i < list.count; ++i)
            earlier.push_back({list.distances[i], list.ids[i]});
          list.count = selection.size();
          list.kept = chosen_kept[static_cast<std::size_t>(level)];
          list.known = true;
          for (std::size_t i = 0; i < selection.size(); ++i) {
            list.ids[i] = selection[i].node;
            list.distances[i] = selection[i].distance;
          }
          for (const Candidate& c : earlier)
            add_scored_link(list, capacity, c, pair_distance, pruning);
        });
        continue;
      }
    }
    graph.update_neighbors(node, level, [&](NodeId* ids, std::size_t count) -> std::size_t {
      pruning.assign(selection.begin(), selection.end());
      for (std::size_t i = 0; i < count; ++i) {
        const bool known = std::any_of(selection.begin(), selection.end(),
                                       [&](const Candidate& c) { return c.node == ids[i]; });
        if (!known) pruning.push_back({pair_distance(node, ids[i]), ids[i]});
      }
      std::size_t kept = pruning.size();
      if (count > 0) {
        std::sort(pruning.begin(), pruning.end(), closer);
        kept = select_neighbors(pruning.data(), pruning.size(), capacity, pair_distance,
                                tuning.heuristic, tuning.keep_pruned);
      }
      for (std::size_t i = 0; i < kept; ++i) ids[i] = pruning[i].node;
      return kept;
    });
  }

  // Phase 3: reverse links; a full list re-selects among its old members and the new node
  // (incrementally with scored lists).
  if (tuning.reverse_links) {
    for (int level = top; level >= 0; --level) {
      const std::size_t capacity = graph.neighbor_capacity(level);
      const std::vector<Candidate>& own = chosen[static_cast<std::size_t>(level)];
      const std::size_t linked_back =
          (level == 0 && tuning.narrow_reverse) ? std::min(own.size(), capacity / 2) : own.size();
      for (const Candidate& neighbor : std::span<const Candidate>(own.data(), linked_back)) {
        if constexpr (ScoredGraph<G>) {
          if (scored) {
            graph.update_scored_neighbors(neighbor.node, level, [&](ScoredList& list) {
              add_scored_link(list, capacity, {neighbor.distance, node}, pair_distance, pruning);
            });
            continue;
          }
        }
        link_back(graph, neighbor.node, level, node, neighbor.distance, pair_distance, tuning,
                  pruning);
      }
    }
  }

  if (node_level > entry->level) graph.offer_entry_point(node, node_level);
  return {true, node};
}

}  // namespace embedding::hnsw
