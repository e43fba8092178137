// A graph storage for tests of the core HNSW templates (core/hnsw/storage.h): sparse ids, lists
// in a map, the entry point; a test adds distance() and any optional hooks.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

#include "core/hnsw/params.h"

namespace embedding::hnsw {

class ListStorage {
 public:
  ListStorage(std::size_t layer0_capacity, std::size_t upper_capacity)
      : layer0_capacity_(layer0_capacity), upper_capacity_(upper_capacity) {}

  std::optional<EntryPoint> entry_point() const { return entry_; }
  std::size_t neighbor_capacity(int level) const {
    return level == 0 ? layer0_capacity_ : upper_capacity_;
  }
  std::size_t neighbors(NodeId node, int level, NodeId* out) const {
    const auto it = lists_.find({node, level});
    if (it == lists_.end()) return 0;  // the first node has no lists until others link to it
    std::copy(it->second.begin(), it->second.end(), out);
    return it->second.size();
  }
  template <class Fn>
  void update_neighbors(NodeId node, int level, Fn&& fn) {
    auto& list = lists_[{node, level}];
    std::vector<NodeId> ids(neighbor_capacity(level));
    std::copy(list.begin(), list.end(), ids.begin());
    ids.resize(fn(ids.data(), list.size()));
    list = ids;
  }
  bool offer_entry_point(NodeId node, int level) {
    if (entry_ && entry_->level >= level) return false;
    entry_ = EntryPoint{node, level};
    return true;
  }
  // Replaces the entry point (as VACUUM does when it was deleted); nullopt empties the graph.
  void set_entry_point(std::optional<EntryPoint> entry) { entry_ = entry; }
  std::vector<NodeId> list(NodeId node, int level) const {
    const auto it = lists_.find({node, level});
    return it == lists_.end() ? std::vector<NodeId>{} : it->second;
  }
  // Whether any list of `node` holds `target`.
  bool links_to(NodeId node, NodeId target) const {
    for (const auto& [key, list] : lists_)
      if (key.first == node && std::find(list.begin(), list.end(), target) != list.end())
        return true;
    return false;
  }

 private:
  std::size_t layer0_capacity_, upper_capacity_;
  std::optional<EntryPoint> entry_;
  std::map<std::pair<NodeId, int>, std::vector<NodeId>> lists_;
};

}  // namespace embedding::hnsw
