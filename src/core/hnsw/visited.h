// Visited set for graphs whose nodes are numbered 0..n-1: one generation stamp per node, so
// that starting a new search costs one increment instead of clearing n entries.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/hnsw/params.h"

namespace embedding::hnsw {

class GenerationVisitedSet {
 public:
  explicit GenerationVisitedSet(std::size_t capacity = 0) { resize(capacity); }

  // Makes room for ids below `capacity`; forgets everything.
  void resize(std::size_t capacity) {
    stamps_ = std::make_unique<std::uint16_t[]>(capacity);  // zeroed
    capacity_ = capacity;
    generation_ = 1;
  }
  std::size_t capacity() const { return capacity_; }

  // Empties the set.
  void reset() {
    if (++generation_ == 0) {
      // 16-bit stamps keep the array small enough to stay in cache; wrap every 65535 searches.
      std::fill_n(stamps_.get(), capacity_, std::uint16_t{0});
      generation_ = 1;
    }
  }

  // Adds `node`; true when it was not there yet.
  bool insert(NodeId node) {
    std::uint16_t& stamp = stamps_[node];
    if (stamp == generation_) return false;
    stamp = generation_;
    return true;
  }
  bool contains(NodeId node) const { return stamps_[node] == generation_; }
  void prefetch(NodeId node) const { __builtin_prefetch(stamps_.get() + node, 1, 3); }

 private:
  std::unique_ptr<std::uint16_t[]> stamps_;
  std::size_t capacity_ = 0;
  std::uint16_t generation_ = 1;
};

}  // namespace embedding::hnsw
