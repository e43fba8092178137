// t-SNE (see tsne.h). The kNN search and each iteration's forces run on the worker team, one
// slice of points a thread; only the caller's thread polls interrupts.
#include "core/analysis/tsne.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/analysis/scatter_svg.h"
#include "core/common/interrupt.h"
#include "core/common/parallel.h"
#include "core/vector/kernels.h"

namespace embedding::analysis {
namespace {

constexpr double kExaggeration = 12.0;

struct Affinity {
  std::uint32_t to;
  double p;
};

// Conditional affinities p(j|i) over i's nearest `k` neighbours, with the Gaussian's precision
// found by bisection so that the distribution's perplexity is `perplexity`.
void row_affinities(const std::vector<std::pair<float, std::uint32_t>>& near, double perplexity,
                    std::vector<Affinity>& out) {
  const double target = std::log(perplexity);
  double beta = 1.0, low = 0.0, high = INFINITY;
  std::vector<double> p(near.size());
  for (int step = 0; step < 100; ++step) {
    double sum = 0.0, weighted = 0.0;
    for (std::size_t j = 0; j < near.size(); ++j) {
      p[j] = std::exp(-beta * (near[j].first - near[0].first));  // shifted for range
      sum += p[j];
      weighted += p[j] * (near[j].first - near[0].first);
    }
    const double entropy = std::log(sum) + beta * weighted / sum;
    if (std::fabs(entropy - target) < 1e-5) break;
    if (entropy > target) {
      low = beta;
      beta = std::isinf(high) ? beta * 2 : (beta + high) / 2;
    } else {
      high = beta;
      beta = (beta + low) / 2;
    }
  }
  const double sum = std::accumulate(p.begin(), p.end(), 0.0);
  out.clear();
  for (std::size_t j = 0; j < near.size(); ++j) out.push_back({near[j].second, p[j] / sum});
}

// Symmetric joint affinities P = (P_cond + P_cond^T) / 2n as adjacency lists.
std::vector<std::vector<Affinity>> joint_affinities(const float* rows, std::size_t n,
                                                    std::size_t dims, double perplexity,
                                                    int threads) {
  const std::size_t k = std::min<std::size_t>(n - 1, static_cast<std::size_t>(3 * perplexity));
  std::vector<std::vector<Affinity>> conditional(n);
  const kernels::KernelTable& table = kernels::active();
  parallel_slices(
      n, threads,
      [&](std::size_t begin, std::size_t end, const std::atomic<bool>& stop, bool poll) {
        std::vector<std::pair<float, std::uint32_t>> all(n);
        for (std::size_t i = begin; i < end && !stop; ++i) {
          if (poll) poll_interrupts_every<4>(i - begin);
          for (std::size_t j = 0; j < n; ++j)
            all[j] = {j == i ? INFINITY : table.l2_squared(rows + i * dims, rows + j * dims, dims),
                      static_cast<std::uint32_t>(j)};
          std::partial_sort(all.begin(), all.begin() + k, all.end());
          std::vector<std::pair<float, std::uint32_t>> near(all.begin(), all.begin() + k);
          row_affinities(near, perplexity, conditional[i]);
        }
        return std::size_t{0};
      },
      16);
  std::vector<std::vector<Affinity>> joint(n);
  const double scale = 1.0 / (2.0 * static_cast<double>(n));
  for (std::size_t i = 0; i < n; ++i)
    for (const Affinity& a : conditional[i]) {
      joint[i].push_back({a.to, a.p * scale});
      joint[a.to].push_back({static_cast<std::uint32_t>(i), a.p * scale});
    }
  return joint;  // a pair listed twice sums in the gradient, as P_ij + P_ji should
}

}  // namespace

std::vector<float> tsne_coordinates(const float* rows, std::size_t n, std::size_t dims,
                                    const TsneOptions& options) {
  std::vector<float> start = map_coordinates(rows, n, dims, options.threads);
  if (n < 3) return start;
  const double perplexity = std::min(options.perplexity, static_cast<double>(n - 1) / 3.0);
  const std::vector<std::vector<Affinity>> p =
      joint_affinities(rows, n, dims, std::max(perplexity, 1.0), options.threads);
  // PCA start scaled to a standard deviation of 1e-4 (as scikit-learn's init='pca').
  std::vector<double> y(2 * n), update(2 * n, 0.0), gains(2 * n, 1.0), gradient(2 * n);
  double sq = 0.0;
  for (std::size_t i = 0; i < n; ++i) sq += double(start[2 * i]) * start[2 * i];
  const double spread = std::sqrt(sq / static_cast<double>(n));
  for (std::size_t i = 0; i < 2 * n; ++i) y[i] = spread > 0 ? start[i] * 1e-4 / spread : 0.0;
  const double rate = std::max(static_cast<double>(n) / kExaggeration / 4.0, 50.0);
  std::vector<double> row_z(n);  // each row's share of Z, summed in order (deterministic)
  for (int iteration = 0; iteration < options.iterations; ++iteration) {
    const double exaggeration = iteration < options.exaggeration_iterations ? kExaggeration : 1.0;
    const double momentum = iteration < options.exaggeration_iterations ? 0.5 : 0.8;
    // Forces: attraction over P, repulsion over every pair (normalised by Z afterwards).
    std::vector<double> repulsion(2 * n, 0.0);
    parallel_slices(
        n, options.threads,
        [&](std::size_t begin, std::size_t end, const std::atomic<bool>& stop, bool poll) {
          for (std::size_t i = begin; i < end && !stop; ++i) {
            double z = 0.0;
            if (poll) poll_interrupts_every<8>(i - begin);
            double rx = 0.0, ry = 0.0, ax = 0.0, ay = 0.0;
            const double xi = y[2 * i], yi = y[2 * i + 1];
            for (std::size_t j = 0; j < n; ++j) {
              if (j == i) continue;
              const double dx = xi - y[2 * j], dy = yi - y[2 * j + 1];
              const double q = 1.0 / (1.0 + dx * dx + dy * dy);
              z += q;
              rx += q * q * dx;
              ry += q * q * dy;
            }
            for (const Affinity& a : p[i]) {
              const double dx = xi - y[2 * a.to], dy = yi - y[2 * a.to + 1];
              const double q = 1.0 / (1.0 + dx * dx + dy * dy);
              ax += a.p * q * dx;
              ay += a.p * q * dy;
            }
            row_z[i] = z;
            repulsion[2 * i] = rx;
            repulsion[2 * i + 1] = ry;
            gradient[2 * i] = exaggeration * ax;
            gradient[2 * i + 1] = exaggeration * ay;
          }
          return std::size_t{0};
        },
        64);
    const double z = std::max(std::accumulate(row_z.begin(), row_z.end(), 0.0), 1e-12);
    for (std::size_t i = 0; i < 2 * n; ++i) {
      const double g = 4.0 * (gradient[i] - repulsion[i] / z);
      gains[i] = (g > 0) != (update[i] > 0) ? gains[i] + 0.2 : std::max(gains[i] * 0.8, 0.01);
      update[i] = momentum * update[i] - rate * gains[i] * g;
      y[i] += update[i];
    }
    double mean_x = 0.0, mean_y = 0.0;
    for (std::size_t i = 0; i < n; ++i) mean_x += y[2 * i], mean_y += y[2 * i + 1];
    mean_x /= static_cast<double>(n);
    mean_y /= static_cast<double>(n);
    for (std::size_t i = 0; i < n; ++i) y[2 * i] -= mean_x, y[2 * i + 1] -= mean_y;
    poll_interrupts();
    if (options.progress) options.progress(iteration + 1);
  }
  std::vector<float> out(2 * n);
  for (std::size_t i = 0; i < 2 * n; ++i) out[i] = static_cast<float>(y[i]);
  return out;
}

}  // namespace embedding::analysis
