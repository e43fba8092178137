// The walk of reachability.h: an iterative depth-first search (no recursion: graphs have
// millions of nodes).
#include "core/hnsw/reachability.h"

#include <stdexcept>

namespace embedding::hnsw {

void extend_reach(std::size_t from, const std::vector<std::uint32_t>& offsets,
                  const std::vector<std::uint32_t>& targets, const std::vector<bool>& passable,
                  std::vector<bool>& reached, std::vector<std::uint32_t>* newly) {
  const std::size_t n = offsets.empty() ? 0 : offsets.size() - 1;
  if (from >= n || passable.size() != n || reached.size() != n)
    throw std::out_of_range("reachable: bad start or sizes");
  if (reached[from]) return;
  std::vector<std::uint32_t> stack{static_cast<std::uint32_t>(from)};
  reached[from] = true;
  while (!stack.empty()) {
    const std::uint32_t node = stack.back();
    stack.pop_back();
    if (newly != nullptr) newly->push_back(node);
    if (!passable[node]) continue;
    for (std::uint32_t i = offsets[node]; i < offsets[node + 1]; ++i) {
      const std::uint32_t target = targets.at(i);
      if (target >= n) throw std::out_of_range("reachable: link beyond the graph");
      if (reached[target]) continue;
      reached[target] = true;
      stack.push_back(target);
    }
  }
}

std::vector<bool> reachable(std::size_t entry, const std::vector<std::uint32_t>& offsets,
                            const std::vector<std::uint32_t>& targets,
                            const std::vector<bool>& passable) {
  std::vector<bool> reached(passable.size(), false);
  extend_reach(entry, offsets, targets, passable, reached);
  return reached;
}

}  // namespace embedding::hnsw
