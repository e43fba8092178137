// libFuzzer target: the word2vec binary loader on arbitrary bytes (see loader_fuzz.h).
#include "loader_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return fuzz_loader(data, size, embedding::models::SourceFormat::kWord2vecBinary);
}
