// The body shared by the loader fuzz targets: a loader on arbitrary bytes gives word vectors or
// an Error, never a crash; whatever it accepts must build into a model file that passes verify().
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "core/common/error.h"
#include "core/models/loaders.h"
#include "core/models/model.h"
#include "core/models/model_builder.h"

inline int fuzz_loader(const std::uint8_t* data, std::size_t size,
                       embedding::models::SourceFormat format) {
  using namespace embedding::models;
  WordVectors vectors;
  try {
    vectors =
        load_word_vectors(std::string_view(reinterpret_cast<const char*>(data), size), format);
  } catch (const embedding::Error&) {
    return 0;
  }
  if (vectors.words.empty() || vectors.values.size() != vectors.words.size() * vectors.dims) {
    std::abort();  // a loader must not return an unusable result
  }
  std::vector<std::byte> bytes;
  try {
    bytes = build_model(vectors);
  } catch (const embedding::Error& error) {
    // Only values whose norm overflows float32 may still be refused by the builder.
    if (error.code() != embedding::ErrorCode::kDataException) std::abort();
    return 0;
  }
  const Model model = Model::from_bytes(std::move(bytes));
  model.verify();  // throws (and the fuzzer reports it) if the builder wrote a bad file
  return 0;
}
