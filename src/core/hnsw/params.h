// HNSW vocabulary shared by the graph algorithms, the in-memory build graph and the page glue:
// node ids, index parameters, candidates, level sampling and their limits.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>

#include "core/vector/format.h"
#include "core/vector/stored_distance.h"

namespace embedding::hnsw {

// A node of a graph. The in-memory graph numbers nodes 0..n-1; page storage packs a block
// number and an item offset into it. The algorithms never interpret it.
using NodeId = std::uint64_t;

// Stored vectors (format, metric, size, distance) live in core/vector, apart from any index;
// these names keep the hnsw glue's spelling hnsw::Format, hnsw::VectorDistance, ... working.
using embedding::element_bytes;
using embedding::Format;
using embedding::Metric;
using embedding::orderable;
using embedding::supports;
using embedding::vector_size;
using embedding::VectorDistance;

struct Params {
  int m = 16;                // neighbours per node on upper layers; layer 0 keeps 2 * m
  int ef_construction = 64;  // candidate list size while inserting
};

// Choices of the build algorithm that are not index options. The defaults are what we ship;
// the alternatives exist so that tests can show the defaults matter.
struct BuildTuning {
  // After the heuristic, fill the remaining slots with the closest pruned candidates (the
  // paper's keepPrunedConnections, as pgvector; hnswlib leaves it off): searches then need
  // fewer distance evaluations at equal recall, for a somewhat slower build
  // (test/bench/README.md, "Build choices").
  bool keep_pruned = true;
  // Use the neighbour-selection heuristic; false keeps simply the closest candidates.
  bool heuristic = true;
  // A new node links to up to 2 * m neighbours on layer 0 (as pgvector) instead of m (as the
  // paper and hnswlib; layer-0 lists still grow to 2 * m through reverse links), and each of
  // them links back: better recall at every ef than m new links or narrow_reverse, and with
  // stored link distances (ScoredList) no dearer to build (test/bench/README.md, "Build
  // choices").
  bool wide_layer0 = true;
  // Only the closest m of a new node's layer-0 neighbours link back to it. Page inserts set
  // this: their storage keeps no link distances, so each full list they touch re-selects
  // from vectors read off pages, which is the cost of an insert.
  bool narrow_reverse = false;
  // Merge a vector identical to one already in the graph into that node instead of linking a
  // copy (see insert.h), at most max_duplicates copies per node (0: no limit). Beyond the
  // limit copies become separate nodes again, and more identical nodes than a neighbour list
  // holds (2 * m) cannot all stay reachable: distances cannot tell them apart. pgvector caps
  // an element at 10 heap TIDs and has that limit; no cap here keeps every copy findable.
  bool merge_duplicates = true;
  std::size_t max_duplicates = 0;
  // When set, the limit for a node whose stored vector has `bytes` bytes, instead of
  // max_duplicates (sparse vectors differ in size, and so does the room their element leaves).
  std::size_t (*max_duplicates_for)(std::size_t bytes) = nullptr;
  // Add the new node to its neighbours' lists. Only a test turns this off.
  bool reverse_links = true;
};

constexpr int kMinM = 2;
constexpr int kMaxM = 100;
constexpr int kMinEfConstruction = 4;
constexpr int kMaxEfConstruction = 1000;
// Highest level a node may get: with m >= 2 a level above 16 has probability <= 2^-17 per
// node, and the cap keeps per-node level storage to one byte and descent bounded.
constexpr int kMaxLevel = 16;

// Throws Error(kInvalidParameter) when m or ef_construction is out of range.
void validate(const Params& params);

// Most neighbours a node keeps at `level`: 2 * m on layer 0, m above (as the paper's Mmax0).
constexpr std::size_t max_neighbors(const Params& params, int level) {
  return static_cast<std::size_t>(level == 0 ? 2 * params.m : params.m);
}

// The level multiplier mL = 1 / ln(m) of the paper: levels are geometric with ratio 1/m.
inline double level_multiplier(int m) { return 1.0 / std::log(static_cast<double>(m)); }

// level = floor(-ln(U) * mL) with U uniform in (0, 1], capped at kMaxLevel. `rng` is any
// uniform random bit generator the caller seeds (std::mt19937_64 in the build graph).
template <class Rng>
int sample_level(Rng& rng, double multiplier) {
  // 53 random bits -> (0, 1]: never 0, so the logarithm stays finite.
  const double u = (static_cast<double>(rng() >> 11) + 1.0) * (1.0 / 9007199254740992.0 /* 2^53 */);
  const double level = std::floor(-std::log(u) * multiplier);
  return level >= kMaxLevel ? kMaxLevel : static_cast<int>(level);
}

// A node with its distance to the current query (or to the node being linked).
struct Candidate {
  float distance;
  NodeId node;
};

// Ascending by distance; ties by node id so that results are deterministic.
inline bool closer(const Candidate& a, const Candidate& b) {
  return a.distance < b.distance || (a.distance == b.distance && a.node < b.node);
}

struct EntryPoint {
  NodeId node;
  int level;
};

}  // namespace embedding::hnsw
