// SIF sentence embedding. Accumulates in double with plain loops (no run-time kernel dispatch),
// so the result is bit-identical on every CPU for a given build.
#include "core/models/sentence_encoder.h"

#include <cmath>

#include "core/common/error.h"
#include "core/text/tokenizer.h"

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

  text::Tokenizer tokenizer(text);
  text::Token token;
  while (tokenizer.next(&token)) {
    ++counts.tokens;
    if (const auto id = model.find(token.text)) {
      add(*id);
    } else if (token.kind == text::TokenKind::kHyphenated) {
      std::size_t pos = 0;
      std::string_view part;
      while (text::next_hyphen_part(token.text, &pos, &part)) {
        if (const auto part_id = model.find(part)) add(*part_id);
      }
    }
  }
  if (stats != nullptr) *stats = counts;
  if (counts.known_tokens == 0) return false;

  const std::span<const float> common = model.common_component();
  double projection = 0.0;
  for (std::uint32_t i = 0; i < dims; ++i) projection += sum[i] * common[i];
  double squared = 0.0;
  for (std::uint32_t i = 0; i < dims; ++i) {
    sum[i] -= projection * common[i];
    squared += sum[i] * sum[i];
  }
  const double norm = std::sqrt(squared);
  if (!(norm > 0.0) || !std::isfinite(norm)) return false;
  for (std::uint32_t i = 0; i < dims; ++i) out[i] = static_cast<float>(sum[i] / norm);
  return true;
}

std::optional<std::vector<float>> embed_text(const Model& model, std::string_view text) {
  std::vector<float> out(model.dims());
  if (!embed_text(model, text, out)) return std::nullopt;
  return out;
}

}  // namespace embedding::models
