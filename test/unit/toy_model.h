// The toy word-vector model of the unit tests (test/data/models_toy.*: 14 words x 4 dimensions),
// built through the same loader and builder as real models.
#pragma once

#include "core/io/mapped_file.h"
#include "core/models/loaders.h"
#include "core/models/model.h"
#include "core/models/model_builder.h"

namespace embedding::models {

inline Model toy_model() {
  return Model::from_bytes(build_model(load_word_vectors(
      io::read_file(EMB_SOURCE_DIR "/test/data/models_toy.w2v.txt"), SourceFormat::kWord2vecText)));
}

}  // namespace embedding::models
