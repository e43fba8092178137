// What a graph storage must provide for the HNSW algorithms (search.h, insert.h), written
// once as templates: the in-memory build graph and the PostgreSQL page storage both model it.
//
// The error boundary, for whoever edits these algorithms: the page storage's calls (neighbors,
// distance, update_neighbors, ...) read PostgreSQL buffers and may raise a PostgreSQL error,
// which longjmps over every frame between it and the glue's guard without running destructors.
// So code here that a page storage instantiates keeps only trivially destructible locals
// (references to caller-owned scratch such as SearchScratch, spans, PODs, lambdas capturing by
// reference): no std::vector, std::string, std::function or smart pointer may live in such a
// frame. Long loops call embedding::poll_interrupts() (core/common/interrupt.h), which throws.
#pragma once

#include <concepts>
#include <cstddef>
#include <optional>
#include <vector>

#include "core/hnsw/params.h"

namespace embedding::hnsw {

// A storage the algorithms can search, `g` below:
//
//   std::optional<EntryPoint> g.entry_point()
//       The node searches start from and its level; nullopt while the graph is empty.
//   std::size_t g.neighbor_capacity(int level)
//       Most ids neighbors() may write for that level (2 * m on layer 0, m above).
//   std::size_t g.neighbors(NodeId node, int level, NodeId* out)
//       Copies the neighbour ids of `node` at `level` into `out` and returns their count.
//       Copying (rather than lending a pointer) lets a storage read under a lock or from a
//       buffer it releases at once. Only called for levels the node has.
//   void g.prefetch_neighbors(NodeId node, int level)
//       Optional: hint that neighbors(node, level) will be called soon.
//
// The distance to the query is a separate functor `dist` (QueryDistance below), so that one
// storage serves many queries and a thread's searches share nothing:
//
//   float dist(NodeId node)                 distance from the query to `node`, smaller = closer.
//   void dist.prefetch(NodeId node)         optional: hint that `node` will be evaluated soon.
//   void dist.distances(const NodeId* ids, std::size_t n, float* out)
//                                           optional: evaluates a batch (e.g. in block order);
//                                           when present it is used instead of the two above.
//
// The visited set `visited` is the caller's too (VisitedSet below): a generation array for
// dense ids (visited.h), a hash set for page ids. An optional visited.prefetch(NodeId) is
// called for a node's neighbours before they are looked up.
//
// Inserting also needs (InsertableGraph below):
//
//   float g.distance(NodeId a, NodeId b)
//       Distance between two stored nodes, for the neighbour-selection heuristic.
//   void g.update_neighbors(NodeId node, int level, Fn fn)
//       Runs `std::size_t fn(NodeId* ids, std::size_t count)` on the current list of `node`
//       at `level` (room for neighbor_capacity(level) ids), and stores the first `returned`
//       ids as the new list. The storage makes read-modify-write atomic per node: a node lock
//       (memory), or writing only if the list is unchanged since it was read and otherwise
//       running `fn` again on the newer list (pages). So `fn` may run more than once, must
//       depend only on its arguments, and calls only g.distance(), never update_neighbors().
//   bool g.offer_entry_point(NodeId node, int level)
//       Makes `node` the entry point if the graph is empty or `level` is above the current
//       entry point's level, atomically; returns whether it did. (An insert that found the
//       graph empty but loses this race to another insert starts over.)
//   bool g.merge_duplicate(NodeId node, NodeId existing)
//       Optional: if `existing` holds exactly the same vector as `node` and can take one more
//       duplicate, record that `node` is represented by `existing` and return true (insert()
//       then links nothing). See insert.h.
//   NodeId g.relocate_duplicate(NodeId node, NodeId closest)
//       Optional, with merge_duplicate(): called when no identical node could take `node`.
//       If `closest` holds exactly node's vector and node has no room for later copies, the
//       storage may move the still unlinked `node` to where it has; returns node's id then.
// A new node's own lists also go through update_neighbors(), and the storage must start them
// empty.
//
//   void g.update_scored_neighbors(NodeId node, int level, Fn fn)
//       Optional (ScoredGraph): like update_neighbors(), but runs `void fn(ScoredList&)`
//       (select.h) on the list together with the distances and selection split the storage
//       keeps with it, and stores all three back.

template <class G>
concept SearchableGraph = requires(G& g, NodeId node, int level, NodeId* out) {
  { g.entry_point() } -> std::same_as<std::optional<EntryPoint>>;
  { g.neighbor_capacity(level) } -> std::convertible_to<std::size_t>;
  { g.neighbors(node, level, out) } -> std::convertible_to<std::size_t>;
};

// Signature of the list editor passed to update_neighbors().
struct NeighborEditorArchetype {
  std::size_t operator()(NodeId* ids, std::size_t count) const;
};

template <class G>
concept InsertableGraph = SearchableGraph<G> &&
    requires(G& g, NodeId a, NodeId b, int level, NeighborEditorArchetype fn) {
  { g.distance(a, b) } -> std::convertible_to<float>;
  g.update_neighbors(a, level, fn);
  { g.offer_entry_point(a, level) } -> std::same_as<bool>;
};

struct ScoredList;
struct ScoredEditorArchetype {
  void operator()(ScoredList& list) const;
};

template <class G>
concept ScoredGraph = InsertableGraph<G> &&
    requires(G& g, NodeId a, int level, ScoredEditorArchetype fn) {
  g.update_scored_neighbors(a, level, fn);
};

template <class F>
concept QueryDistance = requires(F& dist, NodeId node) {
  { dist(node) } -> std::convertible_to<float>;
};

template <class V>
concept VisitedSet = requires(V& visited, NodeId node) {
  { visited.insert(node) } -> std::same_as<bool>;  // true when newly added
  visited.reset();                                 // empties the set
};

// Per-thread working memory of the algorithms, reused across searches so that no hop
// allocates. Sized by prepare() for the largest neighbour list; heaps grow to ef once.
struct SearchScratch {
  std::vector<Candidate> candidates;           // min-heap of nodes to expand
  std::vector<Candidate> results;              // max-heap of the best ef found
  std::vector<Candidate> entries;              // entry points of the next layer while inserting
  std::vector<Candidate> pruning;              // re-selection of an overflowing list
  std::vector<std::vector<Candidate>> chosen;  // a new node's neighbours, per level
  std::vector<std::size_t> chosen_kept;        // how many of them the heuristic kept
  std::vector<NodeId> neighbor_ids;            // one node's neighbours
  std::vector<NodeId> fresh_ids;               // the unvisited ones among them
  std::vector<float> fresh_distances;

  void prepare(std::size_t max_neighbors) {
    if (neighbor_ids.size() < max_neighbors + 1) {
      neighbor_ids.resize(max_neighbors + 1);
      fresh_ids.resize(max_neighbors + 1);
      fresh_distances.resize(max_neighbors + 1);
    }
  }
};

}  // namespace embedding::hnsw
