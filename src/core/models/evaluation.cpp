// Evaluation protocols (word similarity, analogies) shared by test/bench/eval_tool and the
// models_eval unit test, so that both report exactly the same figures.
#include "core/models/evaluation.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>
#include <optional>

#include "core/common/error.h"
#include "core/models/similarity.h"
#include "core/text/tokenizer.h"

namespace embedding::models {
namespace {

template <typename Fn>
void for_each_line(std::string_view content, Fn&& fn) {
  std::size_t pos = 0;
  std::size_t number = 0;
  while (pos < content.size()) {
    const std::size_t end = std::min(content.find('\n', pos), content.size());
    std::string_view line = content.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    fn(line, ++number);
    pos = end + 1;
  }
}

std::vector<std::string_view> split(std::string_view line, std::string_view separators) {
  std::vector<std::string_view> fields;
  std::size_t pos = 0;
  while (pos < line.size()) {
    pos = line.find_first_not_of(separators, pos);
    if (pos == std::string_view::npos) break;
    const std::size_t end = std::min(line.find_first_of(separators, pos), line.size());
    fields.push_back(line.substr(pos, end - pos));
    pos = end;
  }
  return fields;
}

[[noreturn]] void bad_line(std::size_t number, const char* what) {
  throw Error(ErrorCode::kInvalidText, "line " + std::to_string(number) + ": " + what);
}

std::vector<double> average_ranks(std::span<const double> values) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t i, std::size_t j) { return values[i] < values[j]; });
  std::vector<double> ranks(values.size());
  for (std::size_t start = 0; start < order.size();) {
    std::size_t end = start + 1;
    while (end < order.size() && values[order[end]] == values[order[start]]) ++end;
    const double rank = (static_cast<double>(start) + static_cast<double>(end - 1)) / 2.0 + 1.0;
    for (std::size_t i = start; i < end; ++i) ranks[order[i]] = rank;
    start = end;
  }
  return ranks;
}

std::optional<std::uint32_t> find_lower(const Model& model, std::string_view word) {
  return model.find(text::fold_case(word));
}

}  // namespace

std::vector<WordPair> parse_word_pairs(std::string_view content) {
  std::vector<WordPair> pairs;
  for_each_line(content, [&](std::string_view line, std::size_t number) {
    if (line.empty() || line.front() == '#') return;
    const auto fields = split(line, "\t");
    if (fields.size() != 3) bad_line(number, "expected word1<TAB>word2<TAB>score");
    double score = 0.0;
    const auto result =
        std::from_chars(fields[2].data(), fields[2].data() + fields[2].size(), score);
    if (result.ec != std::errc() || result.ptr != fields[2].data() + fields[2].size()) {
      bad_line(number, "bad score");
    }
    pairs.push_back({std::string(fields[0]), std::string(fields[1]), score});
  });
  return pairs;
}

bool is_syntactic_section(std::string_view name) { return name.starts_with("gram"); }

AnalogySet parse_analogies(std::string_view content) {
  AnalogySet set;
  for_each_line(content, [&](std::string_view line, std::size_t number) {
    if (line.empty()) return;
    if (line.front() == ':') {
      const auto fields = split(line.substr(1), " \t");
      if (fields.size() != 1) bad_line(number, "bad section header");
      set.sections.emplace_back(fields[0]);
      return;
    }
    const auto fields = split(line, " \t");
    if (fields.size() != 4) bad_line(number, "expected four words");
    if (set.sections.empty()) bad_line(number, "question before the first section header");
    set.questions.push_back({std::string(fields[0]), std::string(fields[1]), std::string(fields[2]),
                             std::string(fields[3]), set.sections.size() - 1});
  });
  return set;
}

double spearman(std::span<const double> x, std::span<const double> y) {
  if (x.size() != y.size() || x.size() < 2) return NAN;
  const std::vector<double> rx = average_ranks(x);
  const std::vector<double> ry = average_ranks(y);
  const double n = static_cast<double>(x.size());
  const double mean_x = std::accumulate(rx.begin(), rx.end(), 0.0) / n;
  const double mean_y = std::accumulate(ry.begin(), ry.end(), 0.0) / n;
  double sxy = 0.0, sxx = 0.0, syy = 0.0;
  for (std::size_t i = 0; i < rx.size(); ++i) {
    sxy += (rx[i] - mean_x) * (ry[i] - mean_y);
    sxx += (rx[i] - mean_x) * (rx[i] - mean_x);
    syy += (ry[i] - mean_y) * (ry[i] - mean_y);
  }
  if (sxx == 0.0 || syy == 0.0) return NAN;
  return sxy / std::sqrt(sxx * syy);
}

PairResult evaluate_word_pairs(const Model& model, const std::vector<WordPair>& pairs) {
  PairResult result;
  result.total = pairs.size();
  std::vector<double> model_scores;
  std::vector<double> human_scores;
  for (const WordPair& pair : pairs) {
    const auto first = find_lower(model, pair.first);
    const auto second = find_lower(model, pair.second);
    if (!first || !second) continue;
    const float* a = model.unit_vector(*first);
    const float* b = model.unit_vector(*second);
    double dot = 0.0;
    for (std::uint32_t i = 0; i < model.dims(); ++i) dot += static_cast<double>(a[i]) * b[i];
    model_scores.push_back(dot);
    human_scores.push_back(pair.score);
  }
  result.used = model_scores.size();
  result.spearman = spearman(model_scores, human_scores);
  return result;
}

AnalogyResult evaluate_analogies(const Model& model, const AnalogySet& set,
                                 std::uint32_t row_limit) {
  AnalogyResult result;
  const std::uint32_t rows = row_limit == 0 ? model.vocab_size() : row_limit;
  const auto in_rows = [&](const std::string& word) -> std::optional<std::uint32_t> {
    const auto id = find_lower(model, word);
    if (id && *id < rows) return id;
    return std::nullopt;
  };
  for (const AnalogyQuestion& question : set.questions) {
    const auto a = in_rows(question.a);
    const auto b = in_rows(question.b);
    const auto c = in_rows(question.c);
    const auto expected = in_rows(question.expected);
    if (!a || !b || !c || !expected) {
      ++result.skipped;
      continue;
    }
    const auto best = analogy(model, *a, *b, *c, 1, rows);
    const bool correct = !best.empty() && best.front().id == *expected;
    const bool syntactic = is_syntactic_section(set.sections[question.section]);
    ++result.answered;
    result.correct += correct;
    (syntactic ? result.syntactic_answered : result.semantic_answered) += 1;
    (syntactic ? result.syntactic_correct : result.semantic_correct) += correct;
  }
  return result;
}

}  // namespace embedding::models
