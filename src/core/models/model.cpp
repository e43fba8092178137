// Opening a model file and looking words up. Only the header is validated on open; later reads
// re-check what they trust (offsets, hash slots), so an unverified corrupt file cannot crash us.
#include "core/models/model.h"

#include <cstdint>
#include <string>
#include <utility>

#include "core/common/error.h"
#include "core/io/checksum.h"
#include "core/io/mapped_file.h"
#include "core/models/subwords.h"
#include "core/text/tokenizer.h"

namespace embedding::models {
namespace {

[[noreturn]] void corrupt(const std::string& message) {
  throw Error(ErrorCode::kCorruptData, "corrupt model file: " + message);
}

}  // namespace

template <typename T>
const T* Model::section_data(Section section) const {
  return reinterpret_cast<const T*>(bytes_.data() + section_entry(header_, section).offset);
}

Model::Model(std::shared_ptr<const void> owner, std::span<const std::byte> bytes)
    : owner_(std::move(owner)), bytes_(bytes), header_(read_header(bytes)) {
  string_offsets_ = section_data<std::uint32_t>(Section::kStringOffsets);
  strings_ = section_data<char>(Section::kStrings);
  strings_length_ = section_entry(header_, Section::kStrings).length;
  hash_index_ = section_data<std::uint32_t>(Section::kHashIndex);
  matrix_ = section_data<float>(Section::kMatrix);
  norms_ = section_data<float>(Section::kNorms);
  sif_weights_ = section_data<float>(Section::kSifWeights);
  common_ = section_data<float>(Section::kCommonComponent);
  if (header_.subword_buckets > 0) {
    subwords_ = reinterpret_cast<const float*>(bytes_.data() + header_.subwords.offset);
  }
  if (string_offsets_[0] != 0 || string_offsets_[header_.vocab_size] != strings_length_) {
    corrupt("string offsets do not span the strings section");
  }
}

Model Model::open_file(const std::string& path) { return open_mapped(path, io::Symlinks::kFollow); }

Model Model::open_own_file(const std::string& path) {
  return open_mapped(path, io::Symlinks::kRefuse);
}

Model Model::open_mapped(const std::string& path, io::Symlinks symlinks) {
  auto mapped = std::make_shared<const io::MappedFile>(path, symlinks);
  const std::span<const std::byte> bytes = mapped->bytes();
  try {
    return Model(std::move(mapped), bytes);
  } catch (const Error& error) {
    throw Error(error.code(), std::string(error.what()) + " (" + path + ")", error.detail());
  }
}

Model Model::from_bytes(std::vector<std::byte> bytes) {
  auto owned = std::make_shared<const std::vector<std::byte>>(std::move(bytes));
  const std::span<const std::byte> view(owned->data(), owned->size());
  return Model(std::move(owned), view);
}

Model Model::view_bytes(std::span<const std::byte> bytes) {
  if (reinterpret_cast<std::uintptr_t>(bytes.data()) % alignof(float) != 0) {
    return from_bytes(std::vector<std::byte>(bytes.begin(), bytes.end()));
  }
  return Model(nullptr, bytes);
}

std::string_view Model::word(std::uint32_t id) const {
  if (id >= header_.vocab_size) {
    throw Error(ErrorCode::kInvalidParameter, "word id " + std::to_string(id) +
                                                  " is outside the vocabulary of " +
                                                  std::to_string(header_.vocab_size) + " words");
  }
  const std::uint32_t begin = string_offsets_[id];
  const std::uint32_t end = string_offsets_[id + 1];
  if (begin > end || end > strings_length_) {
    corrupt("string offsets of word " + std::to_string(id) + " are out of bounds");
  }
  return {strings_ + begin, end - begin};
}

std::optional<std::uint32_t> Model::find(std::string_view word_text) const {
  const std::uint32_t mask = header_.hash_slots - 1;
  std::uint32_t slot = static_cast<std::uint32_t>(io::fnv1a64(word_text)) & mask;
  // Bounded so that a corrupt index without a free slot still terminates.
  for (std::uint32_t probe = 0; probe <= mask; ++probe, slot = (slot + 1) & mask) {
    const std::uint32_t id = hash_index_[slot];
    if (id == kEmptySlot) return std::nullopt;
    if (id >= header_.vocab_size) corrupt("hash index slot holds an invalid word id");
    if (word(id) == word_text) return id;
  }
  return std::nullopt;
}

bool Model::subword_vector(std::string_view word_text, float* out) const {
  if (subwords_ == nullptr) return false;
  std::vector<std::uint32_t> buckets;
  subword_buckets(text::fold_case(word_text), header_.subword_min_n, header_.subword_max_n,
                  header_.subword_buckets, &buckets);
  if (buckets.empty()) return false;
  const std::uint32_t n = dims();
  std::vector<double> sum(n, 0.0);
  for (const std::uint32_t bucket : buckets) {
    const float* row = subwords_ + std::size_t{bucket} * n;
    for (std::uint32_t i = 0; i < n; ++i) sum[i] += row[i];
  }
  for (std::uint32_t i = 0; i < n; ++i) out[i] = static_cast<float>(sum[i] / buckets.size());
  return true;
}

std::optional<std::uint32_t> Model::lookup(std::string_view word_text) const {
  if (auto id = find(word_text)) return id;
  const std::string folded = text::fold_case(word_text);
  if (folded == word_text) return std::nullopt;
  return find(folded);
}

}  // namespace embedding::models
