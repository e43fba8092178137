// embedding_convert: converts external word vectors (wink JSON, word2vec text/binary, GloVe,
// fastText .vec) into our mmap-able model file, then re-opens and fully verifies the result.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "core/common/error.h"
#include "core/models/loaders.h"
#include "core/models/model.h"
#include "core/models/model_builder.h"

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: embedding_convert --format FORMAT INPUT OUTPUT [--sif-a A]\n"
               "                         [--sentence-length N]\n"
               "FORMAT: wink | word2vec | word2vec-binary | glove | fasttext\n"
               "Writes OUTPUT atomically (temporary file + rename) and verifies it.\n");
  return 2;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace embedding::models;
  std::string format_name, input, output;
  BuildOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--format" && has_value) {
      format_name = argv[++i];
    } else if (arg == "--sif-a" && has_value) {
      options.sif_a = std::strtod(argv[++i], nullptr);
    } else if (arg == "--sentence-length" && has_value) {
      options.reference_sentence_length = std::strtod(argv[++i], nullptr);
    } else if (!arg.starts_with("--") && input.empty()) {
      input = arg;
    } else if (!arg.starts_with("--") && output.empty()) {
      output = arg;
    } else {
      return usage();
    }
  }
  const auto format = parse_source_format(format_name);
  if (!format || input.empty() || output.empty() || !(options.sif_a > 0.0) ||
      !(options.reference_sentence_length >= 1.0)) {
    return usage();
  }
  try {
    const auto start = std::chrono::steady_clock::now();
    const WordVectors vectors = load_word_vectors_file(input, *format);
    const double load_seconds = seconds_since(start);
    const auto bytes = build_model(vectors, options);
    const double build_seconds = seconds_since(start) - load_seconds;
    write_file_atomically(output, bytes);
    const Model model = Model::open_file(output);
    model.verify();
    std::printf(
        "%s: %u words x %u dims (%zu duplicates, %zu invalid words skipped) from %s\n"
        "%zu bytes; load %.2f s, build %.2f s, total %.2f s\n",
        output.c_str(), model.vocab_size(), model.dims(), vectors.skipped_duplicates,
        vectors.skipped_invalid, source_format_name(*format), bytes.size(), load_seconds,
        build_seconds, seconds_since(start));
    return 0;
  } catch (const embedding::Error& error) {
    std::fprintf(stderr, "embedding_convert: %s%s%s\n", error.what(),
                 error.detail().empty() ? "" : ": ", error.detail().c_str());
  } catch (const std::exception& error) {
    std::fprintf(stderr, "embedding_convert: %s\n", error.what());
  }
  return 1;
}
