// Our file format for BERT-family sentence encoders (format version 1): a fixed little-endian
// header (shape, tokenizer and pooling settings), the WordPiece vocabulary with a hash index,
// and every weight as float32 in one fixed order; designed to be mmapped and used in place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/io/checksum.h"

namespace embedding::encoder {

enum class Pooling : std::uint32_t { kMean = 0, kCls = 1, kMax = 2 };

// Header flags.
inline constexpr std::uint32_t kNormalize = 1;       // L2-normalise the pooled vector
inline constexpr std::uint32_t kLowercase = 2;       // tokenizer: lower-case each word
inline constexpr std::uint32_t kStripAccents = 4;    // tokenizer: NFD and drop marks
inline constexpr std::uint32_t kChineseChars = 8;    // tokenizer: split CJK ideographs
inline constexpr std::uint32_t kLowercaseText = 16;  // sentence-transformers lower-cases first

inline constexpr char kEncoderMagic[8] = {'E', 'M', 'B', 'B', 'E', 'R', 'T', '\x1a'};
inline constexpr std::uint32_t kEncoderFormatVersion = 1;
// Limits that keep every size computation far inside 64 bits and one model under 4 GB.
inline constexpr std::uint32_t kMaxHidden = 4096;
inline constexpr std::uint32_t kMaxLayers = 64;
inline constexpr std::uint32_t kMaxIntermediate = 16384;
inline constexpr std::uint32_t kMaxPositions = 8192;
inline constexpr std::uint32_t kMaxVocab = 1u << 20;
inline constexpr std::uint32_t kMaxTypeVocab = 16;

struct EncoderConfig {
  std::uint32_t vocab_size = 0;
  std::uint32_t hidden = 0;
  std::uint32_t layers = 0;
  std::uint32_t heads = 0;
  std::uint32_t intermediate = 0;
  std::uint32_t max_positions = 0;
  std::uint32_t type_vocab = 0;
  std::uint32_t max_seq_length = 0;  // tokens with [CLS] and [SEP]; <= max_positions
  Pooling pooling = Pooling::kMean;
  std::uint32_t flags = 0;
  std::uint32_t unk_id = 0, cls_id = 0, sep_id = 0;
  std::uint32_t reserved = 0;  // keeps the layout free of padding (it is stored as is)
  double layer_norm_eps = 1e-12;
};
static_assert(sizeof(EncoderConfig) == 64 && offsetof(EncoderConfig, layer_norm_eps) == 56,
              "EncoderConfig is stored in the file header: no padding");

enum class EncoderSection : std::uint32_t { kStringOffsets = 0, kStrings, kHashIndex, kWeights };
inline constexpr std::size_t kEncoderSectionCount = 4;

struct EncoderHeader {
  char magic[8];
  std::uint32_t version;
  std::uint32_t header_size;
  std::uint64_t file_size;
  EncoderConfig config;
  std::uint32_t hash_slots;
  std::uint32_t reserved0;
  std::uint64_t reserved[4];
  io::SectionEntry sections[kEncoderSectionCount];
  std::uint64_t header_checksum;  // FNV-1a 64 of all bytes before this field
};
static_assert(sizeof(EncoderHeader) == 232, "the header layout is part of the file format");

// One weight tensor: its name in a Hugging Face BertModel checkpoint (without "bert."), and its
// shape (rows x cols; a vector has rows = 1).
struct TensorSpec {
  std::string name;
  std::uint32_t rows;
  std::uint32_t cols;
};

// Every tensor the encoder uses, in file order: the embeddings (word, position, token type,
// LayerNorm weight and bias), then per layer query, key, value, attention output, its LayerNorm,
// intermediate, output and its LayerNorm (each weight, then bias).
std::vector<TensorSpec> tensor_plan(const EncoderConfig& config);

// Checks a configuration against the format's limits and itself (heads divide hidden, special
// ids inside the vocabulary, ...). Throws Error(kFeature or kProgramLimit or kCorruptData).
void check_config(const EncoderConfig& config);

// Builds a complete file image from a configuration, the vocabulary (id = position) and the
// weights in tensor_plan() order (exactly the plan's total number of floats).
std::vector<std::byte> build_encoder_file(const EncoderConfig& config,
                                          const std::vector<std::string>& vocab,
                                          std::span<const float> weights);

// The format's checksums: of a section (FNV-1a's step on 64-bit words in four lanes, folded with
// the tail bytes) and of the header (byte-wise FNV-1a of every byte before header_checksum).
std::uint64_t section_checksum(const std::byte* data, std::uint64_t length);
std::uint64_t header_checksum(const EncoderHeader& header);

// Whether bytes start with an encoder file's magic.
bool is_encoder_file(std::span<const std::byte> bytes);

// A validated, read-only view of an encoder file (mmapped or in memory). Cheap to copy.
class EncoderFile {
 public:
  static EncoderFile open_own_file(const std::string& path);  // no symbolic link
  // Uses bytes in place when 4-byte aligned (the caller keeps them alive), else copies them.
  static EncoderFile view_bytes(std::span<const std::byte> bytes);

  // Section checksums, vocabulary strings and hash index, finite weights small enough that no
  // activation can overflow (weight_bounds.h): O(size).
  void verify() const;
  // The checksums alone (what a cache file the server wrote needs before it is served again).
  void verify_checksums() const;

  const EncoderConfig& config() const { return config_; }
  std::span<const std::byte> bytes() const { return bytes_; }
  const float* weights() const { return weights_; }
  std::optional<std::uint32_t> find(std::string_view piece) const;
  std::string_view piece(std::uint32_t id) const;

 private:
  EncoderFile(std::shared_ptr<const void> owner, std::span<const std::byte> bytes);
  std::shared_ptr<const void> owner_;
  std::span<const std::byte> bytes_;
  EncoderHeader header_{};
  EncoderConfig config_;
  const std::uint32_t* offsets_ = nullptr;
  const char* strings_ = nullptr;
  const std::uint32_t* hash_ = nullptr;
  const float* weights_ = nullptr;
};

}  // namespace embedding::encoder
