// Which nodes of a graph a search can reach at all: a walk over the links of every level from
// the entry point. A live node no walk reaches holds rows that no scan can return.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace embedding::hnsw {

// The graph census: the links among n nodes as compressed rows (offsets, targets; see
// reachable()), built from `for_each_link(emit)`, which calls emit(from, to) once for every
// link between positions below n. Counting and filling are two runs of it, so that no list of
// pairs is ever held: the page storage reads its neighbour tuples again rather than keep them,
// and may stop after counting when the rows would not fit in memory.
struct LinkRows {
  std::vector<std::uint32_t> offsets;  // n + 1 once counted
  std::vector<std::uint32_t> targets;  // offsets[n] once filled
  std::vector<std::uint32_t> next;     // where each row's next link goes while filling

  template <class ForEachLink>
  void count(std::size_t n, ForEachLink&& for_each_link) {
    offsets.assign(n + 1, 0);
    targets.clear();
    for_each_link([this](std::uint32_t from, std::uint32_t) { ++offsets[from + 1]; });
    for (std::size_t i = 0; i < n; ++i) offsets[i + 1] += offsets[i];
  }
  // After count(). The links may have changed in between (a storage read beside writers): a
  // row keeps at most the links counted for it, and a row given fewer is padded with links
  // to itself, which no walk follows anywhere new.
  template <class ForEachLink>
  void fill(ForEachLink&& for_each_link) {
    const std::size_t n = offsets.size() - 1;
    next.assign(offsets.begin(), offsets.end() - 1);
    targets.resize(offsets.back());
    for_each_link([this](std::uint32_t from, std::uint32_t to) {
      if (next[from] < offsets[from + 1]) targets[next[from]++] = to;
    });
    for (std::size_t i = 0; i < n; ++i)
      while (next[i] < offsets[i + 1]) targets[next[i]++] = static_cast<std::uint32_t>(i);
  }
  std::size_t links() const { return offsets.empty() ? 0 : offsets.back(); }
};

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
