// Word-vector training core: the negative-sampling step against a hand-computed case, the
// negative and subsampling tables, n-gram hashing, corpus counting, determinism with one
// thread, related words ending up closer, and the subword section of the model file.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/models/model.h"
#include "core/models/model_builder.h"
#include "core/models/model_format.h"
#include "core/models/sentence_encoder.h"
#include "core/models/subwords.h"
#include "core/train/corpus.h"
#include "core/train/sampling.h"
#include "core/train/trainer.h"
#include "core/train/update.h"

namespace embedding::train {
namespace {

TEST(TrainStep, MatchesHandComputedGradient) {
  // input (1, 2), output (0.5, -0.25): f = 0; sigmoid 0.5; label 1, lr 0.1 -> g = 0.05.
  for (const UpdateKernels* k : {&scalar_update_kernels(), &update_kernels()}) {
    SigmoidTable table;
    const float input[2] = {1.0f, 2.0f};
    float output[2] = {0.5f, -0.25f};
    float grad[2] = {0.0f, 0.0f};
    const float loss = negative_sampling_step(*k, table, input, output, grad, true, 0.1f, 2);
    EXPECT_NEAR(loss, std::log(2.0), 1e-3) << k->name;
    EXPECT_NEAR(grad[0], 0.05 * 0.5, 1e-4);
    EXPECT_NEAR(grad[1], 0.05 * -0.25, 1e-4);
    EXPECT_NEAR(output[0], 0.5 + 0.05 * 1, 1e-4);
    EXPECT_NEAR(output[1], -0.25 + 0.05 * 2, 1e-4);
    // A negative with f = 2 * 1 = 2: g = (0 - sigmoid(2)) * 0.1.
    float out2[2] = {2.0f, 0.0f};
    float grad2[2] = {0.0f, 0.0f};
    const float loss2 = negative_sampling_step(*k, table, input, out2, grad2, false, 0.1f, 2);
    const double s = 1.0 / (1.0 + std::exp(-2.0));
    EXPECT_NEAR(loss2, -std::log(1.0 - s), 2e-3);
    EXPECT_NEAR(grad2[0], -s * 0.1 * 2.0, 1e-3);
    EXPECT_NEAR(out2[0], 2.0 - s * 0.1 * 1.0, 1e-3);
    EXPECT_NEAR(out2[1], -s * 0.1 * 2.0, 1e-3);
  }
}

TEST(TrainStep, AvxAndScalarKernelsAgreeOnOddLengths) {
  const UpdateKernels& a = scalar_update_kernels();
  const UpdateKernels& b = update_kernels();
  for (std::size_t n : {1u, 7u, 8u, 17u, 100u, 301u}) {
    std::vector<float> x(n), y(n), y2, g(n, 0.0f), g2;
    for (std::size_t i = 0; i < n; ++i) {
      x[i] = std::sin(static_cast<float>(i));
      y[i] = std::cos(static_cast<float>(i) * 0.7f);
    }
    EXPECT_NEAR(a.dot(x.data(), y.data(), n), b.dot(x.data(), y.data(), n), 1e-4);
    y2 = y;
    g2 = g;
    a.pair_step(x.data(), y.data(), g.data(), 0.3f, n);
    b.pair_step(x.data(), y2.data(), g2.data(), 0.3f, n);
    for (std::size_t i = 0; i < n; ++i) {
      EXPECT_NEAR(y[i], y2[i], 1e-6);
      EXPECT_NEAR(g[i], g2[i], 1e-6);
    }
  }
}

TEST(TrainSampling, NegativeTableFollowsUnigramToThreeQuarters) {
  // 81^0.75 = 27, 16^0.75 = 8, 1^0.75 = 1: shares 27/36, 8/36, 1/36.
  const NegativeTable table({81, 16, 1});
  EXPECT_EQ(table.size(), 3u);
  EXPECT_NEAR(table.probability(0), 27.0 / 36, 1e-6);
  EXPECT_NEAR(table.probability(1), 8.0 / 36, 1e-6);
  EXPECT_NEAR(table.probability(2), 1.0 / 36, 1e-6);
  // Draws follow the table.
  Rng rng(7);
  std::vector<double> drawn(3, 0.0);
  constexpr int kDraws = 360000;
  for (int i = 0; i < kDraws; ++i) drawn.at(table.draw(rng)) += 1.0;
  EXPECT_NEAR(drawn[0] / kDraws, 27.0 / 36, 5e-3);
  EXPECT_NEAR(drawn[1] / kDraws, 8.0 / 36, 5e-3);
  EXPECT_NEAR(drawn[2] / kDraws, 1.0 / 36, 2e-3);
  // A rare word keeps its share beside a very frequent one; another power changes the shares.
  const NegativeTable skewed({100000000, 1});
  EXPECT_NEAR(skewed.probability(1), 1.0 / (std::pow(1e8, 0.75) + 1.0), 1e-9);
  const NegativeTable square_root({81, 16, 1}, 0.5);
  EXPECT_NEAR(square_root.probability(0), 9.0 / 14, 1e-6);
}

TEST(TrainSampling, SubsamplingKeepsRareWordsAndThinsFrequentOnes) {
  // total 1000, t = 0.01: f = 0.9 -> keep (sqrt(90) + 1) / 90; f = 0.001 <= t -> always.
  const std::vector<std::uint32_t> keep = keep_thresholds({900, 99, 1}, 0.01);
  const double expected = (std::sqrt(0.9 / 0.01) + 1.0) * 0.01 / 0.9;
  EXPECT_NEAR(keep[0] / 4294967295.0, expected, 1e-6);
  EXPECT_EQ(keep[2], 0xFFFFFFFFu);
  EXPECT_EQ(keep_thresholds({900, 99, 1}, 0.0)[0], 0xFFFFFFFFu);
}

TEST(TrainSubwords, NgramsOfMarkedWordHashedWithFnv1a32) {
  EXPECT_EQ(models::subword_hash("a"), 0xe40c292cu);  // the FNV-1a 32 test vector
  std::vector<std::uint32_t> buckets;
  models::subword_buckets("ab", 3, 6, 1000003, &buckets);
  const std::vector<std::uint32_t> expected = {models::subword_hash("<ab") % 1000003,
                                               models::subword_hash("<ab>") % 1000003,
                                               models::subword_hash("ab>") % 1000003};
  EXPECT_EQ(buckets, expected);
  // Characters, not bytes: "<é>" is three characters (four bytes), one 3-gram.
  buckets.clear();
  models::subword_buckets("\xc3\xa9", 3, 6, 97, &buckets);
  ASSERT_EQ(buckets.size(), 1u);
  EXPECT_EQ(buckets[0], models::subword_hash("<\xc3\xa9>") % 97);
}

TEST(TrainCorpus, CountsSortsAndDropsRareWords) {
  CorpusBuilder builder(1 << 20);
  builder.add_row("The cat sat. the cat!");
  builder.add_row("");
  builder.add_row("dog");
  const Corpus corpus = builder.finish(2);
  ASSERT_EQ(corpus.words, (std::vector<std::string>{"the", "cat"}));
  EXPECT_EQ(corpus.counts, (std::vector<std::uint64_t>{2, 2}));
  EXPECT_EQ(corpus.tokens, (std::vector<std::uint32_t>{0, 1, 0, 1}));
  EXPECT_EQ(corpus.row_ends, (std::vector<std::uint64_t>{4}));  // "dog" row dropped
  EXPECT_EQ(corpus.rows_read, 3u);
}

TEST(TrainCorpus, ErrorsForNoWordsRareWordsAndMemory) {
  CorpusBuilder empty(1 << 20);
  empty.add_row("   ");
  EXPECT_THROW(empty.finish(1), Error);
  CorpusBuilder rare(1 << 20);
  rare.add_row("one two three");
  EXPECT_THROW(rare.finish(2), Error);
  CorpusBuilder small(1000);
  try {
    for (int i = 0; i < 1000; ++i) small.add_row("word" + std::to_string(i));
    FAIL() << "no memory error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kOutOfMemory);
  }
}

// Two topics that never share a row: words of one topic should end up closer to each other.
Corpus two_topics() {
  const std::vector<std::string> a = {"apple", "banana", "cherry", "grape", "mango", "peach"};
  const std::vector<std::string> b = {"engine", "wheel", "brake", "clutch", "piston", "gear"};
  CorpusBuilder builder(64 << 20);
  Rng rng(7);
  for (int row = 0; row < 800; ++row) {
    const auto& topic = row % 2 == 0 ? a : b;
    std::string text;
    for (int i = 0; i < 12; ++i) text += topic[rng.below(6)] + " ";
    builder.add_row(text);
  }
  return builder.finish(1);
}

double cosine(const std::vector<float>& v, std::size_t i, std::size_t j, std::size_t dims) {
  double dot = 0, ni = 0, nj = 0;
  for (std::size_t d = 0; d < dims; ++d) {
    dot += v[i * dims + d] * v[j * dims + d];
    ni += v[i * dims + d] * v[i * dims + d];
    nj += v[j * dims + d] * v[j * dims + d];
  }
  return dot / std::sqrt(ni * nj);
}

double topic_margin(const Corpus& corpus, const TrainResult& result) {
  const auto topic = [&](std::size_t w) {
    const std::string& s = corpus.words[w];
    return s == "apple" || s == "banana" || s == "cherry" || s == "grape" || s == "mango" ||
           s == "peach";
  };
  double same = 0, other = 0;
  int n_same = 0, n_other = 0;
  for (std::size_t i = 0; i < corpus.words.size(); ++i)
    for (std::size_t j = i + 1; j < corpus.words.size(); ++j) {
      const double c = cosine(result.vectors, i, j, result.dims);
      if (topic(i) == topic(j)) {
        same += c;
        ++n_same;
      } else {
        other += c;
        ++n_other;
      }
    }
  return same / n_same - other / n_other;
}

TEST(TrainModel, RelatedWordsEndUpCloserForEveryMethod) {
  const Corpus corpus = two_topics();
  for (const Method method : {Method::kSkipGram, Method::kCbow})
    for (const bool subwords : {false, true}) {
      TrainOptions options;
      options.method = method;
      options.subwords = subwords;
      options.dims = 20;
      options.epochs = 5;
      options.sample = 0;
      const TrainResult result = train(corpus, options);
      EXPECT_GT(topic_margin(corpus, result), 0.3)
          << (method == Method::kCbow ? "cbow" : "skipgram") << " subwords " << subwords;
    }
}

TEST(TrainModel, OneThreadIsDeterministicPerSeed) {
  const Corpus corpus = two_topics();
  TrainOptions options;
  options.dims = 16;
  options.sample = 0;
  options.subwords = true;
  const TrainResult first = train(corpus, options);
  const TrainResult again = train(corpus, options);
  EXPECT_EQ(first.vectors, again.vectors);
  EXPECT_EQ(first.subwords.values, again.subwords.values);
  options.seed = 2;
  EXPECT_NE(train(corpus, options).vectors, first.vectors);
  options.threads = 2;  // Hogwild: not bit-identical, but it must run and learn
  EXPECT_GT(topic_margin(corpus, train(corpus, options)), 0.3);
}

TEST(TrainModel, RefusesWhatDoesNotFitTheMemoryLimit) {
  const Corpus corpus = two_topics();
  TrainOptions options;
  options.memory_limit = 1000;
  try {
    train(corpus, options);
    FAIL() << "no memory error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kOutOfMemory);
  }
}

// A trained subword model as a model file: its word vectors and n-gram vectors.
models::WordVectors word_vectors(const Corpus& corpus, const TrainResult& result) {
  models::WordVectors source;
  source.dims = result.dims;
  source.words = corpus.words;
  source.values = result.vectors;
  return source;
}

std::vector<std::byte> subword_model_file(const Corpus& corpus, const TrainResult& result) {
  models::BuildOptions build;
  build.subwords = &result.subwords;
  return models::build_model(word_vectors(corpus, result), build);
}

TEST(TrainModel, SubwordModelFileAnswersUnseenWords) {
  const Corpus corpus = two_topics();
  TrainOptions options;
  options.dims = 8;
  options.subwords = true;
  options.buckets = 1000;
  const TrainResult result = train(corpus, options);
  std::vector<std::byte> bytes = subword_model_file(corpus, result);
  const models::Model model = models::Model::from_bytes(bytes);
  model.verify();
  ASSERT_TRUE(model.has_subwords());
  std::vector<float> unseen(8);
  ASSERT_TRUE(model.subword_vector("Bananas", unseen.data()));
  std::vector<std::uint32_t> buckets;
  models::subword_buckets("bananas", 3, 6, 1000, &buckets);
  for (std::size_t d = 0; d < 8; ++d) {
    double sum = 0;
    for (const std::uint32_t b : buckets) sum += result.subwords.values[b * 8 + d];
    EXPECT_NEAR(unseen[d], sum / buckets.size(), 1e-5);
  }
  // embed() gives the unseen word that vector too (normalised, less the common component);
  // next to a known word it adds to the sentence rather than being skipped.
  std::vector<float> sentence(8);
  models::EmbedStats stats;
  ASSERT_TRUE(models::embed_text(model, "Bananas", sentence, &stats));
  EXPECT_EQ(stats.subword_tokens, 1u);
  const std::span<const float> u = model.common_component();
  double projection = 0, norm = 0;
  for (std::size_t d = 0; d < 8; ++d) projection += unseen[d] * u[d];
  for (std::size_t d = 0; d < 8; ++d) norm += std::pow(unseen[d] - projection * u[d], 2);
  for (std::size_t d = 0; d < 8; ++d)
    EXPECT_NEAR(sentence[d], (unseen[d] - projection * u[d]) / std::sqrt(norm), 1e-4);
  std::vector<float> known(8), both(8);
  ASSERT_TRUE(models::embed_text(model, corpus.words[0], known));
  ASSERT_TRUE(models::embed_text(model, corpus.words[0] + " bananas", both, &stats));
  EXPECT_EQ(stats.known_tokens, 1u);
  EXPECT_EQ(stats.subword_tokens, 1u);
  EXPECT_NE(known, both);
  // A flipped byte in the n-gram vectors is caught by the checksum.
  bytes[bytes.size() - 5] ^= std::byte{1};
  EXPECT_THROW(models::Model::from_bytes(bytes).verify(), Error);
  // A model without subwords has none to offer.
  EXPECT_FALSE(
      models::Model::from_bytes(models::build_model(word_vectors(corpus, result))).has_subwords());
}

// The subwords entry of the header is checked on open: absent means all zero, present means
// inside the file, after the other sections, with the size buckets x dims says.
TEST(TrainModel, HeaderRefusesInconsistentSubwordsEntry) {
  const Corpus corpus = two_topics();
  TrainOptions options;
  options.dims = 4;
  options.subwords = true;
  options.buckets = 64;
  options.epochs = 1;
  const std::vector<std::byte> good = subword_model_file(corpus, train(corpus, options));
  const auto with_header = [&](auto change) {
    std::vector<std::byte> bytes = good;
    models::FileHeader header;
    std::memcpy(&header, bytes.data(), sizeof header);
    change(header);
    header.header_checksum = models::compute_header_checksum(header);
    std::memcpy(bytes.data(), &header, sizeof header);
    return bytes;
  };
  EXPECT_NO_THROW(models::read_header(good));
  EXPECT_THROW(
      models::read_header(with_header([](models::FileHeader& h) { h.subword_buckets = 65; })),
      Error);
  EXPECT_THROW(models::read_header(with_header([](models::FileHeader& h) { h.subword_min_n = 0; })),
               Error);
  EXPECT_THROW(
      models::read_header(with_header([](models::FileHeader& h) { h.subwords.offset -= 64; })),
      Error);
  EXPECT_THROW(models::read_header(with_header([](models::FileHeader& h) {
                 h.subword_buckets = 0;  // entry left behind without buckets
               })),
               Error);
}

}  // namespace
}  // namespace embedding::train
