// Which nodes of a graph a search can reach at all: a walk over the links of every level from
// the entry point. A live node no walk reaches holds rows that no scan can return.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace embedding::hnsw {

// A graph in compressed rows: node i links to targets[offsets[i]] .. targets[offsets[i + 1]]
// (positions 0..n-1, any level; offsets has n + 1 entries). Searches pass through node i only
// when passable[i] (a free element's stale links lead nowhere). Returns, for every node, whether
// a walk from `entry` reaches it. Throws std::out_of_range on a target or entry beyond n.
std::vector<bool> reachable(std::size_t entry, const std::vector<std::uint32_t>& offsets,
                            const std::vector<std::uint32_t>& targets,
                            const std::vector<bool>& passable);

// The same walk from `from`, marking in `reached` what it reaches that was not marked yet (and
// `from` itself), for more starting points or a graph that gains a link to a node nothing
// reached; appends the newly marked nodes to `newly` when given.
void extend_reach(std::size_t from, const std::vector<std::uint32_t>& offsets,
                  const std::vector<std::uint32_t>& targets, const std::vector<bool>& passable,
                  std::vector<bool>& reached, std::vector<std::uint32_t>* newly = nullptr);

}  // namespace embedding::hnsw
