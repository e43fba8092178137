// eval_tool: prints the intrinsic evaluation figures of a model file (WordSim-353 and
// SimLex-999 Spearman, Google analogy accuracy over the 30,000 most frequent words,
// king-man+woman). usage: eval_tool [MODEL_FILE]   (default $EMBEDDING_MODEL_FILE); data from
// $EMBEDDING_EVAL_DATA, else ../shared/data beside the source tree.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "core/common/error.h"
#include "core/io/mapped_file.h"
#include "core/models/evaluation.h"
#include "core/models/model.h"
#include "core/models/similarity.h"

int main(int argc, char** argv) {
  using namespace embedding::models;
  using embedding::io::read_file;
  const char* model_env = std::getenv("EMBEDDING_MODEL_FILE");
  const std::string model_path = argc > 1 ? argv[1] : (model_env ? model_env : "");
  const char* data_env = std::getenv("EMBEDDING_EVAL_DATA");
  const std::string data_dir = data_env ? data_env : EMB_SOURCE_DIR "/../shared/data";
  if (model_path.empty()) {
    std::fprintf(stderr, "usage: eval_tool MODEL_FILE (or set EMBEDDING_MODEL_FILE)\n");
    return 2;
  }
  try {
    const auto start = std::chrono::steady_clock::now();
    const Model model = Model::open_file(model_path);
    std::printf("model: %s (%u words x %u dims)\n", model_path.c_str(), model.vocab_size(),
                model.dims());
    for (const char* name : {"wordsim353.tsv", "simlex999.txt"}) {
      const auto pairs = parse_word_pairs(read_file(data_dir + "/" + name));
      const PairResult result = evaluate_word_pairs(model, pairs);
      std::printf("%-16s Spearman %.4f on %zu/%zu pairs\n", name, result.spearman, result.used,
                  result.total);
    }
    const AnalogySet set = parse_analogies(read_file(data_dir + "/questions-words.txt"));
    const AnalogyResult analogies = evaluate_analogies(model, set, 30000);
    std::printf(
        "analogies (3CosAdd, top 30000 words): accuracy %.4f on %zu questions (%zu skipped); "
        "semantic %.4f (%zu), syntactic %.4f (%zu)\n",
        analogies.accuracy(), analogies.answered, analogies.skipped, analogies.semantic_accuracy(),
        analogies.semantic_answered, analogies.syntactic_accuracy(), analogies.syntactic_answered);
    const auto man = model.find("man"), king = model.find("king"), woman = model.find("woman");
    if (man && king && woman) {
      std::printf("king - man + woman:");
      for (const Neighbour& n : analogy(model, *man, *king, *woman, 5)) {
        std::printf(" %.*s (%.3f)", static_cast<int>(model.word(n.id).size()),
                    model.word(n.id).data(), n.similarity);
      }
      std::printf("\n");
    }
    std::printf("elapsed %.2f s\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return 0;
  } catch (const embedding::Error& error) {
    std::fprintf(stderr, "eval_tool: %s%s%s\n", error.what(), error.detail().empty() ? "" : ": ",
                 error.detail().c_str());
  } catch (const std::exception& error) {
    std::fprintf(stderr, "eval_tool: %s\n", error.what());
  }
  return 1;
}
