// HNSW search over any storage (storage.h): greedy descent through the upper layers, the
// ef-bounded best-first search of one layer, k-NN search, and a resumable level-0 scan.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "core/hnsw/params.h"
#include "core/hnsw/storage.h"

namespace embedding::hnsw {

namespace detail {

// How many nodes ahead evaluate() prefetches. Prefetching a whole batch at once stalls on
// the CPU's fill buffers; a short pipeline keeps a few rows in flight while one is computed.
constexpr std::size_t kPrefetchAhead = 4;

// Heap orders for std::push_heap (function objects, so that they inline): the candidate heap
// pops the closest, the result heap the farthest.
struct FartherFirst {
  bool operator()(const Candidate& a, const Candidate& b) const { return closer(b, a); }
};
struct CloserFirst {
  bool operator()(const Candidate& a, const Candidate& b) const { return closer(a, b); }
};

inline void push_candidate(std::vector<Candidate>& heap, Candidate c) {
  heap.push_back(c);
  std::push_heap(heap.begin(), heap.end(), FartherFirst{});
}
inline Candidate pop_candidate(std::vector<Candidate>& heap) {
  std::pop_heap(heap.begin(), heap.end(), FartherFirst{});
  const Candidate c = heap.back();
  heap.pop_back();
  return c;
}
inline void push_result(std::vector<Candidate>& heap, Candidate c) {
  heap.push_back(c);
  std::push_heap(heap.begin(), heap.end(), CloserFirst{});
}
inline Candidate pop_result(std::vector<Candidate>& heap) {
  std::pop_heap(heap.begin(), heap.end(), CloserFirst{});
  const Candidate c = heap.back();
  heap.pop_back();
  return c;
}

// Distances from the query to `n` nodes: a batch hook if the functor has one, otherwise
// evaluate in order while prefetching kPrefetchAhead nodes ahead.
template <class F>
void evaluate(F& dist, const NodeId* ids, std::size_t n, float* out) {
  if constexpr (requires { dist.distances(ids, n, out); }) {
    dist.distances(ids, n, out);
    for (std::size_t i = 0; i < n; ++i) out[i] = orderable(out[i]);
  } else {
    if constexpr (requires { dist.prefetch(ids[0]); }) {
      const std::size_t ahead = kPrefetchAhead;
      for (std::size_t i = 0; i < n && i < ahead; ++i) dist.prefetch(ids[i]);
      for (std::size_t i = 0; i < n; ++i) {
        if (i + ahead < n) dist.prefetch(ids[i + ahead]);
        out[i] = orderable(dist(ids[i]));
      }
    } else {
      for (std::size_t i = 0; i < n; ++i) out[i] = orderable(dist(ids[i]));
    }
  }
}

}  // namespace detail

// Greedy descent on one layer: moves to the closest neighbour while that improves, and
// returns the local minimum reached from `start`. (The paper's search with ef = 1, without a
// visited set: each move strictly decreases the distance, so it cannot cycle.)
template <SearchableGraph G, QueryDistance F>
Candidate greedy_closest(G& graph, F& dist, Candidate start, int level, SearchScratch& scratch) {
  scratch.prepare(graph.neighbor_capacity(level));
  NodeId* ids = scratch.neighbor_ids.data();
  float* distances = scratch.fresh_distances.data();
  Candidate current = start;
  for (bool moved = true; moved;) {
    moved = false;
    const std::size_t n = graph.neighbors(current.node, level, ids);
    detail::evaluate(dist, ids, n, distances);
    for (std::size_t i = 0; i < n; ++i) {
      if (distances[i] < current.distance) {
        current = {distances[i], ids[i]};
        moved = true;
      }
    }
  }
  return current;
}

// Best-first search of one layer from `entries` (distances already known), keeping the best
// `ef` nodes found: leaves them in scratch.results as a max-heap (see sorted_results()).
// Entries are marked visited here; the caller resets `visited` before a fresh search and keeps
// it to resume one. When `discarded` is given, every evaluated node that does not stay among
// the results (rejected, or pushed out by a closer one) is appended to it, in no order, so that
// a later call can resume from there (LayerScan orders them only if it resumes).
template <SearchableGraph G, QueryDistance F, VisitedSet V>
void search_layer(G& graph, F& dist, V& visited, std::span<const Candidate> entries, std::size_t ef,
                  int level, SearchScratch& scratch, std::vector<Candidate>* discarded = nullptr) {
  scratch.prepare(graph.neighbor_capacity(level));
  std::vector<Candidate>& candidates = scratch.candidates;
  std::vector<Candidate>& results = scratch.results;
  candidates.clear();
  results.clear();
  if (ef == 0) ef = 1;

  for (const Candidate& entry : entries) {
    visited.insert(entry.node);
    detail::push_candidate(candidates, entry);
    detail::push_result(results, entry);
    if (results.size() > ef) {
      const Candidate out = detail::pop_result(results);
      if (discarded) discarded->push_back(out);
    }
  }

  NodeId* ids = scratch.neighbor_ids.data();
  NodeId* fresh_ids = scratch.fresh_ids.data();
  float* fresh_distances = scratch.fresh_distances.data();
  while (!candidates.empty()) {
    // Stop when the closest unexpanded node is farther than the worst result: no neighbour
    // of it can be expected to improve a full result set (the paper's termination rule).
    if (results.size() >= ef && candidates.front().distance > results.front().distance) break;
    const Candidate current = detail::pop_candidate(candidates);
    // The next node to expand is probably the closest left: fetch its list while this one's
    // distances are computed.
    if constexpr (requires { graph.prefetch_neighbors(current.node, level); }) {
      if (!candidates.empty()) graph.prefetch_neighbors(candidates.front().node, level);
    }

    const std::size_t n = graph.neighbors(current.node, level, ids);
    if constexpr (requires { visited.prefetch(current.node); }) {
      for (std::size_t i = 0; i < n; ++i) visited.prefetch(ids[i]);
    }
    std::size_t fresh = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (visited.insert(ids[i])) fresh_ids[fresh++] = ids[i];
    }
    detail::evaluate(dist, fresh_ids, fresh, fresh_distances);

    for (std::size_t i = 0; i < fresh; ++i) {
      const Candidate c{fresh_distances[i], fresh_ids[i]};
      if (results.size() < ef || c.distance < results.front().distance) {
        detail::push_candidate(candidates, c);
        detail::push_result(results, c);
        if (results.size() > ef) {
          const Candidate out = detail::pop_result(results);
          if (discarded) discarded->push_back(out);
        }
      } else if (discarded) {
        discarded->push_back(c);
      }
    }
  }
}

// Turns scratch.results (the max-heap left by search_layer) into ascending order, in place.
inline std::vector<Candidate>& sorted_results(SearchScratch& scratch) {
  std::sort_heap(scratch.results.begin(), scratch.results.end(), detail::CloserFirst{});
  return scratch.results;
}

// Descends from the entry point to layer 0 greedily; returns the layer-0 starting point, or
// nothing for an empty graph.
template <SearchableGraph G, QueryDistance F>
std::optional<Candidate> descend(G& graph, F& dist, SearchScratch& scratch) {
  const std::optional<EntryPoint> entry = graph.entry_point();
  if (!entry) return std::nullopt;
  Candidate current{orderable(dist(entry->node)), entry->node};
  for (int level = entry->level; level > 0; --level)
    current = greedy_closest(graph, dist, current, level, scratch);
  return current;
}

// The k nearest neighbours of the query, approximately, closest first, into `out`: descend,
// then search layer 0 with ef = max(ef_search, k). Resets `visited`.
template <SearchableGraph G, QueryDistance F, VisitedSet V>
void knn_search(G& graph, F& dist, V& visited, std::size_t k, std::size_t ef_search,
                SearchScratch& scratch, std::vector<Candidate>& out) {
  out.clear();
  if (k == 0) return;
  const std::optional<Candidate> start = descend(graph, dist, scratch);
  if (!start) return;
  visited.reset();
  search_layer(graph, dist, visited, std::span<const Candidate>(&*start, 1), std::max(ef_search, k),
               0, scratch);
  const std::vector<Candidate>& sorted = sorted_results(scratch);
  out.assign(sorted.begin(),
             sorted.begin() + static_cast<std::ptrdiff_t>(std::min(k, sorted.size())));
}

// A level-0 scan that can go on after its first ef results, for iterative index scans: when
// a filter rejects rows, next_batch() returns more, each node exactly once. The first batch is
// the ordinary search with ef; each later batch resumes from the best nodes the scan evaluated
// but did not return, keeping the visited set. Each batch is sorted; batches are only
// approximately in order (a later batch may hold a node closer than one already returned).
// The storage, functor, visited set and scratch must outlive the scan; nothing else may use
// the visited set or the scratch between batches.
template <SearchableGraph G, QueryDistance F, VisitedSet V>
class LayerScan {
 public:
  LayerScan(G& graph, F& dist, V& visited, SearchScratch& scratch)
      : graph_(graph), dist_(dist), visited_(visited), scratch_(scratch) {}

  // Appends the next batch (at most ef nodes, at least one unless exhausted) to `out`,
  // closest first. Returns false when the scan is exhausted and nothing was appended.
  bool next_batch(std::size_t ef, std::vector<Candidate>& out) {
    if (ef == 0) ef = 1;
    if (!started_) {
      started_ = true;
      const std::optional<Candidate> start = descend(graph_, dist_, scratch_);
      if (!start) return false;
      visited_.reset();
      discarded_.reserve(16 * ef);  // a search evaluates some 15-20 nodes per unit of ef
      search_layer(graph_, dist_, visited_, std::span<const Candidate>(&*start, 1), ef, 0, scratch_,
                   &discarded_);
    } else {
      if (discarded_.empty()) return false;
      // Resume from the best leftovers; they are already visited and evaluated. Most scans
      // never resume, so search_layer() only appends them, and they join the heap here.
      for (auto end = discarded_.begin() + static_cast<std::ptrdiff_t>(heap_size_);
           end != discarded_.end();)
        std::push_heap(discarded_.begin(), ++end, detail::FartherFirst{});
      entries_.clear();
      while (!discarded_.empty() && entries_.size() < ef)
        entries_.push_back(detail::pop_candidate(discarded_));
      heap_size_ = discarded_.size();
      search_layer(graph_, dist_, visited_, std::span<const Candidate>(entries_), ef, 0, scratch_,
                   &discarded_);
    }
    const std::vector<Candidate>& batch = sorted_results(scratch_);
    out.insert(out.end(), batch.begin(), batch.end());
    return !batch.empty();
  }

  // Nodes evaluated but not yet returned (their memory is what a caller may want to bound).
  std::size_t pending() const { return discarded_.size(); }

 private:
  G& graph_;
  F& dist_;
  V& visited_;
  SearchScratch& scratch_;
  std::vector<Candidate> discarded_;  // a min-heap in its first heap_size_ entries
  std::size_t heap_size_ = 0;
  std::vector<Candidate> entries_;
  bool started_ = false;
};

}  // namespace embedding::hnsw
