// Header planning and O(1) validation for model files: every offset and length in the header
// is checked against the real file size before anything else reads the file.
#include "core/models/model_format.h"

#include <cstring>
#include <string>

#include "core/common/error.h"
#include "core/io/checksum.h"

namespace embedding::models {
namespace {

std::uint64_t align_up(std::uint64_t value) {
  return (value + kSectionAlignment - 1) / kSectionAlignment * kSectionAlignment;
}

[[noreturn]] void corrupt(const std::string& message, const std::string& detail = {}) {
  throw Error(ErrorCode::kCorruptData, "corrupt model file: " + message, detail);
}

// Expected byte length of a fixed-size section; strings have no fixed length.
std::uint64_t fixed_section_length(Section section, std::uint64_t dims, std::uint64_t vocab,
                                   std::uint64_t hash_slots) {
  switch (section) {
    case Section::kStringOffsets:
      return (vocab + 1) * 4;
    case Section::kHashIndex:
      return hash_slots * 4;
    case Section::kMatrix:
      return vocab * dims * 4;
    case Section::kNorms:
    case Section::kSifWeights:
      return vocab * 4;
    case Section::kCommonComponent:
      return dims * 4;
    case Section::kStrings:
      break;
  }
  return 0;
}

bool is_power_of_two(std::uint64_t value) { return value != 0 && (value & (value - 1)) == 0; }

// The optional subwords section: absent (all zero) or after the others, inside the file.
void check_subwords_entry(const FileHeader& header, std::uint64_t file_size,
                          std::uint64_t previous_end) {
  const SectionEntry& entry = header.subwords;
  if (header.subword_buckets == 0) {
    if (entry.offset != 0 || entry.length != 0 || entry.checksum != 0 ||
        header.subword_min_n != 0 || header.subword_max_n != 0) {
      corrupt("subwords section without subword buckets");
    }
    return;
  }
  if (header.subword_buckets > kMaxSubwordBuckets || header.subword_min_n == 0 ||
      header.subword_min_n > header.subword_max_n || header.subword_max_n > kMaxSubwordN) {
    corrupt("subword parameters out of range");
  }
  if (entry.offset % kSectionAlignment != 0 || entry.offset < previous_end ||
      entry.offset > file_size || entry.length > file_size - entry.offset ||
      entry.length != std::uint64_t{header.subword_buckets} * header.dims * 4) {
    corrupt("subwords section [" + std::to_string(entry.offset) + ", +" +
            std::to_string(entry.length) + ") is misplaced or has the wrong size");
  }
}

}  // namespace

const char* section_name(Section section) {
  switch (section) {
    case Section::kStringOffsets:
      return "string offsets";
    case Section::kStrings:
      return "strings";
    case Section::kHashIndex:
      return "hash index";
    case Section::kMatrix:
      return "matrix";
    case Section::kNorms:
      return "norms";
    case Section::kSifWeights:
      return "SIF weights";
    case Section::kCommonComponent:
      return "common component";
  }
  return "unknown";
}

FileHeader plan_layout(std::uint32_t dims, std::uint32_t vocab_size, std::uint64_t strings_length,
                       std::uint32_t hash_slots, std::uint32_t subword_buckets) {
  if (dims == 0 || dims > kMaxModelDims) {
    throw Error(ErrorCode::kProgramLimit,
                "model dimensions must be between 1 and " + std::to_string(kMaxModelDims),
                "got " + std::to_string(dims));
  }
  if (vocab_size == 0 || vocab_size > kMaxModelVocab) {
    throw Error(ErrorCode::kProgramLimit,
                "model vocabulary size must be between 1 and " + std::to_string(kMaxModelVocab),
                "got " + std::to_string(vocab_size));
  }
  if (strings_length > 0xFFFFFFFFull) {
    throw Error(ErrorCode::kProgramLimit, "model vocabulary strings exceed 4 GiB");
  }
  FileHeader header;
  std::memset(&header, 0, sizeof header);
  std::memcpy(header.magic, kModelMagic, sizeof header.magic);
  header.version = kModelFormatVersion;
  header.header_size = sizeof(FileHeader);
  header.dims = dims;
  header.vocab_size = vocab_size;
  header.hash_slots = hash_slots;
  std::uint64_t offset = align_up(sizeof(FileHeader));
  for (std::size_t i = 0; i < kSectionCount; ++i) {
    const auto section = static_cast<Section>(i);
    const std::uint64_t length = section == Section::kStrings
                                     ? strings_length
                                     : fixed_section_length(section, dims, vocab_size, hash_slots);
    header.sections[i].offset = offset;
    header.sections[i].length = length;
    offset = align_up(offset + length);
  }
  if (subword_buckets > 0) {
    if (subword_buckets > kMaxSubwordBuckets) {
      throw Error(ErrorCode::kProgramLimit, "too many subword buckets for a model file");
    }
    header.subword_buckets = subword_buckets;
    header.subwords.offset = offset;
    header.subwords.length = std::uint64_t{subword_buckets} * dims * 4;
    offset = align_up(offset + header.subwords.length);
  }
  header.file_size = offset;
  return header;
}

std::uint64_t compute_header_checksum(const FileHeader& header) {
  return io::fnv1a64(&header, offsetof(FileHeader, header_checksum));
}

FileHeader read_header(std::span<const std::byte> file) {
  FileHeader header;
  if (file.size() < sizeof header) {
    corrupt("file is truncated: " + std::to_string(file.size()) +
            " bytes is smaller than the header (" + std::to_string(sizeof header) + " bytes)");
  }
  std::memcpy(&header, file.data(), sizeof header);
  if (std::memcmp(header.magic, kModelMagic, sizeof kModelMagic) != 0) {
    corrupt("bad magic number (not an embedding model file)");
  }
  if (header.version != kModelFormatVersion) {
    throw Error(ErrorCode::kFeature,
                "unsupported model file format version " + std::to_string(header.version),
                "this build reads version " + std::to_string(kModelFormatVersion));
  }
  if (header.header_size != sizeof header) {
    corrupt("header size " + std::to_string(header.header_size) + " is not " +
            std::to_string(sizeof header));
  }
  if (header.header_checksum != compute_header_checksum(header)) {
    corrupt("header checksum mismatch");
  }
  if (header.file_size != file.size()) {
    corrupt("file size is " + std::to_string(file.size()) + " bytes but the header says " +
                std::to_string(header.file_size),
            "the file is truncated or has trailing bytes");
  }
  if (header.dims == 0 || header.dims > kMaxModelDims) {
    corrupt("dimensions " + std::to_string(header.dims) + " out of range");
  }
  if (header.vocab_size == 0 || header.vocab_size > kMaxModelVocab) {
    corrupt("vocabulary size " + std::to_string(header.vocab_size) + " out of range");
  }
  if (!is_power_of_two(header.hash_slots) || header.hash_slots <= header.vocab_size) {
    corrupt("hash index size " + std::to_string(header.hash_slots) +
            " is not a power of two larger than the vocabulary");
  }
  std::uint64_t previous_end = sizeof header;
  for (std::size_t i = 0; i < kSectionCount; ++i) {
    const auto section = static_cast<Section>(i);
    const SectionEntry& entry = header.sections[i];
    const std::string name = section_name(section);
    if (entry.offset % kSectionAlignment != 0) {
      corrupt(name + " section offset " + std::to_string(entry.offset) + " is not aligned");
    }
    if (entry.offset < previous_end) {
      corrupt(name + " section overlaps the previous section or the header");
    }
    if (entry.offset > file.size() || entry.length > file.size() - entry.offset) {
      corrupt(name + " section [" + std::to_string(entry.offset) + ", +" +
              std::to_string(entry.length) + ") lies outside the file (" +
              std::to_string(file.size()) + " bytes)");
    }
    const std::uint64_t expected =
        section == Section::kStrings
            ? entry.length
            : fixed_section_length(section, header.dims, header.vocab_size, header.hash_slots);
    if (entry.length != expected) {
      corrupt(name + " section has " + std::to_string(entry.length) + " bytes, expected " +
              std::to_string(expected));
    }
    if (section == Section::kStrings && entry.length > 0xFFFFFFFFull) {
      corrupt("strings section exceeds 4 GiB");
    }
    previous_end = entry.offset + entry.length;
  }
  check_subwords_entry(header, file.size(), previous_end);
  return header;
}

}  // namespace embedding::models
