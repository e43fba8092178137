// Neighbour selection of HNSW (the paper's heuristic, Algorithm 4): keep a candidate only if
// it is closer to the base node than to every neighbour already kept, so links spread out.
#pragma once

#include <algorithm>
#include <cstddef>

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
// closest `max_selected` are taken as they are.
template <class PairDistance>
std::size_t select_neighbors(Candidate* c, std::size_t n, std::size_t max_selected,
                             PairDistance&& pair_distance, bool heuristic = true,
                             bool keep_pruned = false) {
  if (n <= max_selected && !heuristic) return n;
  if (!heuristic || max_selected == 0) return std::min(n, max_selected);
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
  return keep_pruned ? std::min(n, max_selected) : kept;
}

}  // namespace embedding::hnsw
