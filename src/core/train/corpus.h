// A training corpus held in memory: the rows of text read once, tokenised with embed()'s
// tokeniser, counted into a vocabulary and kept as a stream of word ids, within a memory budget.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace embedding::train {

// The corpus after the vocabulary is fixed: words in frequency order (id 0 most frequent) with
// their counts, and every row as a range of `tokens` (words below min_count left out).
struct Corpus {
  std::vector<std::string> words;
  std::vector<std::uint64_t> counts;
  std::vector<std::uint32_t> tokens;
  std::vector<std::uint64_t> row_ends;  // row i is tokens[row_ends[i-1] (0 for i = 0), row_ends[i])
  std::uint64_t rows_read = 0;          // rows given to the builder, empty ones included
  std::uint64_t words_read = 0;         // tokens before min_count
  std::size_t memory_bytes() const;
};

// Reads rows one at a time (the caller fetches them), then fixes the vocabulary. Throws
// Error(kOutOfMemory) as soon as what it holds exceeds memory_limit bytes.
class CorpusBuilder {
 public:
  explicit CorpusBuilder(std::size_t memory_limit) : memory_limit_(memory_limit) {}

  // Tokenises one row (the text embed() sees) and appends its words.
  void add_row(std::string_view text);
  // An estimate of the bytes held so far (token stream, vocabulary map and strings).
  std::size_t memory_bytes() const { return memory_bytes_; }

  // Keeps words seen at least min_count times, sorted by count (ties by first appearance).
  // Throws Error(kDataException) when no word is left (an empty corpus, or every count below
  // min_count). The builder is empty afterwards.
  Corpus finish(std::uint32_t min_count);

 private:
  void charge(std::size_t bytes);

  std::size_t memory_limit_;
  std::size_t memory_bytes_ = 0;
  std::unordered_map<std::string, std::uint32_t> ids_;  // word -> first-appearance id
  std::vector<std::string_view> names_;                 // first-appearance id -> word (in ids_)
  std::vector<std::uint64_t> counts_;
  std::vector<std::uint32_t> tokens_;
  std::vector<std::uint64_t> row_ends_;
  std::uint64_t rows_ = 0;
};

}  // namespace embedding::train
