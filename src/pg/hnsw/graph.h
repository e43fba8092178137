// PageGraph: the hnsw index pages seen through the core's storage interface (core/hnsw/storage.h),
// so that the same search and insert algorithms run on the in-memory build graph and on disk.
#pragma once

#include <algorithm>
#include <optional>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "core/hnsw/params.h"
#include "core/quant/slots.h"
#include "core/vector/stored_distance.h"
#include "pg/hnsw/buffers.h"

namespace embedding::pg::hnsw {

using embedding::hnsw::Candidate;
using embedding::hnsw::EntryPoint;
using embedding::hnsw::Metric;

// Copies of element vectors read during one insert or repair, so that the neighbour-selection
// heuristic (many pairwise distances among the same few dozen nodes) reads each vector once.
class VectorCache {
 public:
  void clear() {
    slots_.clear();
    arena_.clear();
    code_slots_.clear();
    codes_.clear();
  }
  // Bytes held (vectors and an estimate of the index's).
  std::size_t bytes() const { return arena_.size() * sizeof(uint32) + slots_.size() * 32; }
  const void* find(NodeId node) const {
    auto it = slots_.find(node);
    return it == slots_.end() ? nullptr : arena_.data() + it->second;
  }
  // Room for a vector of `bytes` bytes (a multiple of 4, see element_bytes()).
  void* add(NodeId node, std::size_t bytes) {
    std::size_t at = arena_.size();
    arena_.resize(at + bytes / sizeof(uint32));
    slots_.emplace(node, at);
    return arena_.data() + at;
  }
  // Code slots of a quantised index (codes.h), as for vectors.
  const uint8* find_code(NodeId node) const {
    auto it = code_slots_.find(node);
    return it == code_slots_.end() ? nullptr : codes_.data() + it->second;
  }
  uint8* add_code(NodeId node, std::size_t bytes) {
    std::size_t at = codes_.size();
    codes_.resize(at + bytes);
    code_slots_.emplace(node, at);
    return codes_.data() + at;
  }

 private:
  std::unordered_map<NodeId, std::size_t> slots_;
  std::vector<uint32> arena_;  // words, so that vectors stay float-aligned
  std::unordered_map<NodeId, std::size_t> code_slots_;
  std::vector<uint8> codes_;
};

// Reads take a share lock on one buffer at a time and copy what they need. Writers run side by
// side (see GraphLock): a neighbour list is read, changed in memory (which may read other
// pages), then written under its page's exclusive lock only if no one changed it meanwhile,
// else the change is made again on the newer list. Lock order, which makes writers deadlock
// free: the graph lock (a heavyweight lock) before any buffer lock; at most one buffer lock at a
// time, except for writers that hold two pages, which take them in ascending block order
// (lock_pair(); an insert that extends the index locks the new, higher page last), and for a
// search's batch of share locks (PageQueryDistance), also in ascending block order; no lock is
// waited for while a buffer lock is held, except a further buffer lock in that order, the
// relation extension lock, and the metapage's buffer lock (block 0, always last).
class PageGraph {
 public:
  // `cache`, when given, keeps the vectors distance(a, b) reads (writers: inserts, VACUUM).
  // Writers of a quantised index pass its codec (codes.h): they write the codes of new links.
  PageGraph(Relation index, const MetaPage& meta, VectorCache* cache = nullptr,
            const quant::SlotCodec* codec = nullptr)
      : index_(index),
        meta_(meta),
        distance_(static_cast<Metric>(meta.metric), meta.dimensions,
                  static_cast<embedding::hnsw::Format>(meta.format)),
        cache_(cache),
        codec_(codec) {}

  const MetaPage& meta() const { return meta_; }
  Relation index() const { return index_; }
  const embedding::hnsw::VectorDistance& vector_distance() const { return distance_; }

  std::optional<EntryPoint> entry_point() const {
    if (meta_.entry_level < 0) return std::nullopt;
    return EntryPoint{to_node(meta_.entry), meta_.entry_level};
  }
  std::size_t neighbor_capacity(int level) const {
    return level == 0 ? 2u * meta_.m : static_cast<std::size_t>(meta_.m);
  }
  std::size_t neighbors(NodeId node, int level, NodeId* out) const;
  // Hint that neighbors(node, ...) comes soon (see storage.h).
  void prefetch_neighbors(NodeId node, int level) const {
    prefetch_item(index_, node_block(node), node_offset(node));
  }
  // Copies the element's vector into out (room for kMaxVectorBytes) and returns its bytes; 0 if
  // it is not an element tuple of this index's type.
  Size read_vector(NodeId node, void* out) const;
  float distance(NodeId a, NodeId b) const;

  template <class Fn>
  void update_neighbors(NodeId node, int level, Fn&& fn) {
    constexpr int kAttempts = 8;  // then the last change wins: a lost link, never a bad one
    NodeId before[2 * embedding::hnsw::kMaxM];
    NodeId ids[2 * embedding::hnsw::kMaxM];
    for (int attempt = 1;; ++attempt) {
      const std::size_t count = neighbors(node, level, before);
      std::copy(before, before + count, ids);
      const std::size_t updated = fn(ids, count);
      if (updated == count && std::equal(ids, ids + count, before)) return;  // nothing to write
      if (write_neighbors(node, level, ids, updated, before, count, attempt < kAttempts)) return;
    }
  }
  bool offer_entry_point(NodeId node, int level);
  // The core insert's hook (see core/hnsw/insert.h): when the new, still unlinked element `node`
  // holds exactly the vector of the live element `existing` and existing's tuple can grow by one
  // heap TID on its page, moves node's heap row into existing and frees node's element (nothing
  // links to it yet). Identical rows then share one element however they arrived, as in a build.
  bool merge_duplicate(NodeId node, NodeId existing);
  // The core insert's other hook: when no element could take the row of the new, unlinked
  // element `node` and `closest` holds exactly its vector, moves node to a tuple with room for
  // max_heap_tids() rows (a new page when need be) and frees the old one, so that later copies
  // merge into it. Otherwise, and when node already has that room, returns node unchanged.
  // Without it, copies placed in reused free elements on full pages could not merge, each became
  // an element of its own, and more of them than a list holds were unreachable.
  NodeId relocate_duplicate(NodeId node, NodeId closest);

  // Replaces the list of `node` at `level` (generic WAL), read before as `before`. With
  // `must_match`, only if the list still holds exactly those ids; returns whether it wrote. In a
  // quantised index the codes of ids that `before` lacks are computed first (from their vectors);
  // an id that is neither in `before` nor in the current list is dropped (a lost link).
  bool write_neighbors(NodeId node, int level, const NodeId* ids, std::size_t count,
                       const NodeId* before, std::size_t before_count, bool must_match);

 private:
  // Frees the unlinked element at `offset` of a page registered for generic WAL.
  static void mark_free(Page page, OffsetNumber offset);
  // Tells inserts that `block` holds a free element they may reuse.
  void note_free(BlockNumber block);
  // The code slot of `node`'s vector (quantised indexes), through the cache when there is one.
  void slot_of(NodeId node, uint8* out) const;

  Relation index_;
  MetaPage meta_;
  embedding::hnsw::VectorDistance distance_;
  VectorCache* cache_;
  const quant::SlotCodec* codec_;
};

// Distance from a query vector to stored elements (the core's QueryDistance).
class PageQueryDistance {
 public:
  // `query` is a prepared vector in the index's format (prepare_vector()).
  PageQueryDistance(const PageGraph& graph, const void* query) : graph_(graph), query_(query) {}
  float operator()(NodeId node) const;
  // A batch (a node's unvisited neighbours): pins every buffer first and prefetches line pointers
  // and tuples, so that the cache misses of the batch overlap instead of running one by one.
  void distances(const NodeId* ids, std::size_t n, float* out) const;

 private:
  const PageGraph& graph_;
  const void* query_;
};

// The core's algorithms (search.h, insert.h, repair.h) run on these types and may hold them, or
// optionals of them, in frames that a PostgreSQL error raised by a buffer read longjmps over:
// none may need a destructor (see core/hnsw/storage.h).
static_assert(std::is_trivially_destructible_v<PageGraph>);
static_assert(std::is_trivially_destructible_v<PageQueryDistance>);
static_assert(std::is_trivially_destructible_v<std::optional<PageQueryDistance>>);
static_assert(std::is_trivially_destructible_v<std::optional<EntryPoint>>);
static_assert(std::is_trivially_destructible_v<Candidate>);

// The graph lock, a heavyweight lock on the index's metapage block. Inserts hold it shared and
// run side by side; an insert that may change the entry point (an empty graph, or a new
// element above the top level) holds it exclusively, as do VACUUM's repair and freeing passes.
// Searches never take it.
enum class GraphLock { kShared, kExclusive };
void lock_graph(Relation index, GraphLock mode);
void unlock_graph(Relation index, GraphLock mode);

}  // namespace embedding::pg::hnsw
