// Counting a corpus into a vocabulary (see corpus.h). Tokens are the lower-cased text of
// embed()'s tokeniser, so the trained vocabulary is what embed() looks up.
#include "core/train/corpus.h"

#include <algorithm>
#include <numeric>

#include "core/common/error.h"
#include "core/common/interrupt.h"
#include "core/text/tokenizer.h"

namespace embedding::train {
namespace {

// Rough cost of one vocabulary entry beyond its characters: hash node, bucket, name, count.
constexpr std::size_t kEntryOverhead = 96;

std::string megabytes(std::size_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20); }

}  // namespace

std::size_t Corpus::memory_bytes() const {
  std::size_t bytes =
      tokens.size() * sizeof(std::uint32_t) + row_ends.size() * sizeof(std::uint64_t);
  for (const std::string& word : words) bytes += word.size() + kEntryOverhead;
  return bytes;
}

void CorpusBuilder::charge(std::size_t bytes) {
  memory_bytes_ += bytes;
  if (memory_bytes_ > memory_limit_) {
    throw Error(ErrorCode::kOutOfMemory,
                "the training corpus does not fit in maintenance_work_mem (" +
                    megabytes(memory_limit_) + " MB)",
                "After " + std::to_string(rows_) + " rows: " + std::to_string(tokens_.size()) +
                    " words, " + std::to_string(names_.size()) +
                    " distinct. Raise maintenance_work_mem or train on fewer rows.");
  }
}

void CorpusBuilder::add_row(std::string_view text) {
  ++rows_;
  text::Tokenizer tokenizer(text);
  text::Token token;
  const std::size_t start = tokens_.size();
  while (tokenizer.next(&token)) {
    if (token.cut) continue;  // longer than any vocabulary word
    poll_interrupts_every<16>(tokens_.size());
    auto [it, inserted] = ids_.try_emplace(std::string(token.text), 0);
    if (inserted) {
      it->second = static_cast<std::uint32_t>(names_.size());
      names_.push_back(it->first);
      counts_.push_back(0);
      charge(token.text.size() + kEntryOverhead);
    }
    ++counts_[it->second];
    tokens_.push_back(it->second);
    charge(sizeof(std::uint32_t));
  }
  if (tokens_.size() > start) {
    row_ends_.push_back(tokens_.size());
    charge(sizeof(std::uint64_t));
  }
}

Corpus CorpusBuilder::finish(std::uint32_t min_count) {
  Corpus corpus;
  corpus.rows_read = rows_;
  corpus.words_read = tokens_.size();
  if (tokens_.empty()) {
    throw Error(ErrorCode::kDataException, "the training corpus has no words",
                std::to_string(rows_) + " rows of text read (NULLs are skipped).");
  }
  std::vector<std::uint32_t> order(names_.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return counts_[a] > counts_[b]; });
  constexpr std::uint32_t kDropped = 0xFFFFFFFFu;
  std::vector<std::uint32_t> remap(names_.size(), kDropped);
  for (const std::uint32_t old_id : order) {
    if (counts_[old_id] < min_count) break;
    remap[old_id] = static_cast<std::uint32_t>(corpus.words.size());
    corpus.words.emplace_back(names_[old_id]);
    corpus.counts.push_back(counts_[old_id]);
  }
  if (corpus.words.empty()) {
    throw Error(ErrorCode::kDataException,
                "no word occurs at least min_count (" + std::to_string(min_count) +
                    ") times in the training corpus",
                std::to_string(names_.size()) + " distinct words, the most frequent seen " +
                    std::to_string(counts_[order[0]]) + " times.");
  }
  // Compacts the token stream in place, dropping rare words and rows left empty.
  std::size_t out = 0, begin = 0;
  for (const std::uint64_t end : row_ends_) {
    const std::size_t row_start = out;
    for (std::size_t i = begin; i < end; ++i) {
      poll_interrupts_every<16>(i);
      const std::uint32_t id = remap[tokens_[i]];
      if (id != kDropped) tokens_[out++] = id;
    }
    if (out > row_start) corpus.row_ends.push_back(out);
    begin = end;
  }
  tokens_.resize(out);
  tokens_.shrink_to_fit();
  corpus.tokens = std::move(tokens_);
  *this = CorpusBuilder(memory_limit_);
  return corpus;
}

}  // namespace embedding::train
