// An open word-vector model: a validated, read-only view of one model file (mmapped or in
// memory) with vocabulary look-up and row access. Cheap to copy; thread-safe for reading.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/io/mapped_file.h"
#include "core/models/model_format.h"

namespace embedding::models {

class Model {
 public:
  // Maps the file and validates its header (O(1) apart from the mmap itself); the pages are
  // shared through the OS page cache. Only for files nobody else changes (see MappedFile): the
  // server maps its own cache files, never a user's or the shipped one. Throws kIoError,
  // kCorruptData or kFeature.
  static Model open_file(const std::string& path);
  // The same for a file that must not be a symbolic link (the server's own cache files).
  static Model open_own_file(const std::string& path);
  // Takes ownership of an in-memory file image (tests, fuzzing, freshly built models).
  static Model from_bytes(std::vector<std::byte> bytes);
  // Uses bytes in place when they are 4-byte aligned (the caller keeps them alive as long as
  // the Model and its copies live); otherwise copies them.
  static Model view_bytes(std::span<const std::byte> bytes);

  // Full O(size) verification: section checksums, string offsets, UTF-8 words, hash index
  // consistency (every word found at its own id, no duplicates), finite values, unit rows.
  // Run it when a file is created or first loaded; open() checks only the header.
  void verify() const;
  // The section checksums alone (O(size), a single pass): what a cache file the server wrote
  // after verify() needs before it is served again.
  void verify_checksums() const;

  std::uint32_t dims() const { return header_.dims; }
  std::uint32_t vocab_size() const { return header_.vocab_size; }
  const FileHeader& header() const { return header_; }
  std::span<const std::byte> bytes() const { return bytes_; }

  // Exact look-up of a word; ids are 0-based frequency ranks (0 = most frequent).
  std::optional<std::uint32_t> find(std::string_view word) const;
  // find(word), else find(text::fold_case(word)): what a user typing "Paris" expects from a
  // lower-cased vocabulary.
  std::optional<std::uint32_t> lookup(std::string_view word) const;

  // Throws Error(kInvalidParameter) for id >= vocab_size(), kCorruptData for bad offsets.
  std::string_view word(std::uint32_t id) const;
  // L2-normalised row (all zeros for a zero vector); id must be < vocab_size().
  const float* unit_vector(std::uint32_t id) const { return matrix_ + std::size_t{id} * dims(); }
  float norm(std::uint32_t id) const { return norms_[id]; }
  float sif_weight(std::uint32_t id) const { return sif_weights_[id]; }
  const float* matrix() const { return matrix_; }
  std::span<const float> common_component() const { return {common_, dims()}; }

  // Models trained with subwords hold n-gram vectors: subword_vector() writes the mean of the
  // n-gram vectors of fold_case(word) into out (dims() floats; raw, not normalised) and returns
  // true, or returns false when the model has none or the word has no n-grams.
  bool has_subwords() const { return subwords_ != nullptr; }
  bool subword_vector(std::string_view word, float* out) const;

 private:
  Model(std::shared_ptr<const void> owner, std::span<const std::byte> bytes);
  static Model open_mapped(const std::string& path, io::Symlinks symlinks);
  template <typename T>
  const T* section_data(Section section) const;

  std::shared_ptr<const void> owner_;
  std::span<const std::byte> bytes_;
  FileHeader header_;
  const std::uint32_t* string_offsets_;
  const char* strings_;
  std::uint64_t strings_length_;
  const std::uint32_t* hash_index_;
  const float* matrix_;
  const float* norms_;
  const float* sif_weights_;
  const float* common_;
  const float* subwords_ = nullptr;
};

}  // namespace embedding::models
