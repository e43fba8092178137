// k-means++ seeding and Lloyd iterations (see kmeans.h).
#include "core/ivf/kmeans.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>

#include "core/common/interrupt.h"
#include "core/common/threads.h"
#include "core/ivf/assign.h"
#include "core/vector/kernels.h"
#include "core/vector/normalize.h"

namespace embedding::ivf {
namespace {

// Distance used for seeding and for the farthest-row repair: squared L2 (for unit vectors it
// orders as the spherical distance does).
float distance(const float* a, const float* b, std::size_t dims) {
  return kernels::active().l2_squared(a, b, dims);
}

// k-means++: the first center uniformly, each next one with probability proportional to the
// distance to the nearest center chosen so far. make_center(row, c) makes row the c-th center;
// distance(row, c) is the row's distance to it and between(a, b) the distance between centers
// (squared L2 for floats, hamming for bits). A row whose nearest center is at distance r skips
// the new center when the two centers are at least 2r apart (the triangle inequality: `factor`
// 4 for squared distances, 2 for hamming, with a margin), which leaves the draws unchanged.
// The distances of each center run on one team of `threads` threads kept for the whole seeding;
// sums and draws stay on the caller's thread, so the seeds do not depend on the thread count.
template <class MakeCenter, class Distance, class Between>
void seed_centers(std::size_t n, std::size_t k, int threads, std::mt19937_64& rng,
                  MakeCenter make_center, Distance distance, Between between, double factor) {
  std::vector<double> nearest(n, std::numeric_limits<double>::infinity());
  std::vector<std::uint32_t> owner(n, 0);
  std::vector<double> gap(k);
  WorkerTeam team(std::max(1, std::min<int>(threads, static_cast<int>(n / 4096) + 1)));
  const std::size_t slice = (n + team.size() - 1) / static_cast<std::size_t>(team.size());
  std::size_t pick = rng() % n;
  for (std::size_t c = 0; c < k; ++c) {
    make_center(pick, c);
    for (std::size_t j = 0; j < c; ++j) gap[j] = static_cast<double>(between(j, c));
    team.run([&](int part) {
      const std::size_t begin = std::min(n, part * slice), end = std::min(n, begin + slice);
      for (std::size_t i = begin; i < end; ++i) {
        if (((i - begin) & 4095) == 0) {
          if (part == 0) poll_interrupts();
          if (team.stopped()) return;
        }
        if (c == 0 || gap[owner[i]] < factor * (1.0 + 1e-3) * nearest[i]) {
          const double d = static_cast<double>(distance(i, c));
          if (d < nearest[i]) nearest[i] = d, owner[i] = static_cast<std::uint32_t>(c);
        }
      }
    });
    double total = 0.0;
    for (std::size_t i = 0; i < n; ++i) total += nearest[i];
    if (!(total > 0.0)) {  // every row is already a center: take any
      pick = rng() % n;
      continue;
    }
    double target = std::uniform_real_distribution<double>(0.0, total)(rng);
    pick = n - 1;
    for (std::size_t i = 0; i < n; ++i) {
      target -= nearest[i];
      if (target <= 0.0 && nearest[i] > 0.0) {
        pick = i;
        break;
      }
    }
  }
}

}  // namespace

std::size_t nearest_center(const float* centers, std::size_t k, std::size_t dims, const float* x,
                           bool spherical) {
  const kernels::KernelTable& table = kernels::active();
  std::size_t best = 0;
  float best_score = std::numeric_limits<float>::infinity();
  for (std::size_t c = 0; c < k; ++c) {
    const float* center = centers + c * dims;
    const float score = spherical ? -table.dot(x, center, dims) : table.l2_squared(x, center, dims);
    if (score < best_score) {
      best_score = score;
      best = c;
    }
  }
  return best;
}

KMeansResult kmeans(const float* rows, std::size_t n, std::size_t dims, std::size_t k,
                    const KMeansOptions& options) {
  KMeansResult result;
  result.centers.assign(k * dims, 0.0f);
  float* centers = result.centers.data();
  std::mt19937_64 rng(options.seed);
  if (n <= k) {
    // Too little data to cluster: the rows themselves, then random directions.
    std::copy(rows, rows + n * dims, centers);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (std::size_t i = n * dims; i < k * dims; ++i) centers[i] = normal(rng);
    if (options.spherical)
      for (std::size_t c = n; c < k; ++c)
        vec::normalize(centers + c * dims, dims, vec::NoDirection::kKeep);
    return result;
  }
  const auto start = std::chrono::steady_clock::now();
  seed_centers(
      n, k, options.threads, rng,
      [&](std::size_t row, std::size_t c) {
        std::copy(rows + row * dims, rows + (row + 1) * dims, centers + c * dims);
      },
      [&](std::size_t row, std::size_t c) {
        return distance(rows + row * dims, centers + c * dims, dims);
      },
      [&](std::size_t a, std::size_t b) {
        return distance(centers + a * dims, centers + b * dims, dims);
      },
      4.0);
  result.seeds = result.centers;
  result.seeding_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<std::uint32_t>& labels = result.labels;
  labels.assign(n, UINT32_MAX);
  std::vector<double> sums(k * dims);
  std::vector<std::size_t> counts(k);
  bool moved = false;  // the centers moved since the labels were set
  for (int iteration = 0; iteration < options.max_iterations; ++iteration) {
    const std::size_t changed =
        assign_floats(centers, k, dims, rows, n, options.spherical, labels.data(), options.threads);
    result.iterations = iteration + 1;
    moved = false;
    if (iteration > 0 && changed * 1000 < n) break;
    // Update: the mean of each center's rows (in double), normalised when spherical; with a
    // progress callback, the inertia of the labels on the way.
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(counts.begin(), counts.end(), 0);
    double inertia = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      poll_interrupts_every<12>(i);
      const std::size_t c = labels[i];
      ++counts[c];
      const float* x = rows + i * dims;
      if (options.progress) inertia += distance(x, centers + c * dims, dims);
      double* s = sums.data() + c * dims;
      for (std::size_t j = 0; j < dims; ++j) s[j] += x[j];
    }
    for (std::size_t c = 0; c < k; ++c) {
      float* center = centers + c * dims;
      if (counts[c] == 0) {
        // An empty center moves to the row farthest from its own center.
        std::size_t far = 0;
        float far_distance = -1.0f;
        for (std::size_t i = 0; i < n; ++i) {
          poll_interrupts_every<12>(i);
          const float d = distance(rows + i * dims, centers + labels[i] * dims, dims);
          if (d > far_distance) far_distance = d, far = i;
        }
        std::copy(rows + far * dims, rows + (far + 1) * dims, center);
        labels[far] = static_cast<std::uint32_t>(c);
        continue;
      }
      for (std::size_t j = 0; j < dims; ++j)
        center[j] = static_cast<float>(sums[c * dims + j] / static_cast<double>(counts[c]));
      // A mean of zero (rows that cancel out) keeps no direction: it stays as it is.
      if (options.spherical) vec::normalize(center, dims, vec::NoDirection::kKeep);
    }
    moved = true;
    if (options.progress) options.progress(iteration + 1, changed, inertia);
  }
  if (moved)  // the labels of the final centers
    assign_floats(centers, k, dims, rows, n, options.spherical, labels.data(), options.threads);
  return result;
}

std::size_t nearest_bit_center(const std::uint8_t* centers, std::size_t k, std::size_t bytes,
                               const std::uint8_t* x) {
  const kernels::KernelTable& table = kernels::active();
  std::size_t best = 0;
  std::uint64_t best_distance = UINT64_MAX;
  for (std::size_t c = 0; c < k; ++c) {
    const std::uint64_t d = table.bit_hamming(x, centers + c * bytes, bytes);
    if (d < best_distance) best_distance = d, best = c;
  }
  return best;
}

std::vector<std::uint8_t> kmeans_bits(const std::uint8_t* rows, std::size_t n, std::size_t bytes,
                                      std::size_t bits, std::size_t k,
                                      const KMeansOptions& options) {
  const kernels::KernelTable& table = kernels::active();
  std::vector<std::uint8_t> centers(k * bytes, 0);
  std::mt19937_64 rng(options.seed);
  // Random bit strings keep their padding bits (past `bits`) zero, as PostgreSQL's do.
  const auto random_center = [&](std::uint8_t* c) {
    for (std::size_t i = 0; i < bytes; ++i) c[i] = static_cast<std::uint8_t>(rng());
    if (bits % 8 != 0) c[bytes - 1] &= static_cast<std::uint8_t>(0xff << (8 - bits % 8));
  };
  if (n <= k) {
    if (n > 0) std::copy(rows, rows + n * bytes, centers.begin());
    for (std::size_t c = n; c < k; ++c) random_center(centers.data() + c * bytes);
    return centers;
  }
  seed_centers(
      n, k, options.threads, rng,
      [&](std::size_t row, std::size_t c) {
        std::copy(rows + row * bytes, rows + (row + 1) * bytes, centers.begin() + c * bytes);
      },
      [&](std::size_t row, std::size_t c) {
        return table.bit_hamming(rows + row * bytes, centers.data() + c * bytes, bytes);
      },
      [&](std::size_t a, std::size_t b) {
        return table.bit_hamming(centers.data() + a * bytes, centers.data() + b * bytes, bytes);
      },
      2.0);
  // Lloyd passes: assign by hamming, then each bit by majority of the center's rows.
  std::vector<std::uint32_t> labels(n, UINT32_MAX);
  std::vector<std::uint32_t> ones(k * bits);
  std::vector<std::uint32_t> counts(k);
  for (int iteration = 0; iteration < options.max_iterations; ++iteration) {
    std::size_t changed = 0;
    for (std::size_t i = 0; i < n; ++i) {
      poll_interrupts_every<8>(i);
      const auto label = static_cast<std::uint32_t>(
          nearest_bit_center(centers.data(), k, bytes, rows + i * bytes));
      changed += labels[i] != label;
      labels[i] = label;
    }
    if (iteration > 0 && changed * 1000 < n) break;
    std::fill(ones.begin(), ones.end(), 0);
    std::fill(counts.begin(), counts.end(), 0);
    for (std::size_t i = 0; i < n; ++i) {
      poll_interrupts_every<10>(i);
      const std::size_t c = labels[i];
      ++counts[c];
      const std::uint8_t* x = rows + i * bytes;
      std::uint32_t* o = ones.data() + c * bits;
      for (std::size_t b = 0; b < bits; ++b) o[b] += (x[b / 8] >> (7 - b % 8)) & 1u;
    }
    for (std::size_t c = 0; c < k; ++c) {
      std::uint8_t* center = centers.data() + c * bytes;
      if (counts[c] == 0) {  // empty: the row farthest from its center
        std::size_t far = 0;
        std::uint64_t far_distance = 0;
        for (std::size_t i = 0; i < n; ++i) {
          const std::uint64_t d =
              table.bit_hamming(rows + i * bytes, centers.data() + labels[i] * bytes, bytes);
          if (d >= far_distance) far_distance = d, far = i;
        }
        std::copy(rows + far * bytes, rows + (far + 1) * bytes, center);
        labels[far] = static_cast<std::uint32_t>(c);
        continue;
      }
      std::fill(center, center + bytes, 0);
      const std::uint32_t* o = ones.data() + c * bits;
      for (std::size_t b = 0; b < bits; ++b)
        if (2 * o[b] > counts[c]) center[b / 8] |= static_cast<std::uint8_t>(0x80 >> (b % 8));
    }
  }
  return centers;
}

}  // namespace embedding::ivf
