// IdSet: an open-addressing hash set of 64-bit ids with O(1) reset, for visited sets over
// sparse ids (page-backed graphs, where ids pack a block number and an offset).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace embedding {

class IdSet {
 public:
  explicit IdSet(std::size_t expected = 1024) { rehash(capacity_for(expected)); }

  // Adds id; true when it was not there yet.
  bool insert(std::uint64_t id) {
    if ((size_ + 1) * 4 > slots_.size() * 3) rehash(slots_.size() * 2);
    return insert_into(slots_, id);
  }
  // Brings id's first probe slot towards the cache (before a batch of insert() calls).
  void prefetch(std::uint64_t id) const {
    __builtin_prefetch(&slots_[hash(id) & (slots_.size() - 1)]);
  }
  bool contains(std::uint64_t id) const {
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash(id) & mask;; i = (i + 1) & mask) {
      if (slots_[i] == kEmpty) return false;
      if (slots_[i] == id + 1) return true;
    }
  }
  void reset() {
    if (size_ == 0) return;
    std::fill(slots_.begin(), slots_.end(), kEmpty);
    size_ = 0;
  }
  std::size_t size() const { return size_; }

 private:
  static constexpr std::uint64_t kEmpty = 0;  // ids are stored + 1 so that 0 marks a free slot

  static std::size_t capacity_for(std::size_t n) {
    std::size_t c = 16;
    while (c * 3 < n * 4) c *= 2;
    return c;
  }
  static std::size_t hash(std::uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return static_cast<std::size_t>(x);
  }
  bool insert_into(std::vector<std::uint64_t>& slots, std::uint64_t id) {
    std::size_t mask = slots.size() - 1;
    for (std::size_t i = hash(id) & mask;; i = (i + 1) & mask) {
      if (slots[i] == id + 1) return false;
      if (slots[i] == kEmpty) {
        slots[i] = id + 1;
        ++size_;
        return true;
      }
    }
  }
  void rehash(std::size_t capacity) {
    std::vector<std::uint64_t> old(capacity, kEmpty);
    old.swap(slots_);
    size_ = 0;
    for (std::uint64_t v : old)
      if (v != kEmpty) insert_into(slots_, v - 1);
  }

  std::vector<std::uint64_t> slots_;
  std::size_t size_ = 0;
};

}  // namespace embedding
