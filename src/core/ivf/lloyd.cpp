// Hamerly's bounded Lloyd passes (see lloyd.h). Each row keeps an upper bound on the distance to
// its center and a lower bound on the distance to every other; rows whose bounds fail meet all
// centers in a matrix product (kernels' gemm) tile by tile, and the centers within rounding of the
// best are re-measured directly, so that float cancellation in |x|^2 + |c|^2 - 2 x.c never decides
// an argmin. Passes and updates run on the worker team; only the caller's thread polls.
#include "core/ivf/lloyd.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/common/interrupt.h"
#include "core/common/parallel.h"
#include "core/ivf/assign.h"
#include "core/vector/kernels.h"
#include "core/vector/normalize.h"

namespace embedding::ivf {
namespace {

constexpr std::size_t kTileRows = 256;
constexpr std::size_t kTileCenters = 512;
constexpr float kInfinity = std::numeric_limits<float>::infinity();

class BoundedLloyd {
 public:
  BoundedLloyd(const float* rows, std::size_t n, std::size_t dims, std::size_t k, float* centers,
               std::uint32_t* labels, const KMeansOptions& options)
      : rows_(rows),
        n_(n),
        dims_(dims),
        k_(k),
        centers_(centers),
        labels_(labels),
        options_(options),
        table_(kernels::active()),
        upper_(n),
        lower_(n),
        row_norms_(n),
        center_norms_(k),
        half_gap_(k),
        shift_(k) {
    parallel_slices(
        n, options.threads,
        [&](std::size_t begin, std::size_t end, const std::atomic<bool>& stop, bool poll) {
          for (std::size_t i = begin; i < end && !stop; ++i) {
            if (poll) poll_interrupts_every<12>(i - begin);
            row_norms_[i] = table_.dot(row(i), row(i), dims_);
          }
          return std::size_t{0};
        },
        4096);
  }

  int run() {
    int iterations = 0;
    bool updated = false;
    for (int iteration = 0; iteration < options_.max_iterations; ++iteration) {
      const std::size_t changed = assign();
      iterations = iteration + 1;
      updated = false;
      if (iteration > 0 && changed * 1000 < n_) break;
      const double inertia = update();
      updated = true;
      if (options_.progress) options_.progress(iterations, changed, inertia);
    }
    if (updated) assign();  // the labels of the final centers
    return iterations;
  }

 private:
  const float* row(std::size_t i) const { return rows_ + i * dims_; }
  const float* center(std::size_t c) const { return centers_ + c * dims_; }

  // How far |x|^2 + |c|^2 - 2 x.c may stray from the squared distance in float arithmetic: a
  // generous bound, so that pruning by it is always safe.
  float slack(float norms) const {
    return 1e-6f * (4.0f + std::sqrt(static_cast<float>(dims_))) * norms;
  }

  // Labels every row whose bounds fail; returns how many labels changed.
  std::size_t assign() {
    if (options_.spherical && zero_center_) {
      // A center without direction ranks by dot product differently from L2: the plain pass.
      stale_ = true;
      return assign_floats(centers_, k_, dims_, rows_, n_, true, labels_, options_.threads);
    }
    max_norm_ = 0.0f;
    for (std::size_t c = 0; c < k_; ++c) {
      center_norms_[c] = table_.dot(center(c), center(c), dims_);
      max_norm_ = std::max(max_norm_, center_norms_[c]);
    }
    const std::size_t changed = parallel_slices(
        n_, options_.threads,
        [&](std::size_t begin, std::size_t end, const std::atomic<bool>& stop, bool poll) {
          return assign_slice(begin, end, stop, poll);
        },
        kTileRows);
    stale_ = false;
    return changed;
  }

  std::size_t assign_slice(std::size_t begin, std::size_t end, const std::atomic<bool>& stop,
                           bool poll) {
    std::vector<std::uint32_t> pending;
    pending.reserve(kTileRows);
    Tile tile(dims_);
    std::size_t changed = 0;
    for (std::size_t i = begin; i < end; ++i) {
      if (((i - begin) & 1023) == 0) {
        if (poll) poll_interrupts();
        if (stop.load(std::memory_order_relaxed)) return changed;
      }
      if (!stale_) {
        const std::uint32_t a = labels_[i];
        upper_[i] += shift_[a];
        lower_[i] -= a == farthest_ ? second_shift_ : max_shift_;
        const float bound = std::max(half_gap_[a], lower_[i]);
        if (upper_[i] <= bound) continue;
        upper_[i] = std::sqrt(table_.l2_squared(row(i), center(a), dims_));
        if (upper_[i] <= bound) continue;
      }
      pending.push_back(static_cast<std::uint32_t>(i));
      if (pending.size() == kTileRows) {
        changed += resolve(pending, tile, stop, poll);
        pending.clear();
      }
    }
    return changed + resolve(pending, tile, stop, poll);
  }

  struct Tile {
    explicit Tile(std::size_t dims)
        : rows(kTileRows * dims),
          scores(kTileRows * kTileCenters),
          best(kTileRows),
          second(kTileRows),
          best_index(kTileRows) {}
    std::vector<float> rows, scores, best, second;
    std::vector<std::uint32_t> best_index;
  };

  // The nearest and second nearest centers of the pending rows, by tiles of centers.
  std::size_t resolve(const std::vector<std::uint32_t>& pending, Tile& tile,
                      const std::atomic<bool>& stop, bool poll) {
    const std::size_t nr = pending.size();
    if (nr == 0) return 0;
    for (std::size_t r = 0; r < nr; ++r)
      std::copy(row(pending[r]), row(pending[r]) + dims_, tile.rows.data() + r * dims_);
    std::fill(tile.best.begin(), tile.best.begin() + nr, kInfinity);
    std::fill(tile.second.begin(), tile.second.begin() + nr, kInfinity);
    for (std::size_t c0 = 0; c0 < k_; c0 += kTileCenters) {
      if (poll) poll_interrupts();
      if (stop.load(std::memory_order_relaxed)) return 0;
      const std::size_t nc = std::min(kTileCenters, k_ - c0);
      table_.gemm(nr, nc, dims_, tile.rows.data(), dims_, center(c0), dims_, true,
                  tile.scores.data(), nc, false);
      for (std::size_t r = 0; r < nr; ++r)
        rank_tile(pending[r], tile.rows.data() + r * dims_, tile.scores.data() + r * nc, c0, nc,
                  tile.best[r], tile.second[r], tile.best_index[r]);
    }
    std::size_t changed = 0;
    for (std::size_t r = 0; r < nr; ++r) {
      const std::uint32_t i = pending[r];
      changed += labels_[i] != tile.best_index[r];
      labels_[i] = tile.best_index[r];
      upper_[i] = std::sqrt(tile.best[r]);
      lower_[i] = std::sqrt(std::max(0.0f, tile.second[r]));
    }
    return changed;
  }

  // Folds one row's scores against centers [c0, c0 + nc) into its best (a direct squared
  // distance), its index (ties: the lower) and a lower bound on the second best. One pass finds
  // the two smallest estimates; only when they are within rounding of each other (rare) does a
  // second pass measure every close center directly.
  void rank_tile(std::uint32_t i, const float* x, const float* dots, std::size_t c0, std::size_t nc,
                 float& best, float& second, std::uint32_t& best_index) const {
    const float norm = row_norms_[i], margin = slack(norm + max_norm_);
    const float* norms = center_norms_.data() + c0;
    float least = kInfinity, next = kInfinity;  // |c|^2 - 2 x.c: the estimate less |x|^2
    std::size_t at = 0;
    for (std::size_t j = 0; j < nc; ++j) {
      const float v = norms[j] - 2.0f * dots[j];
      if (v < next) {
        if (v < least) {
          next = least, least = v, at = j;
        } else {
          next = v;
        }
      }
    }
    least += norm;
    next += norm;
    const float threshold = std::min(least + 2.0f * margin, best + margin);
    const auto consider = [&](std::size_t j) {
      const auto index = static_cast<std::uint32_t>(c0 + j);
      const float direct = table_.l2_squared(x, center(index), dims_);
      if (direct < best || (direct == best && index < best_index)) {
        second = std::min(second, best);
        best = direct;
        best_index = index;
      } else {
        second = std::min(second, direct);
      }
    };
    if (next > threshold) {  // one candidate at most
      if (least <= threshold)
        consider(at), second = std::min(second, next - margin);
      else
        second = std::min(second, least - margin);
      return;
    }
    for (std::size_t j = 0; j < nc; ++j) {
      const float estimate = norm + norms[j] - 2.0f * dots[j];
      if (estimate > threshold)
        second = std::min(second, estimate - margin);
      else
        consider(j);
    }
  }

  // Moves each center to the mean of its rows (normalised when spherical), measuring the inertia
  // of the current labels and each row's exact distance to its center on the way; then the
  // shifts and the half-gaps the next pass's bounds need. Returns the inertia.
  double update() {
    // Rows grouped by center (a counting sort), so that threads can own whole centers.
    std::vector<std::size_t> first(k_ + 1, 0);
    for (std::size_t i = 0; i < n_; ++i) ++first[labels_[i] + 1];
    for (std::size_t c = 0; c < k_; ++c) first[c + 1] += first[c];
    std::vector<std::uint32_t> order(n_);
    {
      std::vector<std::size_t> next(first.begin(), first.end() - 1);
      for (std::size_t i = 0; i < n_; ++i)
        order[next[labels_[i]]++] = static_cast<std::uint32_t>(i);
    }
    std::vector<double> inertia(static_cast<std::size_t>(std::max(1, options_.threads)), 0.0);
    std::atomic<int> part{0};
    parallel_slices(
        k_, options_.threads,
        [&](std::size_t begin, std::size_t end, const std::atomic<bool>& stop, bool poll) {
          double& sum_inertia = inertia[static_cast<std::size_t>(part++)];
          std::vector<double> sum(dims_);
          std::vector<float> old(dims_);
          std::size_t seen = 0;
          for (std::size_t c = begin; c < end && !stop; ++c) {
            if (first[c] == first[c + 1]) continue;  // empty: after the parallel part
            std::fill(sum.begin(), sum.end(), 0.0);
            float* mean = centers_ + c * dims_;
            for (std::size_t at = first[c]; at < first[c + 1]; ++at, ++seen) {
              if (poll) poll_interrupts_every<12>(seen);
              const std::uint32_t i = order[at];
              const float* x = row(i);
              const float d2 = table_.l2_squared(x, mean, dims_);
              sum_inertia += d2;
              upper_[i] = std::sqrt(d2);
              for (std::size_t j = 0; j < dims_; ++j) sum[j] += x[j];
            }
            std::copy(mean, mean + dims_, old.begin());
            const double count = static_cast<double>(first[c + 1] - first[c]);
            for (std::size_t j = 0; j < dims_; ++j) mean[j] = static_cast<float>(sum[j] / count);
            // A mean of zero (rows that cancel out) keeps no direction: it stays as it is.
            if (options_.spherical) vec::normalize(mean, dims_, vec::NoDirection::kKeep);
            shift_[c] = shift(old.data(), mean);
          }
          return std::size_t{0};
        },
        1);
    for (std::size_t c = 0; c < k_; ++c)
      if (first[c] == first[c + 1]) {
        // An empty center moves to the row farthest from its own center.
        std::size_t far = 0;
        float far_distance = -1.0f;
        for (std::size_t i = 0; i < n_; ++i) {
          poll_interrupts_every<12>(i);
          const float d = table_.l2_squared(row(i), center(labels_[i]), dims_);
          if (d > far_distance) far_distance = d, far = i;
        }
        std::copy(row(far), row(far) + dims_, centers_ + c * dims_);
        labels_[far] = static_cast<std::uint32_t>(c);
        stale_ = true;  // the bounds know nothing of the jump
      }
    zero_center_ = false;
    if (options_.spherical)
      for (std::size_t c = 0; c < k_; ++c)
        zero_center_ = zero_center_ || table_.dot(center(c), center(c), dims_) < 0.5f;
    max_shift_ = second_shift_ = 0.0f;
    farthest_ = 0;
    for (std::size_t c = 0; c < k_; ++c) {
      if (shift_[c] > max_shift_) {
        second_shift_ = max_shift_;
        max_shift_ = shift_[c];
        farthest_ = static_cast<std::uint32_t>(c);
      } else {
        second_shift_ = std::max(second_shift_, shift_[c]);
      }
    }
    update_half_gaps();
    double total = 0.0;
    for (double v : inertia) total += v;
    return total;
  }

  // |old - new|, in double, rounded up a little so that bounds moved by it stay bounds.
  float shift(const float* old, const float* now) const {
    double sum = 0.0;
    for (std::size_t j = 0; j < dims_; ++j) {
      const double d = static_cast<double>(old[j]) - now[j];
      sum += d * d;
    }
    return static_cast<float>(std::sqrt(sum) * (1.0 + 1e-6)) + 1e-30f;
  }

  // half_gap_[c]: half the distance from center c to its nearest other center (a row nearer to
  // c than that cannot be nearer to another), lowered by the rounding margin.
  void update_half_gaps() {
    std::vector<float> norms(k_);
    float largest = 0.0f;
    for (std::size_t c = 0; c < k_; ++c) {
      norms[c] = table_.dot(center(c), center(c), dims_);
      largest = std::max(largest, norms[c]);
    }
    const float margin = slack(2.0f * largest);
    parallel_slices(
        k_, options_.threads,
        [&](std::size_t begin, std::size_t end, const std::atomic<bool>& stop, bool poll) {
          std::vector<float> scores(kTileRows * kTileCenters);
          for (std::size_t r0 = begin; r0 < end; r0 += kTileRows) {
            const std::size_t nr = std::min(kTileRows, end - r0);
            for (std::size_t r = 0; r < nr; ++r) half_gap_[r0 + r] = kInfinity;
            for (std::size_t c0 = 0; c0 < k_; c0 += kTileCenters) {
              if (poll) poll_interrupts();
              if (stop.load(std::memory_order_relaxed)) return std::size_t{0};
              const std::size_t nc = std::min(kTileCenters, k_ - c0);
              table_.gemm(nr, nc, dims_, center(r0), dims_, center(c0), dims_, true, scores.data(),
                          nc, false);
              for (std::size_t r = 0; r < nr; ++r)
                for (std::size_t j = 0; j < nc; ++j) {
                  if (r0 + r == c0 + j) continue;
                  const float d2 = norms[r0 + r] + norms[c0 + j] - 2.0f * scores[r * nc + j];
                  half_gap_[r0 + r] = std::min(half_gap_[r0 + r], d2);
                }
            }
            for (std::size_t r = 0; r < nr; ++r) {
              float& gap = half_gap_[r0 + r];
              gap = gap == kInfinity ? kInfinity : 0.5f * std::sqrt(std::max(0.0f, gap - margin));
            }
          }
          return std::size_t{0};
        },
        kTileRows);
  }

  const float* rows_;
  std::size_t n_, dims_, k_;
  float* centers_;
  std::uint32_t* labels_;
  const KMeansOptions& options_;
  const kernels::KernelTable& table_;
  std::vector<float> upper_, lower_, row_norms_, center_norms_, half_gap_, shift_;
  float max_norm_ = 0.0f, max_shift_ = 0.0f, second_shift_ = 0.0f;
  std::uint32_t farthest_ = 0;
  bool stale_ = true, zero_center_ = false;
};

}  // namespace

int lloyd(const float* rows, std::size_t n, std::size_t dims, std::size_t k, float* centers,
          std::uint32_t* labels, const KMeansOptions& options) {
  BoundedLloyd lloyd(rows, n, dims, k, centers, labels, options);
  return lloyd.run();
}

}  // namespace embedding::ivf
