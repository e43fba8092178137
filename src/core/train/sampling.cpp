// Negative-sampling table and subsampling thresholds (see sampling.h).
#include "core/train/sampling.h"

#include <algorithm>
#include <cmath>

#include "core/common/error.h"

namespace embedding::train {

NegativeTable::NegativeTable(const std::vector<std::uint64_t>& counts, double power) {
  if (counts.empty() || counts.size() > 0xFFFFFFFFu)
    throw Error(ErrorCode::kInvalidParameter, "negative table over an empty vocabulary");
  const std::size_t n = counts.size();
  std::vector<double> scaled(n);
  double total = 0.0;
  for (std::size_t w = 0; w < n; ++w)
    total += scaled[w] = std::pow(static_cast<double>(counts[w]), power);
  // Vose's construction: scaled to mean 1, small slots take the rest of their mass from a large
  // word, which then shrinks by that much.
  std::vector<std::uint32_t> small, large;
  for (std::size_t w = 0; w < n; ++w) {
    scaled[w] *= static_cast<double>(n) / total;
    (scaled[w] < 1.0 ? small : large).push_back(static_cast<std::uint32_t>(w));
  }
  slots_.assign(n, Slot{0xFFFFFFFFu, 0});
  for (std::size_t w = 0; w < n; ++w) slots_[w].alias = static_cast<std::uint32_t>(w);
  while (!small.empty() && !large.empty()) {
    const std::uint32_t s = small.back(), l = large.back();
    small.pop_back();
    slots_[s].threshold =
        static_cast<std::uint32_t>(std::min(scaled[s] * 4294967296.0, 4294967295.0));
    slots_[s].alias = l;
    scaled[l] -= 1.0 - scaled[s];
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // What is left is 1 up to rounding: those slots keep their word always (threshold 2^32 - 1).
}

double NegativeTable::probability(std::uint32_t w) const {
  double p = 0.0;
  for (std::uint32_t i = 0; i < slots_.size(); ++i) {
    const Slot& slot = slots_[i];
    const double keep = slot.threshold == 0xFFFFFFFFu ? 1.0 : slot.threshold / 4294967296.0;
    if (i == w) p += keep;
    if (slot.alias == w && slot.alias != i) p += 1.0 - keep;
  }
  return p / static_cast<double>(slots_.size());
}

std::vector<std::uint32_t> keep_thresholds(const std::vector<std::uint64_t>& counts,
                                           double sample) {
  std::vector<std::uint32_t> thresholds(counts.size(), 0xFFFFFFFFu);
  if (sample <= 0.0) return thresholds;
  double total = 0.0;
  for (const std::uint64_t c : counts) total += static_cast<double>(c);
  for (std::size_t w = 0; w < counts.size(); ++w) {
    const double f = static_cast<double>(counts[w]) / total;
    const double keep = (std::sqrt(f / sample) + 1.0) * sample / f;
    if (keep < 1.0) thresholds[w] = static_cast<std::uint32_t>(keep * 4294967295.0);
  }
  return thresholds;
}

}  // namespace embedding::train
