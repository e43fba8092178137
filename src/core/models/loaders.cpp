// Format names and dispatch for the external word-vector loaders; file input is read into memory
// (never mapped: someone else's file may shrink under a mapping) and parsed there.
#include "core/models/loaders.h"

#include "core/io/mapped_file.h"
#include "core/models/loader_common.h"

namespace embedding::models {

std::optional<SourceFormat> parse_source_format(std::string_view name) {
  if (name == "word2vec" || name == "word2vec-text") return SourceFormat::kWord2vecText;
  if (name == "word2vec-binary" || name == "word2vec-bin") return SourceFormat::kWord2vecBinary;
  if (name == "glove") return SourceFormat::kGloveText;
  if (name == "fasttext" || name == "vec") return SourceFormat::kFasttextVec;
  if (name == "wink" || name == "wink-json") return SourceFormat::kWinkJson;
  return std::nullopt;
}

const char* source_format_name(SourceFormat format) {
  switch (format) {
    case SourceFormat::kWord2vecText:
      return "word2vec text";
    case SourceFormat::kWord2vecBinary:
      return "word2vec binary";
    case SourceFormat::kGloveText:
      return "GloVe text";
    case SourceFormat::kFasttextVec:
      return "fastText .vec";
    case SourceFormat::kWinkJson:
      return "wink JSON";
  }
  return "unknown";
}

WordVectors load_word_vectors(std::string_view bytes, SourceFormat format) {
  switch (format) {
    case SourceFormat::kWord2vecBinary:
      return detail::load_word2vec_binary(bytes);
    case SourceFormat::kWinkJson:
      return detail::load_wink_json(bytes);
    case SourceFormat::kWord2vecText:
    case SourceFormat::kGloveText:
    case SourceFormat::kFasttextVec:
      break;
  }
  return detail::load_text_vectors(bytes, format);
}

WordVectors load_word_vectors_file(const std::string& path, SourceFormat format) {
  return load_word_vectors(io::read_file(path), format);
}

}  // namespace embedding::models
