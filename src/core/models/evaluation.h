// Intrinsic evaluation of a model: word-pair similarity (Spearman) and Google analogies (3CosAdd),
// following gensim's protocol as described in ../shared/data/README.md (beside the repository).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/models/model.h"

namespace embedding::models {

struct WordPair {
  std::string first;
  std::string second;
  double score;
};

// "word1<TAB>word2<TAB>score" lines; lines starting with '#' and blank lines are skipped.
// Throws Error(kInvalidText) naming the line on a malformed line.
std::vector<WordPair> parse_word_pairs(std::string_view content);

struct AnalogyQuestion {
  std::string a, b, c, expected;  // a : b :: c : expected
  std::size_t section;            // index into AnalogySet::sections
};

struct AnalogySet {
  std::vector<std::string> sections;  // ": name" headers, in order
  std::vector<AnalogyQuestion> questions;
};

// Sections whose name starts with "gram" are syntactic, the others semantic (word2vec's split).
bool is_syntactic_section(std::string_view name);

// questions-words.txt: ": section" headers and "a b c d" lines. Throws Error(kInvalidText).
AnalogySet parse_analogies(std::string_view content);

// Spearman rank correlation: Pearson correlation of the ranks, ties given their average rank.
// NaN when fewer than two values or a constant input.
double spearman(std::span<const double> x, std::span<const double> y);

struct PairResult {
  double spearman = 0.0;
  std::size_t used = 0;   // pairs with both words in the vocabulary
  std::size_t total = 0;  // pairs in the set
};

// Words are lower-cased (text::fold_case) before the look-up; out-of-vocabulary pairs are skipped.
PairResult evaluate_word_pairs(const Model& model, const std::vector<WordPair>& pairs);

struct AnalogyResult {
  std::size_t correct = 0, answered = 0;  // all sections
  std::size_t semantic_correct = 0, semantic_answered = 0;
  std::size_t syntactic_correct = 0, syntactic_answered = 0;
  std::size_t skipped = 0;  // a word outside the restricted vocabulary
  double accuracy() const { return answered ? double(correct) / double(answered) : 0.0; }
  double semantic_accuracy() const {
    return semantic_answered ? double(semantic_correct) / double(semantic_answered) : 0.0;
  }
  double syntactic_accuracy() const {
    return syntactic_answered ? double(syntactic_correct) / double(syntactic_answered) : 0.0;
  }
};

// 3CosAdd over the row_limit most frequent words (30,000 in word2vec and the reference figures);
// a question is skipped when one of its four lower-cased words is outside those rows, and is
// correct when the best word other than a, b and c is the expected one.
AnalogyResult evaluate_analogies(const Model& model, const AnalogySet& set,
                                 std::uint32_t row_limit = 30000);

}  // namespace embedding::models
