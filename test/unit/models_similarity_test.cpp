// most_similar() and analogy(): brute-force top-k against a double-precision reference,
// exclusions, restricted rows, ties and edge cases, and 3CosAdd on the toy model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/io/mapped_file.h"
#include "core/models/loaders.h"
#include "core/models/model.h"
#include "core/models/model_builder.h"
#include "core/models/similarity.h"

#include "toy_model.h"

namespace embedding::models {
namespace {

Model random_model(std::uint32_t vocab, std::uint32_t dims, unsigned seed) {
  WordVectors source;
  source.dims = dims;
  std::mt19937 random(seed);
  std::normal_distribution<float> normal;
  for (std::uint32_t w = 0; w < vocab; ++w) {
    source.words.push_back("w" + std::to_string(w));
    for (std::uint32_t i = 0; i < dims; ++i) source.values.push_back(normal(random));
  }
  return Model::from_bytes(build_model(source));
}

std::vector<std::uint32_t> ids(const std::vector<Neighbour>& neighbours) {
  std::vector<std::uint32_t> out;
  for (const auto& n : neighbours) out.push_back(n.id);
  return out;
}

TEST(Similarity, MatchesADoublePrecisionReference) {
  const Model model = random_model(500, 13, 5);
  std::mt19937 random(9);
  std::normal_distribution<float> normal;
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<float> query(13);
    for (auto& x : query) x = normal(random);
    double qn = 0;
    for (float x : query) qn += double(x) * x;
    std::vector<double> reference(500);
    for (std::uint32_t id = 0; id < 500; ++id) {
      double d = 0;
      for (int i = 0; i < 13; ++i) d += double(query[i]) * model.unit_vector(id)[i];
      reference[id] = d / std::sqrt(qn);
    }
    std::vector<std::uint32_t> order(500);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&](auto a, auto b) { return reference[a] > reference[b]; });
    const auto result = most_similar(model, query, 10);
    ASSERT_EQ(result.size(), 10u);
    EXPECT_EQ(ids(result), std::vector<std::uint32_t>(order.begin(), order.begin() + 10));
    for (const auto& n : result) EXPECT_NEAR(n.similarity, reference[n.id], 1e-5);
  }
}

TEST(Similarity, WordNeighboursExcludeTheWordItself) {
  const Model model = toy_model();
  const auto cat = *model.find("cat");
  const auto result = most_similar_to_word(model, cat, 3);
  ASSERT_EQ(result.size(), 3u);
  EXPECT_EQ(model.word(result[0].id), "dog");
  for (const auto& n : result) EXPECT_NE(n.id, cat);
  EXPECT_GT(result[0].similarity, result[1].similarity);
  EXPECT_GE(result[1].similarity, result[2].similarity);
}

TEST(Similarity, ExclusionsRowLimitAndK) {
  const Model model = random_model(100, 8, 3);
  const auto query = std::span<const float>(model.unit_vector(42), 8);
  EXPECT_EQ(most_similar(model, query, 1)[0].id, 42u);
  EXPECT_NEAR(most_similar(model, query, 1)[0].similarity, 1.0, 1e-6);
  const std::uint32_t exclude[] = {42, 7};
  for (const auto& n : most_similar(model, query, 100, exclude)) {
    EXPECT_NE(n.id, 42u);
    EXPECT_NE(n.id, 7u);
  }
  EXPECT_EQ(most_similar(model, query, 100, exclude).size(), 98u);
  EXPECT_EQ(most_similar(model, query, 1000).size(), 100u);
  EXPECT_TRUE(most_similar(model, query, 0).empty());
  const auto limited = most_similar(model, query, 100, {}, 30);
  EXPECT_EQ(limited.size(), 30u);
  for (const auto& n : limited) EXPECT_LT(n.id, 30u);
}

TEST(Similarity, TiesGoToTheMoreFrequentWord) {
  WordVectors source;
  source.dims = 2;
  source.words = {"a", "b", "c", "d"};
  source.values = {0, 1, 1, 0, 2, 0, 0.5f, 0};  // b, c and d point the same way
  const Model model = Model::from_bytes(build_model(source));
  const float query[] = {1, 0};
  EXPECT_EQ(ids(most_similar(model, query, 2)), (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(ids(most_similar(model, query, 4)), (std::vector<std::uint32_t>{1, 2, 3, 0}));
}

TEST(Similarity, DegenerateQueries) {
  const Model model = toy_model();
  const std::vector<float> zero(4, 0.0f), bad{1, NAN, 0, 0}, short_query(3, 1.0f);
  EXPECT_TRUE(most_similar(model, zero, 5).empty());
  EXPECT_TRUE(most_similar(model, bad, 5).empty());
  EXPECT_THROW(most_similar(model, short_query, 5), Error);
  EXPECT_THROW(most_similar_to_word(model, 14, 5), Error);
  EXPECT_THROW(analogy(model, 0, 1, 99, 5), Error);
}

TEST(Similarity, AnalogyManKingWomanIsQueen) {
  const Model model = toy_model();
  const auto result =
      analogy(model, *model.find("man"), *model.find("king"), *model.find("woman"), 3);
  ASSERT_FALSE(result.empty());
  EXPECT_EQ(model.word(result[0].id), "queen");
  for (const auto& n : result) {
    EXPECT_NE(model.word(n.id), "man");
    EXPECT_NE(model.word(n.id), "king");
    EXPECT_NE(model.word(n.id), "woman");
  }
  // Restricted to the 4 most frequent words, queen (id 4) is out of reach.
  const auto limited =
      analogy(model, *model.find("man"), *model.find("king"), *model.find("woman"), 3, 4);
  EXPECT_EQ(ids(limited), (std::vector<std::uint32_t>{0}));
}

}  // namespace
}  // namespace embedding::models
