// Word vectors as loaded from an external file, before conversion into our model format:
// words in frequency order (most frequent first) and their raw float32 vectors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace embedding::models {

struct WordVectors {
  std::uint32_t dims = 0;
  std::vector<std::string> words;  // unique, valid UTF-8, no NUL; index = frequency rank - 1
  std::vector<float> values;       // words.size() * dims raw components, row-major
  // Entries the loader dropped: a repeated word (the first, more frequent one is kept), or a
  // word that is not valid UTF-8 text.
  std::size_t skipped_duplicates = 0;
  std::size_t skipped_invalid = 0;
};

}  // namespace embedding::models
