// libFuzzer target: tokenising and embedding arbitrary text with a small fixed model never
// crashes, and every result is a unit vector orthogonal to the common component.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/models/model.h"
#include "core/models/model_builder.h"
#include "core/models/sentence_encoder.h"
#include "core/text/tokenizer.h"

using namespace embedding::models;

namespace {

const Model& toy_model() {
  static const Model model = [] {
    WordVectors source;
    source.dims = 3;
    source.words = {"the",   ",",    ".",    "do", "n't", "'s", "well-known", "well",
                    "known", "3.14", "café", "\"", "’",   "-",  "a"};
    for (std::size_t i = 0; i < source.words.size(); ++i) {
      source.values.insert(source.values.end(), {float(i % 3) - 1.0f, float(i) * 0.25f, 1.0f});
    }
    return Model::from_bytes(build_model(source));
  }();
  return model;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  embedding::text::Tokenizer tokenizer(text);
  embedding::text::Token token;
  std::size_t tokens = 0;
  while (tokenizer.next(&token)) {
    if (token.text.empty() || ++tokens > size) std::abort();  // progress on every token
  }
  const Model& model = toy_model();
  const auto vector = embed_text(model, text);
  if (vector) {
    double squared = 0, along = 0;
    for (std::size_t i = 0; i < vector->size(); ++i) {
      squared += double((*vector)[i]) * (*vector)[i];
      along += double((*vector)[i]) * model.common_component()[i];
    }
    if (std::fabs(squared - 1) > 1e-4 || std::fabs(along) > 1e-4) std::abort();
  }
  return 0;
}
