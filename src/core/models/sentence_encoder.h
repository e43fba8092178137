// embed(text): the SIF sentence vector of a text under a model (tokenise, weight, average,
// remove the common component, normalise). Depends on nothing but the text and the model file.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/models/model.h"

namespace embedding::models {

struct EmbedStats {
  std::size_t tokens = 0;          // tokens produced by the tokeniser
  std::size_t known_tokens = 0;    // tokens (or hyphen parts) found in the vocabulary
  std::size_t subword_tokens = 0;  // others given their n-gram vector (models with subwords)
};

// Sentence vector (Arora et al. 2017, "SIF"):
//   s = sum over known tokens w of  weight_w * v_w,    weight_w = a / (a + p(w))  (see sif.h)
//   s = s - (s . u) u,                                  u = the model's common component
//   result = s / |s|
// v_w is the RAW word vector (norm_w * unit row), as in the SIF paper: the norm carries how
// confidently GloVe places a word, and the paper's results are for raw vectors. The 1/|text|
// factor of the paper is left out because the final normalisation cancels it.
// Tokens come from text::Tokenizer; a hyphenated token missing from the vocabulary contributes
// its parts instead ("blue-green" -> "blue", "green"); unknown tokens are skipped, but for a
// model trained with subwords, which gives them the mean of their n-gram vectors (as
// word_vector() does), weighted as its rarest word.
// Returns false, leaving out unspecified, when no token is known (or the result is the zero
// vector); the SQL layer turns that into NULL. out.size() must equal model.dims(). A result that
// is not finite (only an unverified, corrupt model gives one) throws Error(kDataException).
bool embed_text(const Model& model, std::string_view text, std::span<float> out,
                EmbedStats* stats = nullptr);

std::optional<std::vector<float>> embed_text(const Model& model, std::string_view text);

}  // namespace embedding::models
