// Neighbour selection of HNSW (the paper's heuristic, Algorithm 4): keep a candidate only if
// it is closer to the base node than to every neighbour already kept, so links spread out.
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "core/hnsw/params.h"

namespace embedding::hnsw {

// Selects at most `max_selected` of the candidates `c[0..n)`, which carry their distance to
// the base node and must be sorted closest first (by closer()). The selected ones end up in
// c[0..returned), still closest first; the rest follow in their original order.
// `pair_distance(a, b)` is the distance between two candidates' nodes.
//
// A candidate is pruned when some kept neighbour is strictly closer to it than the base node
// is: the base reaches it through that neighbour. (Identical vectors are therefore not pruned
// by each other, so duplicates stay linked to one another and findable.) With `keep_pruned`
// the free slots are filled back with the closest pruned candidates; with !`heuristic` the
// closest `max_selected` are taken as they are. `heuristic_kept`, when given, receives how many
// of the selected the heuristic itself kept (the rest are pruned ones filled back in).
template <class PairDistance>
std::size_t select_neighbors(Candidate* c, std::size_t n, std::size_t max_selected,
                             PairDistance&& pair_distance, bool heuristic = true,
                             bool keep_pruned = false, std::size_t* heuristic_kept = nullptr) {
  if (!heuristic || max_selected == 0) {
    const std::size_t taken = std::min(n, max_selected);
    if (heuristic_kept != nullptr) *heuristic_kept = taken;
    return taken;
  }
  std::size_t kept = 0;
  for (std::size_t i = 0; i < n && kept < max_selected; ++i) {
    bool keep = true;
    for (std::size_t j = 0; j < kept; ++j) {
      if (pair_distance(c[i].node, c[j].node) < c[i].distance) {
        keep = false;
        break;
      }
    }
    if (keep) {
      // Move c[i] to the end of the kept prefix; the pruned ones between keep their order.
      std::rotate(c + kept, c + i, c + i + 1);
      ++kept;
    }
  }
  if (heuristic_kept != nullptr) *heuristic_kept = kept;
  return keep_pruned ? std::min(n, max_selected) : kept;
}

// A neighbour list that also knows each member's distance to the list's owner and which
// members the heuristic kept: ids[0..kept) were kept, ids[kept..count) are pruned ones that
// fill the free slots (keep_pruned). `known` is false while that split is unknown (members
// were appended without selection). The arrays have room for one member beyond capacity.
struct ScoredList {
  NodeId* ids;
  float* distances;
  std::size_t count;
  std::size_t kept;
  bool known;
};

// Adds `added` (carrying its distance to the owner) to a list selected with the heuristic and
// keep_pruned, so that a full list ends as select_neighbors() over its members and `added`
// would leave it, without re-running the selection's O(capacity^2) pair distances:
//  - a list with room takes the new member as it is, and its split becomes unknown;
//  - a full list with an unknown split is selected once, from the stored distances;
//  - otherwise only the kept members decide: `added` is kept unless a kept member closer to
//    the owner is closer to it; if kept, it prunes the kept members farther out that it is
//    closer to. Then the farthest pruned member (or, with none pruned, the farthest) leaves.
// The one approximation: a member pruned only by a member that `added` now prunes stays
// pruned (the full selection would re-examine it). At most `kept` pair distances per call.
// `scratch` is working memory. Returns false when `added` was already a member.
template <class PairDistance>
bool add_scored_link(ScoredList& list, std::size_t capacity, Candidate added,
                     PairDistance&& pair_distance, std::vector<Candidate>& scratch) {
  for (std::size_t i = 0; i < list.count; ++i)
    if (list.ids[i] == added.node) return false;
  const auto member = [&list](std::size_t i) { return Candidate{list.distances[i], list.ids[i]}; };
  const auto swap_members = [&list](std::size_t a, std::size_t b) {
    std::swap(list.ids[a], list.ids[b]);
    std::swap(list.distances[a], list.distances[b]);
  };
  if (list.count < capacity) {
    list.ids[list.count] = added.node;
    list.distances[list.count] = added.distance;
    ++list.count;
    list.known = false;
    return true;
  }
  if (!list.known) {
    scratch.clear();
    for (std::size_t i = 0; i < list.count; ++i) scratch.push_back(member(i));
    scratch.push_back(added);
    std::sort(scratch.begin(), scratch.end(), closer);
    list.count = select_neighbors(scratch.data(), scratch.size(), capacity, pair_distance, true,
                                  true, &list.kept);
    for (std::size_t i = 0; i < list.count; ++i) {
      list.ids[i] = scratch[i].node;
      list.distances[i] = scratch[i].distance;
    }
    list.known = true;
    return true;
  }

  bool kept = true;
  for (std::size_t i = 0; i < list.kept && kept; ++i)
    kept = !(closer(member(i), added) && pair_distance(added.node, list.ids[i]) < added.distance);
  list.ids[list.count] = added.node;
  list.distances[list.count] = added.distance;
  ++list.count;
  if (kept) {
    swap_members(list.kept, list.count - 1);
    ++list.kept;
    for (std::size_t i = 0; i < list.kept;) {
      if (list.ids[i] != added.node && closer(added, member(i)) &&
          pair_distance(list.ids[i], added.node) < list.distances[i]) {
        swap_members(i, list.kept - 1);
        --list.kept;
      } else {
        ++i;
      }
    }
  }
  std::size_t worst = list.kept < list.count ? list.kept : 0;
  for (std::size_t i = worst + 1; i < list.count; ++i)
    if (closer(member(worst), member(i))) worst = i;
  swap_members(worst, list.count - 1);
  --list.count;
  list.kept = std::min(list.kept, list.count);
  return true;
}

}  // namespace embedding::hnsw
