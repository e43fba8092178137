// SIF sentence embedding. Accumulates in double with plain loops (no run-time kernel dispatch),
// so the result is bit-identical on every CPU for a given build.
#include "core/models/sentence_encoder.h"

#include <cmath>

#include "core/common/error.h"
#include "core/common/finite.h"
#include "core/common/interrupt.h"
#include "core/text/tokenizer.h"
#include "core/vector/normalize.h"

namespace embedding::models {

bool embed_text(const Model& model, std::string_view text, std::span<float> out,
                EmbedStats* stats) {
  const std::uint32_t dims = model.dims();
  if (out.size() != dims) {
    throw Error(ErrorCode::kInternal, "embed_text: output size does not match the model");
  }
  std::vector<double> sum(dims, 0.0);
  EmbedStats counts;
  const auto add = [&](std::uint32_t id) {
    const double scale = static_cast<double>(model.sif_weight(id)) * model.norm(id);
    const float* row = model.unit_vector(id);
    for (std::uint32_t i = 0; i < dims; ++i) sum[i] += scale * static_cast<double>(row[i]);
    ++counts.known_tokens;
  };
  // A model trained with subwords gives an unknown word its n-gram vector, as word_vector()
  // does, weighted as the rarest vocabulary word (an unseen word is rarer still).
  std::vector<float> ngram_vector(model.has_subwords() ? dims : 0);
  const auto add_subwords = [&](std::string_view word) {
    if (!model.has_subwords() || !model.subword_vector(word, ngram_vector.data())) return;
    const double scale = model.sif_weight(model.vocab_size() - 1);
    for (std::uint32_t i = 0; i < dims; ++i) sum[i] += scale * ngram_vector[i];
    ++counts.subword_tokens;
  };

  // A word is looked up as written, then lower-cased: a lower-case vocabulary (GloVe) finds
  // the lower-cased form, a case-sensitive one the exact form first.
  const auto find = [&](std::string_view original, std::string_view folded) {
    if (original != folded) {
      if (const auto id = model.find(original)) return id;
    }
    return model.find(folded);
  };
  text::Tokenizer tokenizer(text);
  text::Token token;
  for (std::uint64_t step = 0; tokenizer.next(&token); ++step) {
    poll_interrupts_every(step);
    if (!token.continued) ++counts.tokens;  // a cut word counts once, as when it was whole
    if (const auto id = token.cut ? std::nullopt : find(token.original, token.text)) {
      add(*id);
    } else if (token.kind == text::TokenKind::kHyphenated) {
      // Hyphens and the characters around them map one to one, so the parts line up.
      std::size_t pos = 0;
      std::size_t original_pos = 0;
      std::string_view part;
      std::string_view original_part;
      while (text::next_hyphen_part(token.text, &pos, &part) &&
             text::next_hyphen_part(token.original, &original_pos, &original_part)) {
        if (const auto part_id = find(original_part, part)) {
          add(*part_id);
        } else {
          add_subwords(part);
        }
      }
    } else if (!token.cut) {
      add_subwords(token.text);
    }
  }
  if (stats != nullptr) *stats = counts;
  if (counts.known_tokens + counts.subword_tokens == 0) return false;

  const std::span<const float> common = model.common_component();
  double projection = 0.0;
  for (std::uint32_t i = 0; i < dims; ++i) projection += sum[i] * common[i];
  for (std::uint32_t i = 0; i < dims; ++i) sum[i] -= projection * common[i];
  // A zero sum (the words cancel out) gives no vector; a NaN or inf one comes out NaN.
  double norm = 0.0;
  if (!vec::normalize(sum.data(), out.data(), dims, vec::NoDirection::kNaN, &norm) && norm == 0.0)
    return false;
  require_finite(out);  // a NaN anywhere in the model (an unverified file) is an error, not NULL
  return true;
}

std::optional<std::vector<float>> embed_text(const Model& model, std::string_view text) {
  std::vector<float> out(model.dims());
  if (!embed_text(model, text, out)) return std::nullopt;
  return out;
}

}  // namespace embedding::models
