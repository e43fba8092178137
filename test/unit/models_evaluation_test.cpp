// Evaluation helpers: dataset parsers, Spearman with tied ranks, and both protocols on the toy
// model (the full-model figures are checked in models_eval_test.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/common/error.h"
#include "core/io/mapped_file.h"
#include "core/models/evaluation.h"
#include "core/models/loaders.h"
#include "core/models/model_builder.h"

#include "toy_model.h"

namespace embedding::models {
namespace {

TEST(Evaluation, SpearmanUsesAverageRanksForTies) {
  const std::vector<double> x{1, 2, 2, 3}, y{1, 3, 2, 4};
  // ranks x = 1, 2.5, 2.5, 4; y = 1, 3, 2, 4  ->  4.5 / sqrt(4.5 * 5)
  EXPECT_NEAR(spearman(x, y), 4.5 / std::sqrt(22.5), 1e-12);
  const std::vector<double> up{10, 20, 30}, down{3, 2, 1}, flat{1, 1, 1};
  EXPECT_DOUBLE_EQ(spearman(up, up), 1.0);
  EXPECT_DOUBLE_EQ(spearman(up, down), -1.0);
  EXPECT_TRUE(std::isnan(spearman(up, flat)));
  EXPECT_TRUE(std::isnan(spearman(std::vector<double>{1}, std::vector<double>{2})));
}

TEST(Evaluation, ParsesWordPairs) {
  const auto pairs = parse_word_pairs(
      "# comment\n# Word 1\tWord 2\tScore\nTiger\tcat\t7.35\r\n\nold\tnew\t1.58\n");
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].first, "Tiger");
  EXPECT_EQ(pairs[0].second, "cat");
  EXPECT_DOUBLE_EQ(pairs[0].score, 7.35);
  EXPECT_DOUBLE_EQ(pairs[1].score, 1.58);
  EXPECT_THROW(parse_word_pairs("a\tb\n"), Error);
  EXPECT_THROW(parse_word_pairs("a\tb\tx\n"), Error);
}

TEST(Evaluation, ParsesAnalogySections) {
  const auto set = parse_analogies(
      ": capital-common-countries\nAthens Greece Baghdad Iraq\n"
      ": gram1-adjective-to-adverb\namazing amazingly apparent apparently\n");
  ASSERT_EQ(set.sections.size(), 2u);
  ASSERT_EQ(set.questions.size(), 2u);
  EXPECT_EQ(set.questions[0].c, "Baghdad");
  EXPECT_EQ(set.questions[1].section, 1u);
  EXPECT_FALSE(is_syntactic_section(set.sections[0]));
  EXPECT_TRUE(is_syntactic_section(set.sections[1]));
  EXPECT_THROW(parse_analogies("a b c d\n"), Error);
  EXPECT_THROW(parse_analogies(": s\na b c\n"), Error);
}

TEST(Evaluation, ProtocolsOnTheToyModel) {
  const Model model = toy_model();
  // Similar pairs get high human scores: the model ranks them the same way.
  const auto pairs = parse_word_pairs(
      "King\tqueen\t5\ncat\tdog\t9\nblue\tgreen\t8\n"
      "cat\tking\t1\nzebra\tcat\t5\n");
  const PairResult pair_result = evaluate_word_pairs(model, pairs);
  EXPECT_EQ(pair_result.used, 4u);
  EXPECT_EQ(pair_result.total, 5u);
  EXPECT_GT(pair_result.spearman, 0.7);

  const auto set = parse_analogies(
      ": family\nman king woman queen\nman woman king queen\n"
      "man king woman emperor\n: gram-test\nking queen man woman\n");
  const AnalogyResult all = evaluate_analogies(model, set, 0);
  EXPECT_EQ(all.answered, 3u);
  EXPECT_EQ(all.skipped, 1u);
  EXPECT_EQ(all.semantic_answered, 2u);
  EXPECT_EQ(all.syntactic_answered, 1u);
  EXPECT_EQ(all.semantic_correct, 2u);
  EXPECT_EQ(all.syntactic_correct, 1u);
  EXPECT_DOUBLE_EQ(all.accuracy(), 1.0);
  // With only the 4 most frequent words, every question has a word outside: all skipped.
  const AnalogyResult limited = evaluate_analogies(model, set, 4);
  EXPECT_EQ(limited.answered, 0u);
  EXPECT_EQ(limited.skipped, 4u);
}

}  // namespace
}  // namespace embedding::models
