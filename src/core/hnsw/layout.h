// The order in which a built graph's nodes are stored, so that graph neighbours share pages.
//
// A search spends most of its time reading the neighbours of the nodes it expands. Stored in
// insertion order, the ~2m neighbours of a node lie on ~2m different pages; stored by
// cluster_order() a page is grown from a seed through its closest layer-0 neighbours, theirs,
// and so on, so one page read serves several of them and the pages a search touches stay
// fewer and warmer in the CPU caches.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/hnsw/params.h"

namespace embedding::hnsw {

// Nodes reachable on layer 0 from the entry point, breadth first, then the unreachable ones in
// id order; duplicates (G::is_duplicate) are left out. G: MemoryGraph or the like.
template <class G>
std::vector<NodeId> breadth_first_order(const G& g) {
  const std::size_t n = g.size();
  std::vector<NodeId> order;
  order.reserve(n);
  std::vector<bool> seen(n, false);
  auto visit_from = [&](NodeId start) {
    if (seen[start] || g.is_duplicate(start)) return;
    seen[start] = true;
    std::size_t head = order.size();
    order.push_back(start);
    for (; head < order.size(); ++head) {
      for (std::uint32_t next : g.neighbor_list(order[head], 0)) {
        if (seen[next] || g.is_duplicate(next)) continue;
        seen[next] = true;
        order.push_back(next);
      }
    }
  };
  if (auto entry = g.entry_point()) visit_from(entry->node);
  for (NodeId node = 0; node < n; ++node) visit_from(node);
  return order;
}

// Calls place(node) for every non-duplicate node of `g`, a page at a time: new_page() starts a
// page, then nodes are offered while fits(node) says the current page has room for it. Each
// page is grown breadth first from a seed (the first unplaced node in breadth_first_order())
// through its unplaced layer-0 neighbours, list order first (the closest, for lists kept in
// selection order); when they run out, the next seeds fill the rest. A node that does not fit
// waits for a later page; a page's first node is placed even if fits() says no.
template <class G, class Fits, class Place, class NewPage>
void cluster_order(const G& g, Fits&& fits, Place&& place, NewPage&& new_page) {
  const std::vector<NodeId> seeds = breadth_first_order(g);
  std::vector<bool> placed(g.size(), false);
  std::size_t next_seed = 0;
  auto more_seeds = [&] {
    while (next_seed < seeds.size() && placed[seeds[next_seed]]) ++next_seed;
    return next_seed < seeds.size();
  };
  std::vector<NodeId> queue;
  while (more_seeds()) {
    new_page();
    queue.assign(1, seeds[next_seed]);
    bool empty = true;
    for (std::size_t head = 0;; ++head) {
      if (head == queue.size()) {
        if (!more_seeds() || !fits(seeds[next_seed])) break;
        queue.push_back(seeds[next_seed]);
      }
      const NodeId node = queue[head];
      if (placed[node] || (!empty && !fits(node))) continue;
      place(node);
      placed[node] = true;
      empty = false;
      for (std::uint32_t next : g.neighbor_list(node, 0))
        if (!placed[next] && !g.is_duplicate(next)) queue.push_back(next);
      if (queue.size() - head > 4096) break;  // a page never holds that many: stop looking
    }
  }
}

}  // namespace embedding::hnsw
