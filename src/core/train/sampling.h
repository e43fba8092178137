// The random parts of word2vec training: a small seeded generator (never rand()), the
// unigram^0.75 table negatives are drawn from, and frequent-word subsampling.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace embedding::train {

// A 64-bit linear congruential generator (Knuth's MMIX constants), high bits out: fast, and the
// same sequence on every platform for a seed.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(mix(seed)) {}
  std::uint32_t next() {
    state_ = state_ * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::uint32_t>(state_ >> 32);
  }
  // Uniform in [0, 1).
  float uniform() { return static_cast<float>(next() >> 8) * (1.0f / 16777216.0f); }
  // Uniform in [0, n), n > 0 (multiply-shift: no modulo bias worth the name for small n).
  std::uint32_t below(std::uint32_t n) {
    return static_cast<std::uint32_t>((std::uint64_t{next()} * n) >> 32);
  }

 private:
  static std::uint64_t mix(std::uint64_t x) {  // splitmix64 finaliser: nearby seeds diverge
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
  }
  std::uint64_t state_;
};

// Draws word w with probability count(w)^power / sum (word2vec's unigram^0.75) by Walker's
// alias method: one 8-byte slot a word, so the table mostly stays in cache where word2vec's
// 1e8-slot table costs a cache miss a draw. Slot w gives w below its threshold, else its alias.
class NegativeTable {
 public:
  explicit NegativeTable(const std::vector<std::uint64_t>& counts, double power = 0.75);
  std::uint32_t draw(Rng& rng) const {
    // The high half of r * n picks the slot; the low half is uniform within it: the coin.
    const std::uint64_t r = std::uint64_t{rng.next()} * slots_.size();
    const auto w = static_cast<std::uint32_t>(r >> 32);
    return static_cast<std::uint32_t>(r) < slots_[w].threshold ? w : slots_[w].alias;
  }
  // The probability of drawing w, from the table (for tests).
  double probability(std::uint32_t w) const;
  std::size_t size() const { return slots_.size(); }

 private:
  struct Slot {
    std::uint32_t threshold;  // of 2^32: the slot's own word below it
    std::uint32_t alias;
  };
  std::vector<Slot> slots_;
};

// word2vec's subsampling: word w is kept with probability (sqrt(f/t) + 1) * t/f, f = count/total,
// t = sample (1 for f <= t). Returned as thresholds against Rng::next() (0xFFFFFFFF = always);
// sample <= 0 keeps every word.
std::vector<std::uint32_t> keep_thresholds(const std::vector<std::uint64_t>& counts, double sample);

}  // namespace embedding::train
