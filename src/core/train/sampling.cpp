// Negative-sampling table and subsampling thresholds (see sampling.h).
#include "core/train/sampling.h"

#include <algorithm>
#include <cmath>

#include "core/common/error.h"

namespace embedding::train {

NegativeTable::NegativeTable(const std::vector<std::uint64_t>& counts, std::size_t size) {
  if (counts.empty() || size < counts.size())
    throw Error(ErrorCode::kInvalidParameter, "negative table smaller than the vocabulary");
  double total = 0.0;
  for (const std::uint64_t c : counts) total += std::pow(static_cast<double>(c), 0.75);
  table_.reserve(size);
  // Word w takes the slots up to its cumulative share; at least one each, so rounding never
  // starves a rare word. The last word takes what is left.
  const std::size_t budget = size - counts.size();
  double cumulative = 0.0;
  for (std::uint32_t w = 0; w < counts.size(); ++w) {
    cumulative += std::pow(static_cast<double>(counts[w]), 0.75) / total;
    const auto end = std::min<std::size_t>(
        size, static_cast<std::size_t>(std::llround(cumulative * budget)) + w + 1);
    do {
      table_.push_back(w);
    } while (table_.size() < end);
  }
  while (table_.size() < size) table_.push_back(static_cast<std::uint32_t>(counts.size() - 1));
}

std::size_t negative_table_size(std::size_t vocab_size) {
  return std::max(vocab_size,
                  std::clamp<std::size_t>(vocab_size * 100, std::size_t{1} << 16, 10000000));
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
