// k-means for the ivfflat index and for kmeans_fit: k-means++ seeding and Lloyd iterations over
// float rows, with the assignment pass (assign.h) on several threads. Pure core: the caller's
// thread polls interrupts (core/common/interrupt.h); worker threads only compute.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace embedding::ivf {

struct KMeansOptions {
  // Lloyd passes at most; they stop earlier once fewer than 1 row in 1,000 changes its center.
  // (Hamerly's bounds were tried and dropped: on GloVe they pruned 10-40% of the rows and cost
  // more than they saved against the blocked product with its vectorised argmin.)
  int max_iterations = 50;
  int threads = 1;  // assignment threads, the caller's included
  bool spherical =
      false;  // rows are unit vectors; centers are re-normalised (inner product, cosine)
  std::uint64_t seed = 0x5eed;
  // Called on the caller's thread after each pass that moved the centers: the pass number, how
  // many rows changed center, and the inertia (sum of squared distances) of that pass's labels.
  std::function<void(int iteration, std::size_t changed, double inertia)> progress;
};

struct KMeansResult {
  std::vector<float> centers;         // k * dims
  std::vector<float> seeds;           // k * dims: the k-means++ seeding the passes started from
  std::vector<std::uint32_t> labels;  // n: each row's nearest final center (empty when n <= k)
  int iterations = 0;                 // Lloyd passes run
  double seeding_seconds = 0.0;       // wall time of the k-means++ seeding (benchmarks)
};

// `rows`: n vectors of `dims` floats (unit length when spherical). k >= 1. With fewer rows than
// k, the rows are centers and the others are random (unit, when spherical) vectors.
KMeansResult kmeans(const float* rows, std::size_t n, std::size_t dims, std::size_t k,
                    const KMeansOptions& options);

// The nearest of k centers to x: smallest squared L2 distance, or largest dot when spherical
// (ties: the lower index).
std::size_t nearest_center(const float* centers, std::size_t k, std::size_t dims, const float* x,
                           bool spherical);

// k-means over bit strings (`bytes` bytes, `bits` bits each, padding bits zero) with hamming
// distance: k-means++ seeding, then Lloyd passes where a center's bit is set when most of its
// rows have it (the binarised mean). Returns k * bytes center bytes; fewer rows than k: the
// rows, then random bit strings.
std::vector<std::uint8_t> kmeans_bits(const std::uint8_t* rows, std::size_t n, std::size_t bytes,
                                      std::size_t bits, std::size_t k,
                                      const KMeansOptions& options);

// The center with the fewest differing bits (ties: the lower index).
std::size_t nearest_bit_center(const std::uint8_t* centers, std::size_t k, std::size_t bytes,
                               const std::uint8_t* x);

}  // namespace embedding::ivf
