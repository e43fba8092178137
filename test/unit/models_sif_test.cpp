// SIF pooling: Zipf probabilities, weights, the common component (checked as an eigenvector),
// and embed_text() on the toy model (weighting, common-component removal, no-result cases).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/io/mapped_file.h"
#include "core/models/loaders.h"
#include "core/models/model.h"
#include "core/models/model_builder.h"
#include "core/models/sentence_encoder.h"
#include "core/models/sif.h"

#include "probes.h"
#include "toy_model.h"

namespace embedding::models {
namespace {

double dot(std::span<const float> a, std::span<const float> b) {
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) sum += double(a[i]) * b[i];
  return sum;
}

// The SIF definition written out directly from the model's stored data.
std::vector<float> expected_embedding(const Model& model, const std::vector<std::string>& words) {
  std::vector<double> sum(model.dims(), 0.0);
  for (const std::string& word : words) {
    const std::uint32_t id = *model.find(word);
    for (std::uint32_t i = 0; i < model.dims(); ++i) {
      sum[i] += double(model.sif_weight(id)) * model.norm(id) * model.unit_vector(id)[i];
    }
  }
  const auto u = model.common_component();
  double projection = 0, squared = 0;
  for (std::uint32_t i = 0; i < model.dims(); ++i) projection += sum[i] * u[i];
  for (std::uint32_t i = 0; i < model.dims(); ++i) {
    sum[i] -= projection * u[i];
    squared += sum[i] * sum[i];
  }
  std::vector<float> out(model.dims());
  for (std::uint32_t i = 0; i < model.dims(); ++i) out[i] = float(sum[i] / std::sqrt(squared));
  return out;
}

void expect_close(const std::vector<float>& actual, const std::vector<float>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual[i], expected[i], 1e-6) << i;
}

TEST(Sif, HarmonicNumbersAndZipfProbabilities) {
  EXPECT_DOUBLE_EQ(harmonic_number(1), 1.0);
  EXPECT_DOUBLE_EQ(harmonic_number(4), 25.0 / 12.0);
  const double n = 341479;
  EXPECT_NEAR(harmonic_number(341479), std::log(n) + 0.5772156649 + 1 / (2 * n), 1e-9);
  const double h = harmonic_number(1000);
  double total = 0;
  for (int rank = 1; rank <= 1000; ++rank) total += zipf_probability(rank, h);
  EXPECT_NEAR(total, 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(zipf_probability(2, h) * 2, zipf_probability(1, h));
}

TEST(Sif, WeightsFollowTheFormulaAndGrowWithRank) {
  const auto weights = sif_weights(1000, 1e-3);
  const double h = harmonic_number(1000);
  for (int id = 0; id < 1000; ++id) {
    EXPECT_FLOAT_EQ(weights[id], float(1e-3 / (1e-3 + 1.0 / ((id + 1) * h))));
    if (id > 0) {
      EXPECT_GT(weights[id], weights[id - 1]);
    }
  }
  EXPECT_LT(weights[0], 0.01f);  // "the"-like words barely count
  EXPECT_GT(weights[999], 0.85f);
}

TEST(Sif, CommonComponentIsTheTopEigenvectorOfTheSecondMoment) {
  const std::uint32_t vocab = 200, dims = 5;
  std::mt19937 random(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> unit(vocab * dims), norms(vocab);
  for (std::uint32_t w = 0; w < vocab; ++w) {
    double squared = 0;
    for (std::uint32_t i = 0; i < dims; ++i) {
      unit[w * dims + i] = normal(random) + (i == 0 ? 1.5f : 0.0f);  // a shared direction
      squared += double(unit[w * dims + i]) * unit[w * dims + i];
    }
    for (std::uint32_t i = 0; i < dims; ++i) unit[w * dims + i] /= float(std::sqrt(squared));
    norms[w] = 1.0f + float(w % 7);
  }
  const auto weights = sif_weights(vocab, 1e-3);
  const double n = 20;
  const auto u = common_component(unit.data(), norms.data(), weights.data(), vocab, dims, n);
  // C = (1/n) sum p x x^T + (1 - 1/n) m m^T, written out here independently.
  const double h = harmonic_number(vocab);
  std::vector<double> c(dims * dims, 0.0), m(dims, 0.0);
  for (std::uint32_t w = 0; w < vocab; ++w) {
    const double p = zipf_probability(w + 1, h);
    for (std::uint32_t i = 0; i < dims; ++i) {
      const double xi = double(weights[w]) * norms[w] * unit[w * dims + i];
      m[i] += p * xi;
      for (std::uint32_t j = 0; j < dims; ++j) {
        c[i * dims + j] += p * xi * double(weights[w]) * norms[w] * unit[w * dims + j] / n;
      }
    }
  }
  for (std::uint32_t i = 0; i < dims; ++i)
    for (std::uint32_t j = 0; j < dims; ++j) c[i * dims + j] += (1 - 1 / n) * m[i] * m[j];
  const auto rayleigh = [&](const std::vector<double>& v) {
    double numerator = 0, denominator = 0;
    for (std::uint32_t i = 0; i < dims; ++i) {
      for (std::uint32_t j = 0; j < dims; ++j) numerator += v[i] * c[i * dims + j] * v[j];
      denominator += v[i] * v[i];
    }
    return numerator / denominator;
  };
  const std::vector<double> ud(u.begin(), u.end());
  const double lambda = rayleigh(ud);
  for (std::uint32_t i = 0; i < dims; ++i) {  // C u = lambda u
    double cu = 0;
    for (std::uint32_t j = 0; j < dims; ++j) cu += c[i * dims + j] * ud[j];
    EXPECT_NEAR(cu, lambda * ud[i], 1e-6 * lambda);
  }
  for (int trial = 0; trial < 200; ++trial) {  // no direction has a larger Rayleigh quotient
    std::vector<double> v(dims);
    for (auto& x : v) x = normal(random);
    EXPECT_LE(rayleigh(v), lambda * (1 + 1e-9));
  }
  double um = 0;
  for (std::uint32_t i = 0; i < dims; ++i) um += ud[i] * m[i];
  EXPECT_GT(um, 0.0);  // sign convention
}

TEST(Sif, ZeroVectorsGiveNoCommonComponent) {
  const std::vector<float> unit(6, 0.0f), norms(2, 0.0f), weights(2, 0.5f);
  for (float x : common_component(unit.data(), norms.data(), weights.data(), 2, 3, 20)) {
    EXPECT_EQ(x, 0.0f);
  }
}

TEST(Embed, TextWithoutKnownWordsHasNoResult) {
  const Model model = toy_model();
  EXPECT_FALSE(embed_text(model, "").has_value());
  EXPECT_FALSE(embed_text(model, "   \n\t").has_value());
  EXPECT_FALSE(embed_text(model, "emperor zebra ?!").has_value());
  EmbedStats stats;
  std::vector<float> out(model.dims());
  EXPECT_FALSE(embed_text(model, "zebra, emperor", out, &stats));
  EXPECT_EQ(stats.tokens, 3u);
  EXPECT_EQ(stats.known_tokens, 0u);
}

TEST(Embed, IsTheSifWeightedAverageWithoutTheCommonComponent) {
  const Model model = toy_model();
  expect_close(*embed_text(model, "king"), expected_embedding(model, {"king"}));
  expect_close(*embed_text(model, "The king and the queen"),
               expected_embedding(model, {"the", "king", "the", "queen"}));
  const auto v = *embed_text(model, "cat dog blue");
  EXPECT_NEAR(dot(v, v), 1.0, 1e-6);
  EXPECT_NEAR(dot(v, model.common_component()), 0.0, 1e-6);
}

TEST(Embed, FrequentWordsWeighLess) {
  const Model model = toy_model();
  // "the" (rank 1) barely moves the vector; "green" (rank 9) moves it a lot more.
  const auto cat = *embed_text(model, "cat");
  EXPECT_GT(dot(*embed_text(model, "cat the"), cat), dot(*embed_text(model, "cat green"), cat));
}

TEST(Embed, CaseOrderAndRepetitionDoNotChangeTheDirection) {
  const Model model = toy_model();
  expect_close(*embed_text(model, "KING Queen"), *embed_text(model, "queen king"));
  expect_close(*embed_text(model, "king king king"), *embed_text(model, "king"));
  expect_close(*embed_text(model, "king, (emperor)!"), *embed_text(model, "king"));
}

TEST(Embed, HyphenatedWordsFallBackToTheirParts) {
  const Model model = toy_model();
  expect_close(*embed_text(model, "blue-green"), expected_embedding(model, {"blue", "green"}));
  expect_close(*embed_text(model, "well-known"), expected_embedding(model, {"well-known"}));
  EmbedStats stats;
  std::vector<float> out(model.dims());
  ASSERT_TRUE(embed_text(model, "blue-zebra-green", out, &stats));
  EXPECT_EQ(stats.tokens, 1u);
  EXPECT_EQ(stats.known_tokens, 2u);
}

// A 10 MB hyphenated word (too long for any vocabulary) contributes its parts exactly as a short
// one does, counts as one token, and is read with bounded buffers; a 10 MB plain word is unknown.
TEST(Embed, LongWordsContributeTheirPartsWithSmallBuffers) {
  const Model model = toy_model();
  std::string hyphenated, spaced;
  while (hyphenated.size() < (10u << 20)) {
    hyphenated += "blue-zebra-Green-";
    spaced += "blue zebra green ";
  }
  hyphenated += std::string(100000, 'x') + "-cat";
  spaced += "cat";
  const std::string plain = "king " + std::string(10u << 20, 'x') + "n't";
  std::vector<float> out(model.dims());
  EmbedStats stats;
  {
    embedding::testing::AllocProbe probe;
    ASSERT_TRUE(embed_text(model, hyphenated, out, &stats));
    EXPECT_LT(probe.largest(), 1u << 20);
  }
  EXPECT_EQ(stats.tokens, 1u);
  EXPECT_EQ(out, *embed_text(model, spaced));
  {
    embedding::testing::AllocProbe probe;
    ASSERT_TRUE(embed_text(model, plain, out, &stats));
    EXPECT_LT(probe.largest(), 1u << 20);
  }
  EXPECT_EQ(stats.tokens, 3u);  // "king", the long word, "n't"
  EXPECT_EQ(stats.known_tokens, 2u);
  EXPECT_EQ(out, *embed_text(model, "king n't"));
}

TEST(Embed, CliticsAreLookedUpSeparately) {
  const Model model = toy_model();
  expect_close(*embed_text(model, "Don't"), expected_embedding(model, {"do", "n't"}));
  expect_close(*embed_text(model, "cat's"), expected_embedding(model, {"cat", "'s"}));
}

TEST(Embed, IsDeterministicAndChecksTheOutputSize) {
  const Model model = toy_model();
  EXPECT_EQ(*embed_text(model, "the café dog"), *embed_text(model, "the café dog"));
  std::vector<float> wrong(3);
  EXPECT_THROW(embed_text(model, "dog", wrong), Error);
}

}  // namespace
}  // namespace embedding::models
