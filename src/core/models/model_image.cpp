// Model images of either kind (see model_image.h).
#include "core/models/model_image.h"

#include "core/analysis/model_file.h"
#include "core/encoder/encoder_file.h"
#include "core/models/model.h"

namespace embedding::models {

const char* kind_name(ModelKind kind) {
  switch (kind) {
    case ModelKind::kSentenceEncoder:
      return "sentence-transformers";
    case ModelKind::kPca:
      return "pca";
    case ModelKind::kKMeans:
      return "kmeans";
    default:
      return "word-vectors";
  }
}

ModelKind model_kind(std::span<const std::byte> bytes) {
  if (analysis::is_analysis_image(bytes))
    return analysis::analysis_kind(bytes) == analysis::AnalysisKind::kPca ? ModelKind::kPca
                                                                          : ModelKind::kKMeans;
  return encoder::is_encoder_file(bytes) ? ModelKind::kSentenceEncoder : ModelKind::kWordVectors;
}

ModelSummary verify_model_image(std::span<const std::byte> bytes) {
  if (analysis::is_analysis_image(bytes)) {
    if (analysis::analysis_kind(bytes) == analysis::AnalysisKind::kPca) {
      const analysis::PcaModel pca = analysis::read_pca(bytes);
      return {ModelKind::kPca, pca.components, pca.dims, 0};
    }
    const analysis::KMeansModel kmeans = analysis::read_kmeans(bytes);
    return {ModelKind::kKMeans, kmeans.dims, kmeans.k, 0};
  }
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
