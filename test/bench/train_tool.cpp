// train_tool: trains word vectors on a text file (one row a line) with the core trainer alone,
// for profiling and quick quality checks without a cluster; writes word2vec text format.
// usage: train_tool CORPUS OUTPUT.vec [skipgram|cbow] [EPOCHS] [THREADS] [subwords] [DIMS]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <fstream>
#include <string>

#include "core/train/corpus.h"
#include "core/train/trainer.h"

int main(int argc, char** argv) {
  using namespace embedding::train;
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: train_tool CORPUS OUTPUT [skipgram|cbow] [EPOCHS] [THREADS] "
                 "[subwords] [DIMS]\n");
    return 2;
  }
  try {
    TrainOptions options;
    options.method = argc > 3 && std::string(argv[3]) == "cbow" ? Method::kCbow : Method::kSkipGram;
    options.epochs = argc > 4 ? static_cast<std::uint32_t>(std::atoi(argv[4])) : 5;
    options.threads = argc > 5 ? std::atoi(argv[5]) : 2;
    options.subwords = argc > 6 && std::string(argv[6]) == "subwords";
    options.dims = argc > 7 ? static_cast<std::uint32_t>(std::atoi(argv[7])) : 100;
    options.memory_limit = std::size_t{8} << 30;
    if (const char* power = std::getenv("EMB_TRAIN_NEGATIVE_POWER"))
      options.negative_power = std::atof(power);
    const auto start = std::chrono::steady_clock::now();
    CorpusBuilder builder(std::size_t{8} << 30);
    std::ifstream in(argv[1]);
    for (std::string line; std::getline(in, line);) builder.add_row(line);
    const Corpus corpus = builder.finish(5);
    std::fprintf(stderr, "corpus: %zu words, vocabulary %zu\n", corpus.tokens.size(),
                 corpus.words.size());
    const std::clock_t cpu_start = std::clock();
    const TrainResult result = train(corpus, options, [](const TrainProgress& p) {
      std::fprintf(stderr, "epoch %u/%u %.0f words/s loss %.4f\n", p.epoch, p.epochs,
                   p.words_per_second, p.loss);
    });
    const double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    std::printf("words/s %.0f train_s %.2f cpu_s %.2f loss %.4f total_s %.2f\n",
                result.words_per_second, result.seconds, cpu, result.loss,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    std::FILE* out = std::fopen(argv[2], "w");
    if (out == nullptr) throw std::runtime_error("cannot write the output");
    std::fprintf(out, "%zu %u\n", corpus.words.size(), result.dims);
    for (std::size_t w = 0; w < corpus.words.size(); ++w) {
      std::fputs(corpus.words[w].c_str(), out);
      for (std::uint32_t i = 0; i < result.dims; ++i)
        std::fprintf(out, " %.6g", result.vectors[w * result.dims + i]);
      std::fputc('\n', out);
    }
    std::fclose(out);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_tool: %s\n", e.what());
    return 1;
  }
  return 0;
}
