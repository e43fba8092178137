// Encoder files (see encoder_file.h): the tensor plan, building an image, and opening one with
// every offset and size checked against the real file before anything reads it.
#include "core/encoder/encoder_file.h"

#include <cmath>
#include <cstring>

#include "core/common/error.h"
#include "core/encoder/weight_bounds.h"
#include "core/io/checksum.h"
#include "core/io/mapped_file.h"
#include "core/text/utf8.h"

namespace embedding::encoder {
namespace {

using io::fnv1a64;
using io::SectionEntry;

constexpr std::uint64_t kAlignment = 64;
constexpr std::uint32_t kEmpty = 0xFFFFFFFFu;

std::uint64_t align_up(std::uint64_t value) {
  return (value + kAlignment - 1) / kAlignment * kAlignment;
}

[[noreturn]] void corrupt(const std::string& message) {
  throw Error(ErrorCode::kCorruptData, "corrupt encoder file: " + message);
}

std::uint32_t hash_slots_for(std::uint32_t vocab) {
  std::uint32_t slots = 1;
  while (slots < 2ull * vocab) slots <<= 1;
  return slots;
}

std::uint64_t weight_count(const EncoderConfig& config) {
  std::uint64_t total = 0;
  for (const TensorSpec& t : tensor_plan(config)) total += std::uint64_t{t.rows} * t.cols;
  return total;
}

// The header's layout for these contents: offsets and lengths (checksums zero).
EncoderHeader plan_header(const EncoderConfig& c, std::uint64_t strings_length) {
  EncoderHeader h{};
  std::memcpy(h.magic, kEncoderMagic, sizeof h.magic);
  h.version = kEncoderFormatVersion;
  h.header_size = sizeof(EncoderHeader);
  h.config = c;
  h.config.reserved = 0;
  h.hash_slots = hash_slots_for(c.vocab_size);
  const std::uint64_t lengths[kEncoderSectionCount] = {
      (std::uint64_t{c.vocab_size} + 1) * 4, strings_length, std::uint64_t{h.hash_slots} * 4,
      weight_count(c) * 4};
  std::uint64_t offset = align_up(sizeof(EncoderHeader));
  for (std::size_t s = 0; s < kEncoderSectionCount; ++s) {
    h.sections[s].offset = offset;
    h.sections[s].length = lengths[s];
    offset = align_up(offset + lengths[s]);
  }
  h.file_size = offset;
  return h;
}

}  // namespace

// A section's checksum: the four-lane FNV-1a, several times faster than byte-wise FNV-1a, since
// every backend checks the whole model before its first use. Fixed by the format version.
std::uint64_t section_checksum(const std::byte* data, std::uint64_t length) {
  return io::fnv1a64_lanes(data, length);
}

std::uint64_t header_checksum(const EncoderHeader& header) {
  return fnv1a64(&header, offsetof(EncoderHeader, header_checksum));
}

std::vector<TensorSpec> tensor_plan(const EncoderConfig& c) {
  std::vector<TensorSpec> plan = {
      {"embeddings.word_embeddings.weight", c.vocab_size, c.hidden},
      {"embeddings.position_embeddings.weight", c.max_positions, c.hidden},
      {"embeddings.token_type_embeddings.weight", c.type_vocab, c.hidden},
      {"embeddings.LayerNorm.weight", 1, c.hidden},
      {"embeddings.LayerNorm.bias", 1, c.hidden},
  };
  for (std::uint32_t i = 0; i < c.layers; ++i) {
    const std::string p = "encoder.layer." + std::to_string(i) + ".";
    const auto dense = [&](const std::string& name, std::uint32_t out, std::uint32_t in) {
      plan.push_back({p + name + ".weight", out, in});
      plan.push_back({p + name + ".bias", 1, out});
    };
    dense("attention.self.query", c.hidden, c.hidden);
    dense("attention.self.key", c.hidden, c.hidden);
    dense("attention.self.value", c.hidden, c.hidden);
    dense("attention.output.dense", c.hidden, c.hidden);
    plan.push_back({p + "attention.output.LayerNorm.weight", 1, c.hidden});
    plan.push_back({p + "attention.output.LayerNorm.bias", 1, c.hidden});
    dense("intermediate.dense", c.intermediate, c.hidden);
    dense("output.dense", c.hidden, c.intermediate);
    plan.push_back({p + "output.LayerNorm.weight", 1, c.hidden});
    plan.push_back({p + "output.LayerNorm.bias", 1, c.hidden});
  }
  return plan;
}

void check_config(const EncoderConfig& c) {
  const auto limit = [](const char* what, std::uint32_t value, std::uint32_t low,
                        std::uint32_t high) {
    if (value < low || value > high)
      throw Error(ErrorCode::kProgramLimit, std::string(what) + " is " + std::to_string(value) +
                                                ", which is outside " + std::to_string(low) + ".." +
                                                std::to_string(high));
  };
  limit("vocab_size", c.vocab_size, 1, kMaxVocab);
  limit("hidden_size", c.hidden, 1, kMaxHidden);
  limit("num_hidden_layers", c.layers, 1, kMaxLayers);
  limit("num_attention_heads", c.heads, 1, c.hidden);
  limit("intermediate_size", c.intermediate, 1, kMaxIntermediate);
  limit("max_position_embeddings", c.max_positions, 3, kMaxPositions);
  limit("type_vocab_size", c.type_vocab, 1, kMaxTypeVocab);
  limit("max_seq_length", c.max_seq_length, 3, c.max_positions);
  if (c.hidden % c.heads != 0)
    throw Error(ErrorCode::kFeature, "hidden_size " + std::to_string(c.hidden) +
                                         " is not a multiple of num_attention_heads " +
                                         std::to_string(c.heads));
  if (c.unk_id >= c.vocab_size || c.cls_id >= c.vocab_size || c.sep_id >= c.vocab_size)
    throw Error(ErrorCode::kCorruptData, "a special token id is outside the vocabulary");
  if (static_cast<std::uint32_t>(c.pooling) > 2)
    throw Error(ErrorCode::kCorruptData, "unknown pooling");
  if (c.flags >= 32 || c.reserved != 0) throw Error(ErrorCode::kCorruptData, "unknown flags");
  if (!(c.layer_norm_eps > 0.0 && c.layer_norm_eps < 1.0))
    throw Error(ErrorCode::kCorruptData, "layer_norm_eps must be in (0, 1)");
}

std::vector<std::byte> build_encoder_file(const EncoderConfig& config,
                                          const std::vector<std::string>& vocab,
                                          std::span<const float> weights) {
  check_config(config);
  if (vocab.size() != config.vocab_size)
    throw Error(ErrorCode::kInvalidParameter, "vocabulary size does not match the config");
  std::uint64_t strings_length = 0;
  for (const std::string& piece : vocab) strings_length += piece.size();
  if (strings_length >= 0xFFFFFFFFull)
    throw Error(ErrorCode::kProgramLimit, "vocabulary too large");
  EncoderHeader h = plan_header(config, strings_length);
  if (weights.size() * 4 != h.sections[3].length)
    throw Error(ErrorCode::kInvalidParameter, "weights do not match the tensor plan");
  std::vector<std::byte> file(h.file_size);
  auto* offsets = reinterpret_cast<std::uint32_t*>(file.data() + h.sections[0].offset);
  char* strings = reinterpret_cast<char*>(file.data() + h.sections[1].offset);
  auto* hash = reinterpret_cast<std::uint32_t*>(file.data() + h.sections[2].offset);
  std::fill(hash, hash + h.hash_slots, kEmpty);
  std::uint32_t at = 0;
  for (std::uint32_t id = 0; id < vocab.size(); ++id) {
    offsets[id] = at;
    std::memcpy(strings + at, vocab[id].data(), vocab[id].size());
    at += static_cast<std::uint32_t>(vocab[id].size());
    // The last of equal pieces takes the slot, as BERT's vocabulary loader keeps the last line.
    std::uint32_t slot = static_cast<std::uint32_t>(fnv1a64(vocab[id])) & (h.hash_slots - 1);
    while (hash[slot] != kEmpty && vocab[hash[slot]] != vocab[id])
      slot = (slot + 1) & (h.hash_slots - 1);
    hash[slot] = id;
  }
  offsets[vocab.size()] = at;
  std::memcpy(file.data() + h.sections[3].offset, weights.data(), h.sections[3].length);
  for (std::size_t s = 0; s < kEncoderSectionCount; ++s)
    h.sections[s].checksum =
        section_checksum(file.data() + h.sections[s].offset, h.sections[s].length);
  h.header_checksum = header_checksum(h);
  std::memcpy(file.data(), &h, sizeof h);
  return file;
}

bool is_encoder_file(std::span<const std::byte> bytes) {
  return bytes.size() >= sizeof kEncoderMagic &&
         std::memcmp(bytes.data(), kEncoderMagic, sizeof kEncoderMagic) == 0;
}

EncoderFile::EncoderFile(std::shared_ptr<const void> owner, std::span<const std::byte> bytes)
    : owner_(std::move(owner)), bytes_(bytes) {
  if (bytes.size() < sizeof(EncoderHeader) || !is_encoder_file(bytes))
    corrupt("not an encoder file (bad magic or too short)");
  std::memcpy(&header_, bytes.data(), sizeof header_);
  if (header_.version != kEncoderFormatVersion)
    throw Error(ErrorCode::kFeature,
                "unsupported encoder file version " + std::to_string(header_.version));
  if (header_.header_size != sizeof(EncoderHeader) ||
      header_.header_checksum != header_checksum(header_))
    corrupt("header checksum mismatch");
  if (header_.file_size != bytes.size()) corrupt("file size does not match the header");
  config_ = header_.config;
  try {
    check_config(config_);
  } catch (const Error& e) {
    corrupt(e.what());
  }
  std::uint64_t strings_length = header_.sections[1].length;
  if (strings_length >= bytes.size()) corrupt("strings section too long");
  const EncoderHeader planned = plan_header(config_, strings_length);
  if (planned.hash_slots != header_.hash_slots || planned.file_size != header_.file_size)
    corrupt("sizes do not match the configuration");
  for (std::size_t s = 0; s < kEncoderSectionCount; ++s)
    if (planned.sections[s].offset != header_.sections[s].offset ||
        planned.sections[s].length != header_.sections[s].length)
      corrupt("section " + std::to_string(s) + " is not where the configuration puts it");
  offsets_ = reinterpret_cast<const std::uint32_t*>(bytes.data() + header_.sections[0].offset);
  strings_ = reinterpret_cast<const char*>(bytes.data() + header_.sections[1].offset);
  hash_ = reinterpret_cast<const std::uint32_t*>(bytes.data() + header_.sections[2].offset);
  weights_ = reinterpret_cast<const float*>(bytes.data() + header_.sections[3].offset);
}

EncoderFile EncoderFile::open_own_file(const std::string& path) {
  auto mapped = std::make_shared<io::MappedFile>(path, io::Symlinks::kRefuse);
  const auto bytes = mapped->bytes();
  return EncoderFile(std::move(mapped), bytes);
}

EncoderFile EncoderFile::view_bytes(std::span<const std::byte> bytes) {
  if (reinterpret_cast<std::uintptr_t>(bytes.data()) % alignof(float) != 0) {
    auto copy = std::make_shared<std::vector<std::byte>>(bytes.begin(), bytes.end());
    const std::span<const std::byte> view(copy->data(), copy->size());
    return EncoderFile(std::move(copy), view);
  }
  return EncoderFile(nullptr, bytes);
}

void EncoderFile::verify_checksums() const {
  for (std::size_t s = 0; s < kEncoderSectionCount; ++s) {
    const SectionEntry& e = header_.sections[s];
    const std::uint64_t hash = section_checksum(bytes_.data() + e.offset, e.length);
    if (hash != e.checksum) corrupt("checksum mismatch in section " + std::to_string(s));
  }
}

void EncoderFile::verify() const {
  verify_checksums();
  const std::uint64_t strings_length = header_.sections[1].length;
  if (offsets_[0] != 0 || offsets_[config_.vocab_size] != strings_length)
    corrupt("string offsets do not span the strings");
  for (std::uint32_t id = 0; id < config_.vocab_size; ++id) {
    if (offsets_[id] > offsets_[id + 1]) corrupt("string offsets are not ascending");
    if (!text::is_valid_utf8_text(piece(id))) corrupt("a vocabulary entry is not valid UTF-8");
  }
  for (std::uint32_t slot = 0; slot < header_.hash_slots; ++slot)
    if (hash_[slot] != kEmpty && hash_[slot] >= config_.vocab_size)
      corrupt("hash index holds an invalid id");
  for (std::uint32_t id = 0; id < config_.vocab_size; ++id) {
    const auto found = find(piece(id));
    if (!found || piece(*found) != piece(id)) corrupt("hash index misses a vocabulary entry");
  }
  check_weight_bounds(config_, weights_);  // finite, and small enough to stay finite
}

std::string_view EncoderFile::piece(std::uint32_t id) const {
  if (id >= config_.vocab_size) corrupt("token id outside the vocabulary");
  const std::uint32_t begin = offsets_[id], end = offsets_[id + 1];
  if (begin > end || end > header_.sections[1].length) corrupt("string offsets out of bounds");
  return {strings_ + begin, end - begin};
}

std::optional<std::uint32_t> EncoderFile::find(std::string_view text) const {
  const std::uint32_t mask = header_.hash_slots - 1;
  std::uint32_t slot = static_cast<std::uint32_t>(fnv1a64(text)) & mask;
  for (std::uint32_t probe = 0; probe <= mask; ++probe, slot = (slot + 1) & mask) {
    const std::uint32_t id = hash_[slot];
    if (id == kEmpty) return std::nullopt;
    if (piece(id) == text) return id;
  }
  return std::nullopt;
}

}  // namespace embedding::encoder
