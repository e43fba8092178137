// Model images of either kind (see model_image.h).
#include "core/models/model_image.h"

#include "core/encoder/encoder_file.h"
#include "core/models/model.h"

namespace embedding::models {

const char* kind_name(ModelKind kind) {
  return kind == ModelKind::kSentenceEncoder ? "sentence-transformers" : "word-vectors";
}

ModelKind model_kind(std::span<const std::byte> bytes) {
  return encoder::is_encoder_file(bytes) ? ModelKind::kSentenceEncoder : ModelKind::kWordVectors;
}

ModelSummary verify_model_image(std::span<const std::byte> bytes) {
  if (model_kind(bytes) == ModelKind::kSentenceEncoder) {
    const encoder::EncoderFile file = encoder::EncoderFile::view_bytes(bytes);
    file.verify();
    const encoder::EncoderConfig& c = file.config();
    return {ModelKind::kSentenceEncoder, c.hidden, c.vocab_size, c.max_seq_length};
  }
  const Model model = Model::view_bytes(bytes);
  model.verify();
  return {ModelKind::kWordVectors, model.dims(), model.vocab_size(), 0};
}

}  // namespace embedding::models
