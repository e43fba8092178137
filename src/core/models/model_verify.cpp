// Model::verify(): the O(size) check run when a model file is created or first loaded, so that
// everything open() trusts lazily (offsets, hash slots, values) is known to be sound.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/common/interrupt.h"
#include "core/io/checksum.h"
#include "core/models/model.h"
#include "core/text/utf8.h"

namespace embedding::models {
namespace {

[[noreturn]] void corrupt(const std::string& message) {
  throw Error(ErrorCode::kCorruptData, "corrupt model file: " + message);
}

bool is_unit_or_zero(const float* values, std::size_t n) {
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isfinite(values[i])) return false;
    sum += static_cast<double>(values[i]) * values[i];
  }
  return sum == 0.0 || std::fabs(sum - 1.0) < 1e-3;
}

}  // namespace

void Model::verify_checksums() const {
  for (std::size_t i = 0; i < kSectionCount; ++i) {
    const SectionEntry& entry = header_.sections[i];
    if (io::fnv1a64_polled(bytes_.data() + entry.offset, entry.length) != entry.checksum) {
      corrupt(std::string(section_name(static_cast<Section>(i))) + " section checksum mismatch");
    }
  }
  const SectionEntry& subwords = header_.subwords;
  if (header_.subword_buckets > 0 &&
      io::fnv1a64_polled(bytes_.data() + subwords.offset, subwords.length) != subwords.checksum) {
    corrupt("subwords section checksum mismatch");
  }
}

void Model::verify() const {
  verify_checksums();
  const std::uint32_t vocab = header_.vocab_size;
  const std::uint32_t dims = header_.dims;
  for (std::uint32_t id = 0; id < vocab; ++id) {
    poll_interrupts_every(id);
    if (string_offsets_[id] >= string_offsets_[id + 1]) {
      corrupt("string offsets are not strictly increasing at word " + std::to_string(id));
    }
    if (!text::is_valid_utf8_text(word(id))) {
      corrupt("word " + std::to_string(id) + " is not valid UTF-8 text");
    }
  }
  std::vector<bool> seen(vocab, false);
  std::uint64_t used_slots = 0;
  for (std::uint32_t slot = 0; slot < header_.hash_slots; ++slot) {
    const std::uint32_t id = hash_index_[slot];
    if (id == kEmptySlot) continue;
    if (id >= vocab || seen[id]) corrupt("hash index holds an invalid or repeated word id");
    seen[id] = true;
    ++used_slots;
  }
  if (used_slots != vocab) corrupt("hash index does not hold every word");
  for (std::uint32_t id = 0; id < vocab; ++id) {
    poll_interrupts_every(id);
    if (find(word(id)) != id) {
      corrupt("hash index does not find word " + std::to_string(id) + " (or it is duplicated)");
    }
  }
  for (std::uint32_t id = 0; id < vocab; ++id) {
    poll_interrupts_every(id);
    const float* row = unit_vector(id);
    if (!is_unit_or_zero(row, dims)) corrupt("row " + std::to_string(id) + " is not unit length");
    bool zero_row = true;
    for (std::uint32_t i = 0; i < dims && zero_row; ++i) zero_row = row[i] == 0.0f;
    if (!std::isfinite(norms_[id]) || norms_[id] < 0.0f || (norms_[id] == 0.0f) != zero_row) {
      corrupt("norm of word " + std::to_string(id) + " is invalid");
    }
    if (!(sif_weights_[id] > 0.0f && sif_weights_[id] <= 1.0f)) {
      corrupt("SIF weight of word " + std::to_string(id) + " is outside (0, 1]");
    }
  }
  if (!is_unit_or_zero(common_, dims)) corrupt("common component is not unit length");
  const std::size_t subword_values = std::size_t{header_.subword_buckets} * dims;
  for (std::size_t i = 0; i < subword_values; ++i) {
    poll_interrupts_every<16>(i);
    if (!std::isfinite(subwords_[i])) corrupt("subword vectors contain NaN or infinity");
  }
}

}  // namespace embedding::models
