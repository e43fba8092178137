// The training loop (see trainer.h). Skip-gram without subwords follows Ji et al. (2016): the
// negatives of a centre word are drawn once and shared by every context word of its window, so
// the few output rows of a window stay in cache. With subwords, skip-gram works as fastText does
// (the centre's n-gram mean predicts each context word). Threads share the matrices (Hogwild).
#include "core/train/trainer.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>

#include "core/common/error.h"
#include "core/common/interrupt.h"
#include "core/common/threads.h"
#include "core/models/model_format.h"
#include "core/train/huge_buffer.h"
#include "core/train/sampling.h"
#include "core/train/update.h"

namespace embedding::train {
namespace {

constexpr std::size_t kMaxSentence = 1000;  // word2vec's chunk of a long row
constexpr std::uint64_t kReportWords = 10000;

// State shared by the workers; the matrices are written without locks.
struct Shared {
  const Corpus& corpus;
  const TrainOptions& options;
  std::uint32_t vocab, dims, buckets;
  float learning_rate;
  HugeBuffer input;                                          // (vocab + buckets) x dims
  HugeBuffer output;                                         // vocab x dims
  std::vector<std::uint32_t> subword_offsets, subword_rows;  // CSR: word -> its input rows
  NegativeTable negatives;
  std::vector<std::uint32_t> keep;
  SigmoidTable sigmoid;
  const UpdateKernels& kernels = update_kernels();
  std::uint64_t total_words;  // epochs x corpus tokens
  std::atomic<std::uint64_t> words_done{0};
  std::atomic<std::uint64_t> pairs{0};
  std::atomic<double> loss_sum{0.0};
  const std::atomic<bool>* stop = nullptr;

  float current_rate() const {
    const double done = static_cast<double>(words_done.load(std::memory_order_relaxed));
    return learning_rate * static_cast<float>(std::max(1e-4, 1.0 - done / (total_words + 1.0)));
  }
};

// One worker: its slice of rows, every epoch.
class Worker {
 public:
  Worker(Shared& s, std::uint64_t seed)
      : s_(s), rng_(seed), hidden_(s.dims), grad_(s.dims), rate_(s.learning_rate) {}

  void run(std::size_t first_row, std::size_t end_row) {
    for (std::uint32_t epoch = 0; epoch < s_.options.epochs; ++epoch) {
      for (std::size_t row = first_row; row < end_row; ++row) {
        const std::uint64_t begin = row == 0 ? 0 : s_.corpus.row_ends[row - 1];
        const std::uint64_t end = s_.corpus.row_ends[row];
        for (std::uint64_t chunk = begin; chunk < end; chunk += kMaxSentence) {
          if (s_.stop->load(std::memory_order_relaxed)) return;
          sentence(chunk, std::min<std::uint64_t>(end, chunk + kMaxSentence));
        }
      }
    }
    flush();
  }

 private:
  void sentence(std::uint64_t begin, std::uint64_t end) {
    words_.clear();
    for (std::uint64_t i = begin; i < end; ++i) {
      const std::uint32_t w = s_.corpus.tokens[i];
      if (rng_.next() <= s_.keep[w]) words_.push_back(w);
    }
    unreported_ += end - begin;
    if (unreported_ >= kReportWords) flush();
    const std::uint32_t window = s_.options.window;
    // Without subwords (and for CBOW) the negatives of the whole chunk are drawn first (the
    // table lookups overlap), and while position i trains the rows of i + 1 are prefetched.
    const bool ahead = s_.buckets == 0 || s_.options.method == Method::kCbow;
    if (ahead) draw_chunk_negatives();
    for (std::size_t i = 0; i < words_.size(); ++i) {
      if (ahead) {
        negatives_.assign(chunk_negatives_.begin() + i * s_.options.negative,
                          chunk_negatives_.begin() + (i + 1) * s_.options.negative);
        if (i + 1 < words_.size()) prefetch_position(i + 1, window);
      }
      const std::uint32_t reach = window - rng_.below(window);  // 1..window
      const std::size_t from = i >= reach ? i - reach : 0;
      const std::size_t to = std::min(words_.size(), i + reach + 1);
      if (s_.options.method == Method::kCbow) {
        cbow(i, from, to);
      } else if (s_.buckets > 0) {
        skipgram_subwords(i, from, to);
      } else {
        skipgram_shared(i, from, to);
      }
    }
  }

  // Draws the negatives of one update (never the true word).
  void draw_negatives(std::uint32_t target, std::vector<std::uint32_t>* into) {
    into->clear();
    for (std::uint32_t k = 0; k < s_.options.negative; ++k) {
      const std::uint32_t w = s_.negatives.draw(rng_);
      if (w != target) into->push_back(w);
    }
  }

  void prefetch_row(const float* row) {
    const auto* bytes = reinterpret_cast<const char*>(row);
    for (std::size_t at = 0; at < s_.dims * sizeof(float); at += 64) __builtin_prefetch(bytes + at);
  }

  // negative draws for every position of words_, kNone where a draw hit the position's word.
  static constexpr std::uint32_t kNone = 0xFFFFFFFFu;
  void draw_chunk_negatives() {
    const std::uint32_t k = s_.options.negative;
    chunk_negatives_.resize(words_.size() * k);
    for (std::size_t i = 0; i < words_.size(); ++i)
      for (std::uint32_t j = 0; j < k; ++j) {
        const std::uint32_t w = s_.negatives.draw(rng_);
        chunk_negatives_[i * k + j] = w == words_[i] ? kNone : w;
      }
  }

  // Prefetches the output rows position i will touch and the input row entering the window.
  void prefetch_position(std::size_t i, std::uint32_t window) {
    prefetch_row(out_row(words_[i]));
    const std::uint32_t k = s_.options.negative;
    for (std::size_t j = i * k; j < (i + 1) * k; ++j)
      if (chunk_negatives_[j] != kNone) prefetch_row(out_row(chunk_negatives_[j]));
    if (i + window < words_.size()) prefetch_row(in_row(words_[i + window]));
  }

  float* out_row(std::uint32_t w) { return s_.output.data() + std::size_t{w} * s_.dims; }
  float* in_row(std::uint32_t r) { return s_.input.data() + std::size_t{r} * s_.dims; }

  // Updates hidden against the target and the drawn negatives; grad_ accumulates.
  void outputs(const float* hidden, std::uint32_t target) {
    const std::size_t n = s_.dims;
    loss_ += negative_sampling_step(s_.kernels, s_.sigmoid, hidden, out_row(target), grad_.data(),
                                    true, rate_, n);
    for (const std::uint32_t w : negatives_)
      if (w != kNone)
        loss_ += negative_sampling_step(s_.kernels, s_.sigmoid, hidden, out_row(w), grad_.data(),
                                        false, rate_, n);
    ++pairs_;
  }

  // word2vec direction: each context word's row against the centre word and shared negatives.
  void skipgram_shared(std::size_t i, std::size_t from, std::size_t to) {
    const std::uint32_t centre = words_[i];
    for (std::size_t j = from; j < to; ++j) {
      if (j == i) continue;
      float* row = in_row(words_[j]);
      std::fill(grad_.begin(), grad_.end(), 0.0f);
      outputs(row, centre);
      s_.kernels.axpy(1.0f, grad_.data(), row, s_.dims);
    }
  }

  // Mean of the input rows of words [from, to) other than skip into hidden_; returns the rows.
  std::size_t gather(std::size_t from, std::size_t to, std::size_t skip) {
    std::fill(hidden_.begin(), hidden_.end(), 0.0f);
    rows_.clear();
    for (std::size_t j = from; j < to; ++j) {
      if (j == skip) continue;
      const std::uint32_t w = words_[j];
      if (s_.buckets == 0) {
        rows_.push_back(w);
        continue;
      }
      rows_.insert(rows_.end(), s_.subword_rows.begin() + s_.subword_offsets[w],
                   s_.subword_rows.begin() + s_.subword_offsets[w + 1]);
    }
    for (const std::uint32_t r : rows_) s_.kernels.axpy(1.0f, in_row(r), hidden_.data(), s_.dims);
    if (!rows_.empty()) {
      const float scale = 1.0f / static_cast<float>(rows_.size());
      for (float& h : hidden_) h *= scale;
    }
    return rows_.size();
  }

  void scatter_grad() {
    for (const std::uint32_t r : rows_) s_.kernels.axpy(1.0f, grad_.data(), in_row(r), s_.dims);
  }

  // fastText direction: the centre's n-gram mean predicts each context word. The mean is taken
  // once a centre, so the gradients of its context words are summed and added to its rows once
  // (the same sum fastText adds row by row after each context word, at a fraction of the cost).
  void skipgram_subwords(std::size_t i, std::size_t from, std::size_t to) {
    gather(i, i + 1, static_cast<std::size_t>(-1));
    std::fill(grad_.begin(), grad_.end(), 0.0f);
    for (std::size_t j = from; j < to; ++j) {
      if (j == i) continue;
      draw_negatives(words_[j], &negatives_);
      outputs(hidden_.data(), words_[j]);
    }
    scatter_grad();
  }

  void cbow(std::size_t i, std::size_t from, std::size_t to) {
    if (gather(from, to, i) == 0) return;
    std::fill(grad_.begin(), grad_.end(), 0.0f);
    outputs(hidden_.data(), words_[i]);
    scatter_grad();
  }

  void flush() {
    s_.words_done.fetch_add(unreported_, std::memory_order_relaxed);
    s_.pairs.fetch_add(pairs_, std::memory_order_relaxed);
    s_.loss_sum.fetch_add(loss_, std::memory_order_relaxed);
    unreported_ = pairs_ = 0;
    loss_ = 0.0;
    rate_ = s_.current_rate();
  }

  Shared& s_;
  Rng rng_;
  std::vector<float> hidden_, grad_;
  std::vector<std::uint32_t> words_, negatives_, chunk_negatives_, rows_;
  float rate_;
  std::uint64_t unreported_ = 0, pairs_ = 0;
  double loss_ = 0.0;
};

void check_options(const TrainOptions& o) {
  const auto bad = [](const std::string& what) { throw Error(ErrorCode::kInvalidParameter, what); };
  if (o.dims < 1 || o.dims > 16000) bad("dimensions must be between 1 and 16000");
  if (o.window < 1 || o.window > 1000) bad("window_size must be between 1 and 1000");
  if (o.negative < 1 || o.negative > 1000) bad("negative must be between 1 and 1000");
  if (o.epochs < 1 || o.epochs > 10000) bad("epochs must be between 1 and 10000");
  if (o.threads < 1 || o.threads > 1024) bad("threads must be between 1 and 1024");
  if (o.min_n < 1 || o.min_n > o.max_n || o.max_n > models::kMaxSubwordN)
    bad("subword n-gram lengths out of range");
}

std::string megabytes(std::size_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20); }

}  // namespace

std::uint32_t subword_buckets_for(std::size_t vocab_size) {
  return static_cast<std::uint32_t>(
      std::clamp<std::size_t>(vocab_size * 4, std::size_t{1} << 14, std::size_t{1} << 21));
}

std::size_t training_memory_bytes(const Corpus& corpus, const TrainOptions& options) {
  const std::size_t vocab = corpus.words.size();
  const std::size_t buckets =
      options.subwords ? (options.buckets ? options.buckets : subword_buckets_for(vocab)) : 0;
  // At the end of training: input, output and the result (word and n-gram rows). Storing it
  // then holds at most the image and the row written from it (train_model frees the result).
  std::size_t bytes = (3 * vocab + 2 * buckets) * std::size_t{options.dims} * sizeof(float);
  bytes += vocab * (12 + 8);  // negative and subsampling tables
  if (options.subwords) bytes += vocab * 32 * sizeof(std::uint32_t);  // about 30 n-grams a word
  return bytes;
}

TrainResult train(const Corpus& corpus, const TrainOptions& options,
                  const std::function<void(const TrainProgress&)>& progress) {
  check_options(options);
  if (corpus.words.empty() || corpus.tokens.empty())
    throw Error(ErrorCode::kDataException, "the training corpus has no words");
  const std::size_t needed = training_memory_bytes(corpus, options);
  if (needed > options.memory_limit)
    throw Error(ErrorCode::kOutOfMemory,
                "training needs about " + megabytes(needed) +
                    " MB, more than maintenance_work_mem (" + megabytes(options.memory_limit) +
                    " MB)",
                std::to_string(corpus.words.size()) + " words of " + std::to_string(options.dims) +
                    " dimensions" + (options.subwords ? " with subwords" : "") +
                    ". Raise maintenance_work_mem, raise min_count or use fewer dimensions.");
  const auto vocab = static_cast<std::uint32_t>(corpus.words.size());
  const std::uint32_t dims = options.dims;
  const std::uint32_t buckets =
      options.subwords ? (options.buckets ? options.buckets : subword_buckets_for(vocab)) : 0;
  const float rate = options.learning_rate > 0.0       ? static_cast<float>(options.learning_rate)
                     : options.method == Method::kCbow ? 0.05f
                                                       : 0.025f;
  Shared s{corpus,
           options,
           vocab,
           dims,
           buckets,
           rate,
           {},
           {},
           {},
           {},
           NegativeTable(corpus.counts, options.negative_power > 0.0      ? options.negative_power
                                        : options.method == Method::kCbow ? 0.5
                                                                          : 0.75),
           keep_thresholds(corpus.counts, options.sample),
           SigmoidTable(),
           update_kernels(),
           0};
  s.total_words = std::uint64_t{options.epochs} * corpus.tokens.size();

  Rng init(options.seed ^ 0x5eedull);
  s.input = HugeBuffer((std::size_t{vocab} + buckets) * dims);
  for (float& x : s.input) x = (init.uniform() - 0.5f) / static_cast<float>(dims);
  s.output = HugeBuffer(std::size_t{vocab} * dims);  // zeros
  if (buckets > 0) {
    s.subword_offsets.reserve(vocab + 1);
    std::vector<std::uint32_t> ngrams;
    for (std::uint32_t w = 0; w < vocab; ++w) {
      poll_interrupts_every(w);
      s.subword_offsets.push_back(static_cast<std::uint32_t>(s.subword_rows.size()));
      s.subword_rows.push_back(w);
      ngrams.clear();
      models::subword_buckets(corpus.words[w], options.min_n, options.max_n, buckets, &ngrams);
      for (const std::uint32_t b : ngrams) s.subword_rows.push_back(vocab + b);
    }
    s.subword_offsets.push_back(static_cast<std::uint32_t>(s.subword_rows.size()));
  }

  // Rows cut into one slice a worker with about the same number of words each.
  const std::size_t rows = corpus.row_ends.size();
  const int workers = static_cast<int>(std::min<std::size_t>(options.threads, rows));
  std::vector<std::size_t> slice_start(workers + 1, rows);
  for (int t = 0, row = 0; t < workers; ++t) {
    const std::uint64_t target = corpus.tokens.size() * t / workers;
    while (static_cast<std::size_t>(row) < rows &&
           (row == 0 ? 0 : corpus.row_ends[row - 1]) < target)
      ++row;
    slice_start[t] = std::min<std::size_t>(row, rows);
  }
  slice_start[0] = 0;

  const auto start = std::chrono::steady_clock::now();
  auto last_report = start;
  std::uint64_t last_pairs = 0;
  double last_loss = 0.0, recent_loss = 0.0;
  const auto seconds_since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  const auto update_loss = [&] {
    const std::uint64_t pairs = s.pairs.load();
    const double loss = s.loss_sum.load();
    if (pairs > last_pairs)
      recent_loss = (loss - last_loss) / static_cast<double>(pairs - last_pairs);
    last_pairs = pairs;
    last_loss = loss;
  };
  {
    WorkerTeam team(workers + 1);
    s.stop = &team.stop_flag();
    team.run(
        [&](int part) {
          if (part == 0) return;  // the caller's thread only waits (and polls)
          Worker worker(s, options.seed * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(part));
          worker.run(slice_start[part - 1], slice_start[part]);
        },
        [&] {
          poll_interrupts();
          if (!progress ||
              std::chrono::steady_clock::now() - last_report < options.progress_interval)
            return;
          last_report = std::chrono::steady_clock::now();
          update_loss();
          const double elapsed = seconds_since(start);
          const double done = static_cast<double>(s.words_done.load());
          const double fraction = std::min(1.0, done / static_cast<double>(s.total_words));
          const double speed = done / std::max(elapsed, 1e-9);
          const auto epoch = static_cast<std::uint32_t>(
              std::min<double>(options.epochs, done / corpus.tokens.size() + 1));
          progress({epoch, options.epochs, fraction, speed, recent_loss, elapsed,
                    speed > 0 ? (s.total_words - done) / speed : 0.0});
        },
        std::chrono::milliseconds(10));
  }
  poll_interrupts();
  update_loss();

  TrainResult result;
  result.dims = dims;
  result.seconds = seconds_since(start);
  result.words_per_second = static_cast<double>(s.total_words) / std::max(result.seconds, 1e-9);
  result.loss = recent_loss;
  result.vectors.resize(std::size_t{vocab} * dims);
  for (std::uint32_t w = 0; w < vocab; ++w) {
    poll_interrupts_every(w);
    float* out = result.vectors.data() + std::size_t{w} * dims;
    if (buckets == 0) {
      std::copy_n(s.input.data() + std::size_t{w} * dims, dims, out);
      continue;
    }
    // fastText's word vector: the mean of the word's own row and its n-gram rows.
    const std::uint32_t first = s.subword_offsets[w], last = s.subword_offsets[w + 1];
    for (std::uint32_t k = first; k < last; ++k)
      s.kernels.axpy(1.0f, s.input.data() + std::size_t{s.subword_rows[k]} * dims, out, dims);
    const float scale = 1.0f / static_cast<float>(last - first);
    for (std::uint32_t i = 0; i < dims; ++i) out[i] *= scale;
  }
  if (buckets > 0) {
    result.subwords.buckets = buckets;
    result.subwords.min_n = options.min_n;
    result.subwords.max_n = options.max_n;
    result.subwords.values.assign(s.input.begin() + std::size_t{vocab} * dims, s.input.end());
  }
  return result;
}

}  // namespace embedding::train
