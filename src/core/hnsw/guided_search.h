// HNSW search steered by codes, for a storage that keeps each neighbour's compact code in the
// neighbour list: expanding a node reads its vector (its exact distance) and its list (the codes'
// estimates of its neighbours) together, so no neighbour is read to be judged. Results hold exact
// distances only; estimates only choose what to expand next.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <optional>
#include <vector>

#include "core/hnsw/params.h"
#include "core/hnsw/search.h"
#include "core/hnsw/storage.h"

namespace embedding::hnsw {

// A coded storage, `e` below (the error boundary of storage.h applies: a page storage may raise
// PostgreSQL errors from these calls, so the frames here keep trivially destructible locals):
//
//   std::optional<EntryPoint> e.entry_point()
//   std::size_t e.neighbor_capacity(int level)
//   float e.expand(NodeId node, int level, Keep& keep, NodeId* ids, float* estimates,
//                  std::size_t* count)
//       Returns the exact distance from the query to `node`, and writes those of its neighbours
//       at `level` for which keep(id) returns true (keep is called once for each, in list order)
//       with their estimated distances; *count receives how many. keep.prefetch(id) may be
//       called first for each (it starts the visited set's memory access).
//   void e.prefetch(NodeId node)        optional: expand(node, ...) comes soon.
//   std::optional<Candidate> e.descend()
//       optional: the layer-0 starting point (with its exact distance) found the storage's own
//       way, instead of guided_descend() (GuidedScan only).
template <class E>
concept GuidedStorage = requires(E& e, int level) {
  { e.entry_point() } -> std::same_as<std::optional<EntryPoint>>;
  { e.neighbor_capacity(level) } -> std::convertible_to<std::size_t>;
};

// A node seen but not returned: by its exact distance once expanded, else by its estimate.
struct Pending {
  float distance;
  NodeId node;
  bool exact;
};

// Per-search working memory, reused across searches.
struct GuidedScratch {
  std::vector<Candidate> candidates;  // to expand, by estimate (min-heap)
  std::vector<Candidate> results;     // the best ef expanded, by exact distance (max-heap)
  std::vector<NodeId> ids;
  std::vector<float> estimates;

  void prepare(std::size_t max_neighbors) {
    if (ids.size() < max_neighbors) {
      ids.resize(max_neighbors);
      estimates.resize(max_neighbors);
    }
  }
};

namespace detail {

template <class E, class Keep>
float expand(E& e, NodeId node, int level, Keep& keep, GuidedScratch& s, std::size_t* n) {
  return orderable(e.expand(node, level, keep, s.ids.data(), s.estimates.data(), n));
}

// Pending entries order as candidates do (closest first out of a heap built with FartherFirst).
struct PendingFartherFirst {
  bool operator()(const Pending& a, const Pending& b) const {
    return closer(Candidate{b.distance, b.node}, Candidate{a.distance, a.node});
  }
};

}  // namespace detail

// Best-first search of one layer from the nodes in s.candidates (a heap; marked visited by the
// caller) and s.results (expanded nodes, a heap), keeping the best `ef` by exact distance in
// s.results. A candidate is expanded while its estimate is below the worst result. With
// `discarded`, every node seen that does not stay in the results (and the candidates left when
// the search stops) is appended to it, so that a later call can resume from there.
template <GuidedStorage E, VisitedSet V>
void guided_layer(E& e, V& visited, std::size_t ef, int level, GuidedScratch& s,
                  std::vector<Pending>* discarded = nullptr) {
  s.prepare(e.neighbor_capacity(level));
  if (ef == 0) ef = 1;
  struct Keep {
    V& visited;
    bool operator()(NodeId id) { return visited.insert(id); }
    void prefetch(NodeId id) const {
      if constexpr (requires { visited.prefetch(id); }) visited.prefetch(id);
    }
  } keep{visited};
  auto full = [&] { return s.results.size() >= ef; };
  while (!s.candidates.empty()) {
    if (full() && s.candidates.front().distance > s.results.front().distance) break;
    const Candidate c = detail::pop_candidate(s.candidates);
    if constexpr (requires { e.prefetch(c.node); }) {
      if (!s.candidates.empty()) e.prefetch(s.candidates.front().node);
    }
    std::size_t n = 0;
    const float exact = detail::expand(e, c.node, level, keep, s, &n);
    if (!full() || exact < s.results.front().distance) {
      detail::push_result(s.results, {exact, c.node});
      if (s.results.size() > ef) {
        const Candidate out = detail::pop_result(s.results);
        if (discarded) discarded->push_back({out.distance, out.node, true});
      }
    } else if (discarded) {
      discarded->push_back({exact, c.node, true});
    }
    for (std::size_t i = 0; i < n; ++i) {
      const Candidate next{orderable(s.estimates[i]), s.ids[i]};
      if (!full() || next.distance < s.results.front().distance)
        detail::push_candidate(s.candidates, next);
      else if (discarded)
        discarded->push_back({next.distance, next.node, false});
    }
  }
  if (discarded)
    for (const Candidate& c : s.candidates) discarded->push_back({c.distance, c.node, false});
  s.candidates.clear();
}

// Descends from the entry point to layer 0 (on each upper layer, the search above with ef 1);
// returns the layer-0 starting point with its exact distance, or nothing for an empty graph.
template <GuidedStorage E, VisitedSet V>
std::optional<Candidate> guided_descend(E& e, V& visited, GuidedScratch& s) {
  const std::optional<EntryPoint> entry = e.entry_point();
  if (!entry) return std::nullopt;
  Candidate current{-std::numeric_limits<float>::infinity(), entry->node};
  for (int level = entry->level; level > 0; --level) {
    visited.reset();
    visited.insert(current.node);
    s.candidates.assign(1, current);
    s.results.clear();
    guided_layer(e, visited, 1, level, s);
    current = s.results.front();
  }
  return current;
}

// A layer-0 scan that returns batches of nodes by exact distance and can go on after the first,
// for iterative index scans (as LayerScan in search.h: each node once, each batch sorted, batches
// only approximately in order). Storage, visited set and scratch must outlive the scan.
template <GuidedStorage E, VisitedSet V>
class GuidedScan {
 public:
  GuidedScan(E& e, V& visited, GuidedScratch& scratch) : e_(e), visited_(visited), s_(scratch) {}

  // Appends the next batch (at most ef nodes, closest first) to `out`; false when exhausted.
  bool next_batch(std::size_t ef, std::vector<Candidate>& out) {
    if (ef == 0) ef = 1;
    s_.results.clear();
    s_.candidates.clear();
    if (!started_) {
      started_ = true;
      std::optional<Candidate> start;
      if constexpr (requires { e_.descend(); })
        start = e_.descend();  // a storage that descends its own way (e.g. exactly)
      else
        start = guided_descend(e_, visited_, s_);
      if (!start) return false;
      visited_.reset();
      visited_.insert(start->node);
      s_.results.clear();
      s_.candidates.assign(1, *start);
      discarded_.reserve(64 * ef);  // a search sees some 30-50 nodes a unit of ef
    } else {
      if (discarded_.empty()) return false;
      // Resume from the best leftovers: expanded ones are results at once (their neighbours
      // were seen), the others are expanded.
      for (auto end = discarded_.begin() + static_cast<std::ptrdiff_t>(heap_size_);
           end != discarded_.end();)
        std::push_heap(discarded_.begin(), ++end, detail::PendingFartherFirst{});
      std::size_t taken = 0;
      while (!discarded_.empty() && taken < ef) {
        std::pop_heap(discarded_.begin(), discarded_.end(), detail::PendingFartherFirst{});
        const Pending p = discarded_.back();
        discarded_.pop_back();
        ++taken;
        if (p.exact)
          detail::push_result(s_.results, {p.distance, p.node});
        else
          detail::push_candidate(s_.candidates, {p.distance, p.node});
      }
      heap_size_ = discarded_.size();
    }
    guided_layer(e_, visited_, ef, 0, s_, &discarded_);
    const std::vector<Candidate>& batch = sorted_results_of(s_.results);
    out.insert(out.end(), batch.begin(), batch.end());
    return !batch.empty();
  }

  std::size_t pending() const { return discarded_.size(); }

 private:
  static std::vector<Candidate>& sorted_results_of(std::vector<Candidate>& results) {
    std::sort_heap(results.begin(), results.end(), detail::CloserFirst{});
    return results;
  }

  E& e_;
  V& visited_;
  GuidedScratch& s_;
  std::vector<Pending> discarded_;  // a min-heap in its first heap_size_ entries
  std::size_t heap_size_ = 0;
  bool started_ = false;
};

// The k nearest neighbours, closest first, into `out` (exact distances). Resets `visited`.
template <GuidedStorage E, VisitedSet V>
void guided_knn(E& e, V& visited, std::size_t k, std::size_t ef_search, GuidedScratch& s,
                std::vector<Candidate>& out) {
  out.clear();
  if (k == 0) return;
  const std::optional<Candidate> start = guided_descend(e, visited, s);
  if (!start) return;
  visited.reset();
  visited.insert(start->node);
  s.results.clear();
  s.candidates.assign(1, *start);
  guided_layer(e, visited, std::max(ef_search, k), 0, s);
  std::sort_heap(s.results.begin(), s.results.end(), detail::CloserFirst{});
  out.assign(s.results.begin(),
             s.results.begin() + static_cast<std::ptrdiff_t>(std::min(k, s.results.size())));
}

}  // namespace embedding::hnsw
