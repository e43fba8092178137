// MemoryGraph: the in-memory HNSW build graph. Vectors in one contiguous array, neighbour
// lists as fixed-capacity slots in two arenas, a one-byte lock per node for parallel build.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <utility>
#include <vector>

#include "core/common/cancel.h"
#include "core/hnsw/params.h"
#include "core/hnsw/select.h"
#include "core/hnsw/spinlock.h"
#include "core/hnsw/storage.h"
#include "core/hnsw/visited.h"
#include "core/vector/stored_distance.h"

namespace embedding::hnsw {

// Per-thread search state over a MemoryGraph: visited stamps for every node and the heaps.
// Reuse one per thread; it grows with the graph.
struct MemorySearchContext {
  GenerationVisitedSet visited;
  SearchScratch scratch;
};

struct BuildOptions {
  int threads = 1;                      // the calling thread counts as one
  const CancelToken* cancel = nullptr;  // polled before every node
  // Called on the calling thread only, about every progress_interval_ms and once at the end,
  // with nodes linked so far and the total of this build. It may throw (the build then stops
  // its workers and rethrows); it must not longjmp.
  std::function<void(std::size_t done, std::size_t total)> progress;
  int progress_interval_ms = 100;
};

class MemoryGraph {
 public:
  // `seed` seeds the level sampling; `capacity` reserves room for that many nodes up front
  // (growing later copies the arrays, which doubles memory for a moment).
  // Vectors are stored as `format` (element_bytes() each); add() and search() take them so.
  MemoryGraph(std::size_t dimensions, Metric metric, const Params& params, std::uint64_t seed,
              std::size_t capacity = 0, const BuildTuning& tuning = {},
              Format format = Format::kFloat32);
  MemoryGraph(const MemoryGraph&) = delete;
  MemoryGraph& operator=(const MemoryGraph&) = delete;

  // Filling. add() copies the vector (cosine inputs must be normalised already), samples the
  // node's level and returns its id (0, 1, 2...); the node is searchable only once linked by
  // build() or link_pending(). Not thread-safe, and never during build().
  NodeId add(const void* vector);
  void reserve(std::size_t capacity);
  // Links every node added since the last build, with options.threads threads (workers run
  // core code only, with all signals blocked), then gives every layer-0 node without an
  // in-link one (see connect_orphans()). Throws Error(kCancelled) when cancelled; a
  // cancelled or failed build leaves the graph unusable (only destruction is allowed).
  void build(const BuildOptions& options = {});
  // Links the pending nodes on the calling thread, reusing `context` (one node at a time as
  // rows arrive, without build()'s per-call set-up).
  void link_pending(MemorySearchContext& context);

  // The k nearest linked nodes to `query` (normalised for cosine), closest first.
  // Safe to call from several threads at once, each with its own context, when not building.
  void search(const void* query, std::size_t k, std::size_t ef_search, MemorySearchContext& context,
              std::vector<Candidate>& out) const;

  std::size_t size() const { return levels_.size(); }
  std::size_t linked() const { return linked_; }
  std::size_t dimensions() const { return dimensions_; }
  Format format() const { return distance_.format(); }
  // Bytes of node's stored vector.
  std::size_t vector_bytes(NodeId node) const {
    return offsets_.empty() ? row_words_ * sizeof(std::uint32_t)
                            : (offsets_[node + 1] - offsets_[node]) * sizeof(std::uint32_t);
  }
  Metric metric() const { return distance_.metric(); }
  const Params& params() const { return params_; }
  const BuildTuning& tuning() const { return tuning_; }

  // Memory. bytes_used() is what the graph holds now (allocated capacity included);
  // estimate_bytes_per_node() is the expected cost of one more node once the arrays are
  // sized (vector, layer-0 slot, level, lock, upper-layer slots averaged over levels).
  // A build also allocates a visited array of 2 bytes per node per thread.
  std::size_t bytes_used() const;
  // `vector_bytes`: the stored size of one vector (element_bytes(), or an average for kSparse).
  static std::size_t estimate_bytes_per_node(std::size_t vector_bytes, const Params& params);
  // Bytes of all stored vectors (for memory accounting of variable-size formats).
  std::size_t stored_vector_bytes() const { return vectors_.size() * sizeof(std::uint32_t); }

  // Export for the page writer (after build): levels, lists (ids of other nodes), vectors,
  // and the nodes merged into an identical one (in no list; their rows belong to it).
  int level(NodeId node) const { return levels_[node] & kLevelMask; }
  bool is_duplicate(NodeId node) const { return (levels_[node] & kDuplicateFlag) != 0; }
  // (duplicate, original) pairs, sorted by original then duplicate.
  const std::vector<std::pair<std::uint32_t, std::uint32_t>>& duplicates() const {
    return duplicates_;
  }
  std::span<const std::uint32_t> neighbor_list(NodeId node, int level) const {
    const std::uint32_t* list = list_at(node, level);
    return {list + 1, list[0] & kCountMask};
  }
  const void* vector(NodeId node) const { return vectors_.data() + row_start(node); }

  // The storage interface of storage.h.
  std::optional<EntryPoint> entry_point() const {
    const std::uint64_t packed = entry_.load(std::memory_order_acquire);
    if (packed == kNoEntry) return std::nullopt;
    return EntryPoint{packed & 0xffffffffu, static_cast<int>(packed >> 32)};
  }
  std::size_t neighbor_capacity(int level) const { return max_neighbors(params_, level); }
  std::size_t neighbors(NodeId node, int level, NodeId* out) const {
    const std::uint32_t* list = list_at(node, level);
    if (!concurrent_) return copy_list(list, out);
    SpinLock guard(locks_[node]);
    return copy_list(list, out);
  }
  void prefetch_neighbors(NodeId node, int level) const {
    // A layer-0 list spans up to three cache lines (4 + 32 * 4 bytes for m = 16).
    const char* list = reinterpret_cast<const char*>(list_at(node, level));
    __builtin_prefetch(list);
    __builtin_prefetch(list + 64);
    if (level == 0) __builtin_prefetch(list + 128);
  }
  float distance(NodeId a, NodeId b) const { return distance_(vector(a), vector(b)); }
  template <class Fn>
  void update_neighbors(NodeId node, int level, Fn&& fn) {
    std::uint32_t* list = list_at(node, level);
    NodeId ids[2 * kMaxM];
    std::optional<SpinLock> guard;
    if (concurrent_) guard.emplace(locks_[node]);
    const std::size_t count = fn(ids, copy_list(list, ids));
    for (std::size_t i = 0; i < count; ++i) list[1 + i] = static_cast<std::uint32_t>(ids[i]);
    list[0] = static_cast<std::uint32_t>(count);  // the stored distances are now stale
  }
  // The optional scored form (storage.h): `fn(ScoredList&)` edits the list with each member's
  // distance to `node` and the heuristic's split, which are stored with it. insert() uses
  // only this form when the tuning allows it (heuristic and keep_pruned), so that a graph's
  // stored distances stay in step with its lists.
  template <class Fn>
  void update_scored_neighbors(NodeId node, int level, Fn&& fn) {
    std::uint32_t* list = list_at(node, level);
    float* distances = distances_at(node, level);
    NodeId ids[2 * kMaxM + 1];
    float scored_distances[2 * kMaxM + 1];
    std::optional<SpinLock> guard;
    if (concurrent_) guard.emplace(locks_[node]);
    const std::uint32_t header = list[0];
    ScoredList scored{ids, scored_distances, copy_list(list, ids),
                      (header >> kKeptShift) & kCountMask, (header & kKnownFlag) != 0};
    std::copy(distances, distances + scored.count, scored_distances);
    fn(scored);
    for (std::size_t i = 0; i < scored.count; ++i) {
      list[1 + i] = static_cast<std::uint32_t>(ids[i]);
      distances[i] = scored_distances[i];
    }
    list[0] = static_cast<std::uint32_t>(scored.count) |
              static_cast<std::uint32_t>(scored.kept) << kKeptShift |
              (scored.known ? kKnownFlag : 0u);
  }
  bool offer_entry_point(NodeId node, int level);
  bool merge_duplicate(NodeId node, NodeId existing);

  // Distance from a fixed query vector to stored nodes (the QueryDistance of storage.h).
  class QueryDistanceFn {
   public:
    QueryDistanceFn(const MemoryGraph& graph, const void* query)
        : graph_(graph), distance_(graph.distance_), query_(query) {}
    float operator()(NodeId node) const { return distance_(query_, graph_.vector(node)); }
    void prefetch(NodeId node) const {
      // The first two lines; the hardware prefetcher follows the rest of the row.
      const char* row = static_cast<const char*>(graph_.vector(node));
      __builtin_prefetch(row);
      __builtin_prefetch(row + 64);
    }

   private:
    const MemoryGraph& graph_;
    VectorDistance distance_;
    const void* query_;
  };

 private:
  static constexpr std::uint64_t kNoEntry = ~std::uint64_t{0};
  static constexpr std::uint8_t kLevelMask = 0x7f;
  static constexpr std::uint8_t kDuplicateFlag = 0x80;
  // A list's first word: count | kept << kKeptShift | kKnownFlag (ScoredList); 2 * kMaxM < 256.
  static constexpr std::uint32_t kCountMask = 0xff;
  static constexpr int kKeptShift = 8;
  static constexpr std::uint32_t kKnownFlag = 1u << 16;
  static_assert(2 * kMaxM <= kCountMask, "a list's count and kept count must fit in a byte");

  static std::size_t copy_list(const std::uint32_t* list, NodeId* out) {
    const std::size_t count = list[0] & kCountMask;
    for (std::size_t i = 0; i < count; ++i) out[i] = list[1 + i];
    return count;
  }
  const std::uint32_t* list_at(NodeId node, int level) const {
    if (level == 0) return layer0_.data() + node * layer0_stride_;
    return upper_.data() +
           (upper_start_[node] + static_cast<std::size_t>(level) - 1) * upper_stride_;
  }
  std::uint32_t* list_at(NodeId node, int level) {
    return const_cast<std::uint32_t*>(std::as_const(*this).list_at(node, level));
  }
  float* distances_at(NodeId node, int level) {
    if (level == 0) return layer0_distances_.data() + node * (layer0_stride_ - 1);
    return upper_distances_.data() +
           (upper_start_[node] + static_cast<std::size_t>(level) - 1) * (upper_stride_ - 1);
  }
  void link_node(NodeId node, MemorySearchContext& context);
  void connect_orphans();
  void prepare_context(MemorySearchContext& context) const;
  void sort_duplicates();

  std::size_t dimensions_;
  std::size_t row_words_;  // 4-byte words of one stored vector (fixed-size formats)
  std::size_t row_start(NodeId node) const {
    return offsets_.empty() ? node * row_words_ : offsets_[node];
  }
  Params params_;
  BuildTuning tuning_;
  VectorDistance distance_;
  double level_multiplier_;
  std::mt19937_64 rng_;

  std::vector<std::uint32_t> vectors_;      // the stored vectors one after another, word-aligned
  std::vector<std::uint64_t> offsets_;      // kSparse only: size() + 1 word offsets into vectors_
  std::vector<std::uint8_t> levels_;        // per node: level | kDuplicateFlag
  std::vector<std::uint32_t> layer0_;       // per node: count, then 2 * m ids
  std::vector<std::uint32_t> upper_start_;  // per node: first upper slot (in slots)
  std::vector<std::uint32_t> upper_;        // per upper level of a node: count, then m ids
  std::vector<float> layer0_distances_;     // per node: 2 * m distances, as layer0_'s ids
  std::vector<float> upper_distances_;      // per upper level of a node: m distances
  std::size_t layer0_stride_;
  std::size_t upper_stride_;

  std::atomic<std::uint64_t> entry_{kNoEntry};  // level << 32 | node
  std::mutex raise_mutex_;                      // serialises inserts that raise the top level
  std::unique_ptr<std::atomic<std::uint8_t>[]> locks_;
  std::size_t lock_count_ = 0;
  bool concurrent_ = false;  // several threads are linking: lists are read under their lock
  bool broken_ = false;      // a build was interrupted
  std::size_t linked_ = 0;   // nodes 0..linked_-1 are in the graph (or merged)
  std::mutex duplicates_mutex_;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> duplicates_;  // (duplicate, original)
  std::vector<std::uint32_t> duplicate_counts_;  // per node, only with max_duplicates
  std::size_t sorted_duplicates_ = 0;
};

}  // namespace embedding::hnsw
