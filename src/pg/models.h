// The models embed() and friends use: the default model shipped in the extension's share
// directory, and models loaded into the database (table embedding_model_store), each served from
// a memory-mapped cache file under $PGDATA/embedding_models and kept open per backend.
#pragma once

#include <cstdint>

#include "core/encoder/bert_encoder.h"
#include "core/models/model.h"
#include "core/models/model_image.h"

namespace embedding::pg {

// Name of the default model, fixed per extension version (what embed(text) uses).
inline constexpr const char* kDefaultModelName = "glove-6b-100d";

// An open model: word vectors or a sentence encoder (exactly one of the two is set).
struct OpenedModel {
  const embedding::models::Model* words = nullptr;
  const embedding::encoder::BertEncoder* encoder = nullptr;
};

// The open model called `name`, of either kind. Throws kUndefinedObject when there is none. A
// user model is checked against the table once per command (so a dropped model stops working at
// once).
OpenedModel find_any_model(const char* name);

// The word-vector model called `name` (word_vector(), most_similar(), analogy()); a sentence
// encoder is an error saying so.
const embedding::models::Model& find_model(const char* name);

// Removes this database's cache files that no live model refers to (after drop_model() and
// load_model()). Safe at any time: a backend that maps a removed file keeps its pages, and one
// that needs the model later writes the file again.
void sweep_cache();

// Where the default model file is installed.
std::string default_model_path();

// embedding.encoder_threads: how many threads one embed() call with a sentence encoder may use,
// the backend's own included (the others run core code only). Results do not depend on it.
extern int encoder_threads;
void register_model_options();

// Identifies the current command, so that a cached model is checked against the store once per
// command (models.cpp, analysis_models.cpp).
std::uint64_t command_stamp();

}  // namespace embedding::pg
