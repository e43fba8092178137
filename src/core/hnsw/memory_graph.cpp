// MemoryGraph storage: adding vectors with their sampled levels, the neighbour-list arenas,
// entry point, memory accounting, and single-threaded linking and search.
#include "core/hnsw/memory_graph.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "core/common/error.h"
#include "core/hnsw/insert.h"
#include "core/hnsw/search.h"

namespace embedding::hnsw {

MemoryGraph::MemoryGraph(std::size_t dimensions, Metric metric, const Params& params,
                         std::uint64_t seed, std::size_t capacity, const BuildTuning& tuning,
                         Format format)
    : dimensions_(dimensions),
      row_words_(element_bytes(format, dimensions) / sizeof(std::uint32_t)),
      params_(params),
      tuning_(tuning),
      distance_(metric, dimensions, format),
      level_multiplier_(level_multiplier(params.m)),
      rng_(seed),
      layer0_stride_(1 + max_neighbors(params, 0)),
      upper_stride_(1 + max_neighbors(params, 1)) {
  validate(params);
  if (dimensions == 0) throw Error(ErrorCode::kInvalidParameter, "dimensions must be positive");
  if (format == Format::kSparse) offsets_.push_back(0);
  reserve(capacity);
}

void MemoryGraph::reserve(std::size_t capacity) {
  vectors_.reserve(capacity * row_words_);  // kSparse: the empty vector's word; grows as needed
  levels_.reserve(capacity);
  layer0_.reserve(capacity * layer0_stride_);
  layer0_distances_.reserve(capacity * (layer0_stride_ - 1));
  upper_start_.reserve(capacity);
  // Expected upper slots: sum over l >= 1 of P(level >= l) = 1 / (m - 1) per node, plus slack.
  const std::size_t upper_slots =
      capacity / static_cast<std::size_t>(params_.m - 1) + capacity / 64 + 16;
  upper_.reserve(upper_slots * upper_stride_);
  upper_distances_.reserve(upper_slots * (upper_stride_ - 1));
}

NodeId MemoryGraph::add(const void* vector) {
  if (broken_) throw Error(ErrorCode::kInternal, "HNSW graph used after an interrupted build");
  const std::size_t id = size();
  if (id >= std::numeric_limits<std::uint32_t>::max())
    throw Error(ErrorCode::kProgramLimit, "too many vectors for one in-memory HNSW graph",
                "the limit is " + std::to_string(std::numeric_limits<std::uint32_t>::max() - 1));
  const int level = sample_level(rng_, level_multiplier_);
  const std::size_t upper_slot = upper_.size() / upper_stride_;
  if (upper_slot + static_cast<std::size_t>(level) > std::numeric_limits<std::uint32_t>::max())
    throw Error(ErrorCode::kProgramLimit, "too many upper-layer nodes in one HNSW graph");

  const std::size_t upper_size = upper_.size();
  try {
    const std::size_t words = distance_.vector_bytes(vector) / sizeof(std::uint32_t);
    if (!offsets_.empty()) offsets_.push_back(offsets_.back() + words);
    vectors_.resize(vectors_.size() + words);
    std::memcpy(vectors_.data() + row_start(id), vector, words * sizeof(std::uint32_t));
    layer0_.resize(layer0_.size() + layer0_stride_, 0);  // count 0
    layer0_distances_.resize(layer0_distances_.size() + layer0_stride_ - 1);
    upper_.resize(upper_size + static_cast<std::size_t>(level) * upper_stride_, 0);
    upper_distances_.resize(upper_.size() / upper_stride_ * (upper_stride_ - 1));
    upper_start_.push_back(static_cast<std::uint32_t>(upper_slot));
    levels_.push_back(static_cast<std::uint8_t>(level));
  } catch (...) {
    // Out of memory part way: shrink every array back (shrinking never throws).
    if (!offsets_.empty()) offsets_.resize(id + 1);
    vectors_.resize(row_start(id));
    layer0_.resize(id * layer0_stride_);
    layer0_distances_.resize(id * (layer0_stride_ - 1));
    upper_.resize(upper_size);
    upper_distances_.resize(upper_size / upper_stride_ * (upper_stride_ - 1));
    upper_start_.resize(id);
    levels_.resize(id);
    throw;
  }
  return id;
}

std::size_t MemoryGraph::bytes_used() const {
  return vectors_.capacity() * sizeof(std::uint32_t) + offsets_.capacity() * sizeof(std::uint64_t) +
         levels_.capacity() + layer0_.capacity() * sizeof(std::uint32_t) +
         upper_start_.capacity() * sizeof(std::uint32_t) +
         upper_.capacity() * sizeof(std::uint32_t) +
         (layer0_distances_.capacity() + upper_distances_.capacity()) * sizeof(float) + lock_count_;
}

std::size_t MemoryGraph::estimate_bytes_per_node(std::size_t vector_bytes, const Params& params) {
  const std::size_t m = static_cast<std::size_t>(params.m);
  // Ids with a count, and a distance per id.
  const std::size_t layer0 = (1 + 2 * m) * sizeof(std::uint32_t) + 2 * m * sizeof(float);
  // Upper slots average 1 / (m - 1) per node; round up.
  const std::size_t upper = ((1 + m) * sizeof(std::uint32_t) + m * sizeof(float) + m - 2) / (m - 1);
  return vector_bytes + layer0 + upper + sizeof(std::uint32_t) /* upper start */ + 1 /* level */ +
         1 /* lock */;
}

bool MemoryGraph::offer_entry_point(NodeId node, int level) {
  const std::uint64_t wanted = (static_cast<std::uint64_t>(level) << 32) | node;
  std::uint64_t current = entry_.load(std::memory_order_acquire);
  while (current == kNoEntry || static_cast<int>(current >> 32) < level) {
    if (entry_.compare_exchange_weak(current, wanted, std::memory_order_acq_rel)) return true;
  }
  return false;
}

bool MemoryGraph::merge_duplicate(NodeId node, NodeId existing) {
  if (!tuning_.merge_duplicates) return false;
  if (vector_bytes(node) != vector_bytes(existing) ||
      std::memcmp(vector(node), vector(existing), vector_bytes(node)) != 0)
    return false;
  std::lock_guard<std::mutex> guard(duplicates_mutex_);
  const std::size_t limit = tuning_.max_duplicates_for != nullptr
                                ? tuning_.max_duplicates_for(vector_bytes(existing))
                                : tuning_.max_duplicates;
  if (limit != 0) {
    if (duplicate_counts_.size() < size()) duplicate_counts_.resize(size(), 0);
    if (duplicate_counts_[existing] >= limit) return false;
    ++duplicate_counts_[existing];
  }
  duplicates_.emplace_back(static_cast<std::uint32_t>(node), static_cast<std::uint32_t>(existing));
  levels_[node] |= kDuplicateFlag;
  return true;
}

void MemoryGraph::sort_duplicates() {
  // Only the pairs added since the last call are unsorted (link_pending() runs per row).
  const auto by_original = [](const auto& a, const auto& b) {
    return a.second < b.second || (a.second == b.second && a.first < b.first);
  };
  const auto middle = duplicates_.begin() + static_cast<std::ptrdiff_t>(sorted_duplicates_);
  std::sort(middle, duplicates_.end(), by_original);
  std::inplace_merge(duplicates_.begin(), middle, duplicates_.end(), by_original);
  sorted_duplicates_ = duplicates_.size();
}

void MemoryGraph::prepare_context(MemorySearchContext& context) const {
  if (context.visited.capacity() < size()) context.visited.resize(size());
  context.scratch.prepare(max_neighbors(params_, 0));
}

void MemoryGraph::link_node(NodeId node, MemorySearchContext& context) {
  QueryDistanceFn dist(*this, vector(node));
  const int level = this->level(node);
  const std::optional<EntryPoint> entry = entry_point();
  if (!entry || level > entry->level) {
    // Inserts that raise the top level run one at a time (so two of them cannot both build
    // disconnected upper layers); they are rare, about one per m^level nodes.
    std::lock_guard<std::mutex> raise(raise_mutex_);
    insert(*this, node, level, dist, context.visited, params_, tuning_, context.scratch);
  } else {
    insert(*this, node, level, dist, context.visited, params_, tuning_, context.scratch);
  }
}

void MemoryGraph::link_pending(MemorySearchContext& context) {
  if (broken_) throw Error(ErrorCode::kInternal, "HNSW graph used after an interrupted build");
  prepare_context(context);
  try {
    for (; linked_ < size(); ++linked_) link_node(linked_, context);
    sort_duplicates();
  } catch (...) {
    broken_ = true;  // the node was half linked
    throw;
  }
}

void MemoryGraph::search(const void* query, std::size_t k, std::size_t ef_search,
                         MemorySearchContext& context, std::vector<Candidate>& out) const {
  if (broken_) throw Error(ErrorCode::kInternal, "HNSW graph used after an interrupted build");
  prepare_context(context);
  QueryDistanceFn dist(*this, query);
  knn_search(*this, dist, context.visited, k, ef_search, context.scratch, out);
}

}  // namespace embedding::hnsw
