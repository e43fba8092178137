// Word-vector training on an in-memory corpus: word2vec skip-gram and CBOW with negative
// sampling and subsampling, optionally with fastText's character n-grams; Hogwild worker threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/models/subwords.h"
#include "core/train/corpus.h"

namespace embedding::train {

enum class Method { kSkipGram, kCbow };

struct TrainOptions {
  Method method = Method::kSkipGram;
  std::uint32_t dims = 100;
  std::uint32_t window = 5;
  std::uint32_t negative = 5;
  std::uint32_t epochs = 5;
  bool subwords = false;
  std::uint32_t min_n = 3, max_n = 6;
  std::uint32_t buckets = 0;  // 0: subword_buckets_for(vocabulary size)
  double sample = 1e-3;       // subsampling threshold t (0: off)
  // Negatives are drawn by count^power; 0: 0.5 for CBOW (fastText's table: rarer negatives, a
  // better SimLex on the bench corpus), 0.75 for skip-gram (word2vec's).
  double negative_power = 0.0;
  double learning_rate = 0.0;  // 0: 0.025 for skip-gram, 0.05 for CBOW (word2vec's)
  std::uint64_t seed = 1;
  int threads = 1;  // worker threads; the caller's thread only waits and reports
  std::size_t memory_limit = std::size_t{1} << 30;  // for the matrices and tables
  std::chrono::milliseconds progress_interval{3000};
};

struct TrainProgress {
  std::uint32_t epoch;  // 1-based
  std::uint32_t epochs;
  double fraction;  // of all the work
  double words_per_second;
  double loss;  // mean loss per pair since the previous report
  double seconds_elapsed;
  double seconds_left;
};

struct TrainResult {
  std::uint32_t dims = 0;
  std::vector<float> vectors;       // corpus.words.size() x dims: the words' final vectors
  models::SubwordVectors subwords;  // buckets == 0 without subwords
  double seconds = 0.0;
  double words_per_second = 0.0;  // corpus words (before subsampling) per second
  double loss = 0.0;              // mean loss per pair over the last part of training
};

// Subword buckets for a vocabulary: 4 per word, between 2^14 and 2^21.
std::uint32_t subword_buckets_for(std::size_t vocab_size);

// Bytes train() allocates for this corpus and these options (checked against memory_limit).
std::size_t training_memory_bytes(const Corpus& corpus, const TrainOptions& options);

// Trains. The caller's thread runs no training: it calls poll_interrupts() every few
// milliseconds (an exception stops the workers and is rethrown here) and progress() at most
// every progress_interval. With threads = 1 the result depends only on the corpus and options.
// Throws kInvalidParameter for bad options, kOutOfMemory beyond memory_limit.
TrainResult train(const Corpus& corpus, const TrainOptions& options,
                  const std::function<void(const TrainProgress&)>& progress = nullptr);

}  // namespace embedding::train
