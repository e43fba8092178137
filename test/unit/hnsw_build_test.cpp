// Parallel build control of the HNSW build graph (cancellation, progress, failures, memory
// accounting) and the small pieces: level sampling, neighbour selection, normalisation.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/common/cancel.h"
#include "core/common/error.h"
#include "core/hnsw/memory_graph.h"
#include "core/hnsw/select.h"

namespace embedding::hnsw {
namespace {

using Clock = std::chrono::steady_clock;

void fill(MemoryGraph& graph, std::size_t rows, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> v(graph.dimensions());
  for (std::size_t i = 0; i < rows; ++i) {
    for (float& x : v) x = uniform(rng);
    graph.add(v.data());
  }
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A build far longer than a second stops within one once cancelled from another thread, and
// reports kCancelled; the half-built graph refuses further use.
TEST(HnswBuild, CancelStopsWorkersWithinASecond) {
  MemoryGraph graph(32, Metric::kL2, Params{16, 200}, 1, 60000);
  fill(graph, 60000, 1);
  CancelToken cancel;
  BuildOptions options;
  options.threads = 2;
  options.cancel = &cancel;
  std::atomic<std::size_t> seen{0};
  options.progress = [&](std::size_t done, std::size_t) { seen = done; };
  options.progress_interval_ms = 10;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel.cancel();
  });
  const Clock::time_point start = Clock::now();
  try {
    graph.build(options);
    ADD_FAILURE() << "build was not cancelled";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCancelled);
  }
  const double elapsed = seconds_since(start);
  canceller.join();
  EXPECT_LT(elapsed, 1.3);
  EXPECT_GT(seen.load(), 0u);
  EXPECT_LT(seen.load(), 60000u);
  MemorySearchContext context;
  std::vector<Candidate> out;
  EXPECT_THROW(graph.search(graph.vector(0), 1, 10, context, out), Error);
}

TEST(HnswBuild, AlreadyCancelledTokenLinksNothing) {
  MemoryGraph graph(8, Metric::kL2, Params{}, 1);
  fill(graph, 1000, 2);
  CancelToken cancel;
  cancel.cancel();
  BuildOptions options;
  options.cancel = &cancel;
  EXPECT_THROW(graph.build(options), Error);
}

// The progress callback runs on the calling thread only, sees a non-decreasing count and ends
// with (total, total); an exception it throws stops the workers and reaches the caller.
TEST(HnswBuild, ProgressRunsOnCallerAndMayAbort) {
  MemoryGraph graph(16, Metric::kL2, Params{}, 1);
  fill(graph, 4000, 3);
  const std::thread::id caller = std::this_thread::get_id();
  std::vector<std::size_t> reports;
  BuildOptions options;
  options.threads = 3;
  options.progress_interval_ms = 1;
  options.progress = [&](std::size_t done, std::size_t total) {
    EXPECT_EQ(std::this_thread::get_id(), caller);
    EXPECT_EQ(total, 4000u);
    reports.push_back(done);
  };
  graph.build(options);
  ASSERT_FALSE(reports.empty());
  EXPECT_TRUE(std::is_sorted(reports.begin(), reports.end()));
  EXPECT_EQ(reports.back(), 4000u);
  EXPECT_EQ(graph.linked(), 4000u);

  MemoryGraph aborted(16, Metric::kL2, Params{}, 1);
  fill(aborted, 20000, 4);
  options.progress = [](std::size_t done, std::size_t) {
    if (done > 100) throw std::runtime_error("stop here");
  };
  EXPECT_THROW(aborted.build(options), std::runtime_error);
}

// Adding after a build links only the new nodes; recall on them is as good as on the old.
TEST(HnswBuild, SecondBuildLinksOnlyNewNodes) {
  MemoryGraph graph(16, Metric::kL2, Params{}, 1);
  fill(graph, 2000, 5);
  graph.build();
  fill(graph, 2000, 6);
  EXPECT_EQ(graph.linked(), 2000u);
  BuildOptions options;
  options.threads = 2;
  graph.build(options);
  EXPECT_EQ(graph.linked(), 4000u);
  MemorySearchContext context;
  std::vector<Candidate> out;
  std::size_t found = 0;
  for (NodeId n = 0; n < 4000; n += 13) {
    graph.search(graph.vector(n), 1, 40, context, out);
    found += !out.empty() && out[0].node == n;
  }
  EXPECT_EQ(found, (4000u + 12) / 13);
}

// bytes_used() tracks the arrays; with the capacity reserved up front the estimate per node
// predicts it (what the glue compares with maintenance_work_mem).
TEST(HnswBuild, MemoryEstimateMatchesUse) {
  constexpr std::size_t kRows = 20000, kDims = 32;
  const Params params{16, 64};
  MemoryGraph graph(kDims, Metric::kL2, params, 1, kRows);
  const std::size_t empty = graph.bytes_used();
  fill(graph, kRows, 7);
  const double per_node = static_cast<double>(graph.bytes_used()) / kRows;
  const double estimate =
      static_cast<double>(MemoryGraph::estimate_bytes_per_node(kDims * sizeof(float), params));
  EXPECT_GE(empty, kRows * kDims * sizeof(float));  // reserved, not grown later
  EXPECT_NEAR(per_node, estimate, 0.05 * estimate);
  EXPECT_GT(estimate, kDims * 4 + 33 * 4);
}

TEST(HnswLevels, GeometricWithRatioOneOverM) {
  std::mt19937_64 rng(11);
  const double multiplier = level_multiplier(16);
  std::size_t at_least[4] = {0, 0, 0, 0};
  constexpr std::size_t kSamples = 400000;
  for (std::size_t i = 0; i < kSamples; ++i) {
    const int level = sample_level(rng, multiplier);
    ASSERT_GE(level, 0);
    ASSERT_LE(level, kMaxLevel);
    for (int l = 0; l < 4; ++l) at_least[l] += level >= l;
  }
  EXPECT_EQ(at_least[0], kSamples);
  EXPECT_NEAR(static_cast<double>(at_least[1]) / kSamples, 1.0 / 16, 0.003);
  EXPECT_NEAR(static_cast<double>(at_least[2]) / kSamples, 1.0 / 256, 0.0005);
  // A huge multiplier hits the cap instead of overflowing the one-byte level.
  std::size_t capped = 0;
  for (int i = 0; i < 1000; ++i) capped += sample_level(rng, 1000.0) == kMaxLevel;
  EXPECT_GT(capped, 900u);
}

// Points on a line, base at 0: 1 is kept; 2 and 3 are closer to 1 than to the base, so the
// heuristic prunes them; -1.5 lies the other way and is kept.
TEST(HnswSelect, HeuristicPrunesNodesReachableThroughAKeptOne) {
  const float position[] = {1.0f, 2.0f, -1.5f, 3.0f};
  const auto pair = [&](NodeId a, NodeId b) { return std::fabs(position[a] - position[b]); };
  const auto candidates = [] {
    return std::vector<Candidate>{{1.0f, 0}, {1.5f, 2}, {2.0f, 1}, {3.0f, 3}};
  };
  auto c = candidates();
  ASSERT_EQ(select_neighbors(c.data(), c.size(), 3, pair, true, false), 2u);
  EXPECT_EQ(c[0].node, 0u);
  EXPECT_EQ(c[1].node, 2u);
  // Filling back adds the closest pruned one, in distance order.
  c = candidates();
  ASSERT_EQ(select_neighbors(c.data(), c.size(), 3, pair, true, true), 3u);
  EXPECT_EQ(c[2].node, 1u);
  // Without the heuristic: simply the closest.
  c = candidates();
  ASSERT_EQ(select_neighbors(c.data(), c.size(), 3, pair, false, false), 3u);
  EXPECT_EQ(c[2].node, 1u);
  // The limit applies to kept nodes too.
  c = candidates();
  ASSERT_EQ(select_neighbors(c.data(), c.size(), 1, pair, true, true), 1u);
  EXPECT_EQ(c[0].node, 0u);
  // The split between kept and filled-back members is reported.
  c = candidates();
  std::size_t kept = 99;
  ASSERT_EQ(select_neighbors(c.data(), c.size(), 3, pair, true, true, &kept), 3u);
  EXPECT_EQ(kept, 2u);
}

// Random points around an owner (point 0) for the scored-list tests: candidate i's distance
// to the owner, and pair distances, are squared Euclidean in 8-d.
struct ScoredFixture {
  static constexpr std::size_t kDims = 8;
  std::vector<float> points;
  explicit ScoredFixture(std::size_t n, std::uint64_t seed) : points(n * kDims) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal;
    for (float& x : points) x = normal(rng);
  }
  float operator()(NodeId a, NodeId b) const {
    float sum = 0.0f;
    for (std::size_t d = 0; d < kDims; ++d) {
      const float diff = points[a * kDims + d] - points[b * kDims + d];
      sum += diff * diff;
    }
    return sum;
  }
  Candidate candidate(NodeId node) const { return {(*this)(0, node), node}; }
};

// The full selection that add_scored_link() stands in for: the heuristic with keep_pruned
// over the list's members and the added node; the member set, sorted.
std::vector<NodeId> reselect(const ScoredFixture& f, const ScoredList& list, Candidate added,
                             std::size_t capacity) {
  std::vector<Candidate> c{added};
  for (std::size_t i = 0; i < list.count; ++i) c.push_back({list.distances[i], list.ids[i]});
  std::sort(c.begin(), c.end(), closer);
  c.resize(select_neighbors(c.data(), c.size(), capacity, f, true, true));
  std::vector<NodeId> ids;
  for (const Candidate& x : c) ids.push_back(x.node);
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<NodeId> members(const ScoredList& list) {
  std::vector<NodeId> ids(list.ids, list.ids + list.count);
  std::sort(ids.begin(), ids.end());
  return ids;
}

// A full list with a known split takes a new node as the full re-selection would, except in
// the rare cascade the incremental update skips; its kept part always obeys the heuristic,
// and each member keeps its own distance.
TEST(HnswSelect, ScoredLinkFollowsTheFullSelection) {
  constexpr std::size_t kCapacity = 8, kTrials = 2000;
  std::size_t same = 0, pair_calls = 0;
  for (std::size_t trial = 0; trial < kTrials; ++trial) {
    const ScoredFixture f(32, trial);
    const auto counted = [&](NodeId a, NodeId b) {
      ++pair_calls;
      return f(a, b);
    };
    // The list as insert() leaves it: a selection from 30 candidates.
    std::vector<Candidate> c;
    for (NodeId n = 1; n < 31; ++n) c.push_back(f.candidate(n));
    std::sort(c.begin(), c.end(), closer);
    NodeId ids[kCapacity + 1];
    float distances[kCapacity + 1];
    ScoredList list{ids, distances, 0, 0, true};
    list.count = select_neighbors(c.data(), c.size(), kCapacity, f, true, true, &list.kept);
    ASSERT_EQ(list.count, kCapacity);
    for (std::size_t i = 0; i < list.count; ++i) {
      ids[i] = c[i].node;
      distances[i] = c[i].distance;
    }
    const Candidate added = f.candidate(31);
    const std::vector<NodeId> expected = reselect(f, list, added, kCapacity);
    std::vector<Candidate> scratch;
    ASSERT_TRUE(add_scored_link(list, kCapacity, added, counted, scratch));
    ASSERT_EQ(list.count, kCapacity);
    ASSERT_LE(list.kept, list.count);
    same += members(list) == expected;
    for (std::size_t i = 0; i < list.count; ++i) {
      EXPECT_EQ(distances[i], f(0, ids[i]));
      for (std::size_t j = 0; j < list.kept && i < list.kept; ++j) {
        const Candidate a{distances[i], ids[i]}, b{distances[j], ids[j]};
        if (closer(b, a)) {
          EXPECT_GE(f(ids[i], ids[j]), distances[i]) << "trial " << trial;
        }
      }
    }
  }
  std::printf("same members as the full selection in %zu of %zu trials, %zu pair distances\n", same,
              kTrials, pair_calls);
  EXPECT_GE(same, kTrials * 97 / 100);
  // At most `kept` pair distances per call (the full selection needs O(capacity^2)).
  EXPECT_LE(pair_calls, kTrials * kCapacity);
}

// A list with room appends and forgets its split; once full it selects in full, exactly;
// a node already in the list changes nothing.
TEST(HnswSelect, ScoredLinkFillsThenSelects) {
  constexpr std::size_t kCapacity = 6;
  const ScoredFixture f(16, 7);
  NodeId ids[kCapacity + 1];
  float distances[kCapacity + 1];
  ScoredList list{ids, distances, 0, 0, true};
  std::vector<Candidate> scratch;
  for (NodeId n = 1; n <= kCapacity; ++n) {
    ASSERT_TRUE(add_scored_link(list, kCapacity, f.candidate(n), f, scratch));
    EXPECT_EQ(list.count, n);
    EXPECT_FALSE(list.known);
  }
  EXPECT_FALSE(add_scored_link(list, kCapacity, f.candidate(3), f, scratch));
  EXPECT_EQ(list.count, kCapacity);
  for (NodeId n = kCapacity + 1; n < 16; ++n) {
    const std::vector<NodeId> expected = reselect(f, list, f.candidate(n), kCapacity);
    const bool was_known = list.known;
    ASSERT_TRUE(add_scored_link(list, kCapacity, f.candidate(n), f, scratch));
    EXPECT_TRUE(list.known);
    EXPECT_EQ(list.count, kCapacity);
    if (!was_known) {
      EXPECT_EQ(members(list), expected);  // the one full selection
    }
  }
}

}  // namespace
}  // namespace embedding::hnsw
