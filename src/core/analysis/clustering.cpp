// k-means and silhouette (see clustering.h).
#include "core/analysis/clustering.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/common/interrupt.h"
#include "core/common/parallel.h"
#include "core/ivf/assign.h"
#include "core/ivf/kmeans.h"
#include "core/vector/kernels.h"
#include "core/vector/normalize.h"

namespace embedding::analysis {

ClusterFit kmeans_fit(float* rows, std::size_t n, std::size_t dims, std::size_t k,
                      int max_iterations, std::uint64_t seed, bool spherical, int threads,
                      const KMeansProgress& progress) {
  if (k < 1 || k > n)
    throw Error(ErrorCode::kInvalidParameter,
                "k must be between 1 and the number of rows (" + std::to_string(n) + ")");
  if (max_iterations < 1)
    throw Error(ErrorCode::kInvalidParameter, "max_iterations must be at least 1");
  if (spherical)
    for (std::size_t i = 0; i < n; ++i) {
      poll_interrupts_every<12>(i);
      if (!vec::normalize(rows + i * dims, dims, vec::NoDirection::kKeep))
        throw Error(ErrorCode::kDataException,
                    "cosine k-means cannot use a zero vector (row " + std::to_string(i + 1) + ")");
    }
  ivf::KMeansOptions options;
  options.max_iterations = max_iterations;
  options.threads = threads;
  options.spherical = spherical;
  options.seed = seed;
  options.progress = progress;
  ivf::KMeansResult result = ivf::kmeans(rows, n, dims, k, options);
  ClusterFit fit;
  fit.centers = std::move(result.centers);
  fit.seeds = result.seeds.empty() ? fit.centers : std::move(result.seeds);
  fit.iterations = result.iterations;
  fit.seeding_seconds = result.seeding_seconds;
  fit.labels = std::move(result.labels);
  if (fit.labels.empty()) {  // n == k: the rows are the centers
    fit.labels.assign(n, UINT32_MAX);
    ivf::assign_floats(fit.centers.data(), k, dims, rows, n, spherical, fit.labels.data(), threads);
  }
  fit.sizes.assign(k, 0);
  for (std::uint32_t label : fit.labels) ++fit.sizes[label];
  const kernels::KernelTable& table = kernels::active();
  std::vector<double> parts(static_cast<std::size_t>(std::max(1, threads)), 0.0);
  std::atomic<int> part{0};
  parallel_slices(
      n, threads,
      [&](std::size_t begin, std::size_t end, const std::atomic<bool>& stop, bool poll) {
        double& sum = parts[static_cast<std::size_t>(part++)];
        for (std::size_t i = begin; i < end && !stop; ++i) {
          if (poll) poll_interrupts_every<12>(i - begin);
          sum += table.l2_squared(rows + i * dims, fit.centers.data() + fit.labels[i] * dims, dims);
        }
        return std::size_t{0};
      },
      4096);
  for (double sum : parts) fit.inertia += sum;
  return fit;
}

double silhouette(const float* rows, std::size_t n, std::size_t dims, const std::uint32_t* labels,
                  std::size_t clusters, int threads) {
  if (clusters < 2 || clusters > n - 1)
    throw Error(ErrorCode::kInvalidParameter,
                "the silhouette needs between 2 and n - 1 distinct labels (n = " +
                    std::to_string(n) + ", labels = " + std::to_string(clusters) + ")");
  std::vector<std::size_t> sizes(clusters, 0);
  for (std::size_t i = 0; i < n; ++i) ++sizes[labels[i]];
  std::vector<double> scores(n, 0.0);
  const kernels::KernelTable& table = kernels::active();
  parallel_slices(
      n, threads,
      [&](std::size_t begin, std::size_t end, const std::atomic<bool>& stop, bool poll) {
        std::vector<double> sums(clusters);
        for (std::size_t i = begin; i < end && !stop; ++i) {
          if (poll) poll_interrupts();  // a row costs n distances
          std::fill(sums.begin(), sums.end(), 0.0);
          const float* x = rows + i * dims;
          for (std::size_t j = 0; j < n; ++j)
            sums[labels[j]] +=
                std::sqrt(static_cast<double>(table.l2_squared(x, rows + j * dims, dims)));
          const std::size_t own = labels[i];
          if (sizes[own] < 2) continue;  // alone in its cluster: 0
          const double a = sums[own] / static_cast<double>(sizes[own] - 1);
          double b = std::numeric_limits<double>::infinity();
          for (std::size_t c = 0; c < clusters; ++c)
            if (c != own && sizes[c] > 0) b = std::min(b, sums[c] / static_cast<double>(sizes[c]));
          const double spread = std::max(a, b);
          scores[i] = spread > 0.0 ? (b - a) / spread : 0.0;
        }
        return std::size_t{0};
      },
      64);
  double total = 0.0;
  for (double s : scores) total += s;
  return total / static_cast<double>(n);
}

}  // namespace embedding::analysis
