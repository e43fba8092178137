// On-disk layout of our word-vector model file (format version 1): a fixed little-endian header
// followed by 64-byte-aligned sections, designed to be mmapped and used in place.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "core/io/checksum.h"

namespace embedding::models {

static_assert(std::endian::native == std::endian::little, "model files are little-endian");

// Layout (all integers little-endian, all sections start at a multiple of kSectionAlignment,
// appear in this order and do not overlap; padding bytes are zero):
//   kStringOffsets    uint32[vocab + 1]; word i is strings[off[i], off[i+1]); off[0] = 0,
//                     off[vocab] = strings length. Word id = 0-based frequency rank.
//   kStrings          the words' UTF-8 bytes, concatenated (no separators, no NUL).
//   kHashIndex        uint32[hash_slots] (a power of two > vocab): open addressing with linear
//                     probing from fnv1a64(word) & (hash_slots - 1); kEmptySlot marks a free slot.
//   kMatrix           float32[vocab][dims]: every row L2-normalised (all-zero for a zero vector).
//   kNorms            float32[vocab]: the original L2 norm of each row (raw = norm * unit row).
//   kSifWeights       float32[vocab]: SIF weight a / (a + p(w)) (see sif.h for p(w)).
//   kCommonComponent  float32[dims]: unit vector removed from sentence vectors (see sif.h).
// Optional, after them (models trained with subwords; header.subwords, zero when absent):
//   subwords          float32[subword_buckets][dims]: raw vectors of hashed character n-grams
//                     (see subwords.h), for words outside the vocabulary.
// Checksums are FNV-1a 64 over each section's bytes; header_checksum covers every header byte
// before it. Opening checks the header only (O(1)); verify_model() checks the rest.
enum class Section : std::uint32_t {
  kStringOffsets = 0,
  kStrings,
  kHashIndex,
  kMatrix,
  kNorms,
  kSifWeights,
  kCommonComponent,
};
inline constexpr std::size_t kSectionCount = 7;

inline constexpr char kModelMagic[8] = {'E', 'M', 'B', 'W', 'V', 'E', 'C', '\x1a'};
inline constexpr std::uint32_t kModelFormatVersion = 1;
inline constexpr std::uint64_t kSectionAlignment = 64;
inline constexpr std::uint32_t kMaxModelDims = 16000;      // the vector type's limit
inline constexpr std::uint32_t kMaxModelVocab = 1u << 30;  // keeps hash slots within uint32
inline constexpr std::uint32_t kEmptySlot = 0xFFFFFFFFu;
inline constexpr std::uint32_t kMaxSubwordN = 16;
inline constexpr std::uint32_t kMaxSubwordBuckets = 1u << 24;

using io::SectionEntry;

struct FileHeader {
  char magic[8];
  std::uint32_t version;
  std::uint32_t header_size;  // sizeof(FileHeader)
  std::uint64_t file_size;
  std::uint32_t dims;
  std::uint32_t vocab_size;
  std::uint32_t hash_slots;
  std::uint32_t reserved0;
  double sif_a;                      // SIF smoothing constant a
  double reference_sentence_length;  // n of the pseudo-sentences behind the common component
  // Subword n-gram vectors (zero when the model has none): was reserved (zero) before 0.6.0.
  SectionEntry subwords;
  std::uint32_t subword_buckets;
  std::uint8_t subword_min_n;  // n-gram lengths in characters, 1 <= min_n <= max_n <= kMaxSubwordN
  std::uint8_t subword_max_n;
  std::uint16_t reserved1;
  SectionEntry sections[kSectionCount];
  std::uint64_t header_checksum;  // FNV-1a 64 of all bytes before this field
};
static_assert(sizeof(FileHeader) == 264, "the header layout is part of the file format");
static_assert(std::is_trivially_copyable_v<FileHeader>);

const char* section_name(Section section);

inline const SectionEntry& section_entry(const FileHeader& header, Section section) {
  return header.sections[static_cast<std::size_t>(section)];
}

// Fills in a header (magic, version, sizes, offsets and lengths; checksums zero) for a file with
// these contents. Throws Error(kProgramLimit) when a size exceeds the format's limits.
// subword_buckets > 0 adds the subwords section (its n-gram lengths are the caller's to set).
FileHeader plan_layout(std::uint32_t dims, std::uint32_t vocab_size, std::uint64_t strings_length,
                       std::uint32_t hash_slots, std::uint32_t subword_buckets = 0);

std::uint64_t compute_header_checksum(const FileHeader& header);

// Reads the header at the start of file and validates it against the file's size: magic,
// version, header checksum, dims and vocabulary limits, and every section's offset, alignment,
// length and order. O(1). Throws Error(kCorruptData) (kFeature for an unknown version).
FileHeader read_header(std::span<const std::byte> file);

}  // namespace embedding::models
