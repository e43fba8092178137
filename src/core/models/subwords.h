// fastText-style subwords: the character n-grams of "<word>" hashed into a fixed number of
// buckets, shared by training (src/core/train) and the look-up of words outside a vocabulary.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace embedding::models {

// FNV-1a 32 over the bytes of an n-gram (the hash fastText uses for its buckets).
std::uint32_t subword_hash(std::string_view ngram) noexcept;

// Appends to out the bucket (hash % buckets) of every n-gram of min_n..max_n UTF-8 characters
// of "<" word ">", in order of start position, then length. A byte that is not valid UTF-8
// counts as one character.
void subword_buckets(std::string_view word, std::uint32_t min_n, std::uint32_t max_n,
                     std::uint32_t buckets, std::vector<std::uint32_t>* out);

// The raw n-gram vectors of a subword model, as build_model() stores them.
struct SubwordVectors {
  std::uint32_t buckets = 0;
  std::uint32_t min_n = 3;
  std::uint32_t max_n = 6;
  std::vector<float> values;  // buckets * dims, row-major
};

}  // namespace embedding::models
