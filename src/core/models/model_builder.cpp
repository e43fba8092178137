// Model file writer. Every derived value (unit rows, weights, common component) is computed
// here once, in double precision where it matters, so opening a model never computes anything.
#include "core/models/model_builder.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <string>

#include "core/common/error.h"
#include "core/common/interrupt.h"
#include "core/io/checksum.h"
#include "core/models/model_format.h"
#include "core/text/utf8.h"
#include "core/vector/normalize.h"

namespace embedding::models {
namespace {

template <typename T>
T* section_pointer(std::span<std::byte> file, const FileHeader& header, Section section) {
  return reinterpret_cast<T*>(file.data() + section_entry(header, section).offset);
}

void check_source(const WordVectors& source) {
  if (source.dims == 0) throw Error(ErrorCode::kInvalidParameter, "word vectors have 0 dimensions");
  if (source.words.empty()) throw Error(ErrorCode::kInvalidParameter, "word vectors are empty");
  if (source.values.size() != source.words.size() * std::size_t{source.dims}) {
    throw Error(ErrorCode::kInvalidParameter, "word vector values do not match words x dims");
  }
  if (source.words.size() > kMaxModelVocab) {
    throw Error(ErrorCode::kProgramLimit, "too many words for a model file",
                std::to_string(source.words.size()) + " > " + std::to_string(kMaxModelVocab));
  }
  for (const std::string& word : source.words) {
    if (word.empty() || !text::is_valid_utf8_text(word)) {
      throw Error(ErrorCode::kDataException, "model words must be non-empty UTF-8 text",
                  "offending word has " + std::to_string(word.size()) + " bytes");
    }
  }
  for (std::size_t i = 0; i < source.values.size(); ++i) {
    poll_interrupts_every<16>(i);
    if (!std::isfinite(source.values[i])) {
      throw Error(ErrorCode::kDataException, "word vectors contain NaN or infinity");
    }
  }
}

void check_subwords(const SubwordVectors& subwords, std::uint32_t dims) {
  if (subwords.buckets == 0 || subwords.min_n == 0 || subwords.min_n > subwords.max_n ||
      subwords.max_n > kMaxSubwordN) {
    throw Error(ErrorCode::kInvalidParameter, "invalid subword parameters");
  }
  if (subwords.values.size() != std::size_t{subwords.buckets} * dims) {
    throw Error(ErrorCode::kInvalidParameter, "subword values do not match buckets x dims");
  }
  for (std::size_t i = 0; i < subwords.values.size(); ++i) {
    poll_interrupts_every<16>(i);
    if (!std::isfinite(subwords.values[i])) {
      throw Error(ErrorCode::kDataException, "subword vectors contain NaN or infinity");
    }
  }
}

// The layout of the file for this source (checked).
FileHeader plan(const WordVectors& source, const BuildOptions& options) {
  check_source(source);
  std::uint64_t strings_length = 0;
  for (const std::string& word : source.words) strings_length += word.size();
  const auto vocab = static_cast<std::uint32_t>(source.words.size());
  const std::uint32_t hash_slots = std::bit_ceil(2 * vocab);  // load factor <= 0.5
  if (options.subwords != nullptr) check_subwords(*options.subwords, source.dims);
  FileHeader header = plan_layout(source.dims, vocab, strings_length, hash_slots,
                                  options.subwords != nullptr ? options.subwords->buckets : 0);
  header.sif_a = options.sif_a;
  header.reference_sentence_length = options.reference_sentence_length;
  return header;
}

}  // namespace

std::vector<std::byte> build_model(const WordVectors& source, const BuildOptions& options) {
  std::vector<std::byte> file(model_file_size(source, options));
  build_model_into(source, options, file);
  return file;
}

std::size_t model_file_size(const WordVectors& source, const BuildOptions& options) {
  return plan(source, options).file_size;
}

void build_model_into(const WordVectors& source, const BuildOptions& options,
                      std::span<std::byte> file) {
  FileHeader header = plan(source, options);
  if (file.size() != header.file_size)
    throw Error(ErrorCode::kInvalidParameter, "model image buffer of the wrong size");
  std::fill(file.begin(), file.end(), std::byte{0});
  const auto vocab = static_cast<std::uint32_t>(source.words.size());
  const std::uint32_t dims = source.dims;
  const std::uint32_t hash_slots = std::bit_ceil(2 * vocab);
  const SubwordVectors* subwords = options.subwords;

  auto* offsets = section_pointer<std::uint32_t>(file, header, Section::kStringOffsets);
  auto* strings = section_pointer<char>(file, header, Section::kStrings);
  std::uint32_t offset = 0;
  for (std::uint32_t id = 0; id < vocab; ++id) {
    offsets[id] = offset;
    std::memcpy(strings + offset, source.words[id].data(), source.words[id].size());
    offset += static_cast<std::uint32_t>(source.words[id].size());
  }
  offsets[vocab] = offset;

  auto* index = section_pointer<std::uint32_t>(file, header, Section::kHashIndex);
  std::fill(index, index + hash_slots, kEmptySlot);
  const std::uint32_t mask = hash_slots - 1;
  for (std::uint32_t id = 0; id < vocab; ++id) {
    poll_interrupts_every(id);
    const std::string& word = source.words[id];
    std::uint32_t slot = static_cast<std::uint32_t>(io::fnv1a64(word)) & mask;
    while (index[slot] != kEmptySlot) {
      if (source.words[index[slot]] == word) {
        throw Error(ErrorCode::kDataException, "duplicate word in model vocabulary",
                    "word id " + std::to_string(id) + " repeats id " + std::to_string(index[slot]));
      }
      slot = (slot + 1) & mask;
    }
    index[slot] = id;
  }

  auto* matrix = section_pointer<float>(file, header, Section::kMatrix);
  auto* norms = section_pointer<float>(file, header, Section::kNorms);
  for (std::uint32_t id = 0; id < vocab; ++id) {
    poll_interrupts_every(id);
    const float* raw = source.values.data() + std::size_t{id} * dims;
    // A zero vector keeps a zero row and a zero norm (verify() relies on that); a NaN or inf
    // norm is refused below.
    double norm = 0.0;
    vec::normalize(raw, matrix + std::size_t{id} * dims, dims, vec::NoDirection::kZeros, &norm);
    norms[id] = static_cast<float>(norm);
    if (!std::isfinite(norms[id])) {
      throw Error(ErrorCode::kDataException, "word vector norm overflows float32",
                  "word id " + std::to_string(id));
    }
  }

  const std::vector<float> weights = sif_weights(vocab, options.sif_a);
  std::memcpy(section_pointer<float>(file, header, Section::kSifWeights), weights.data(),
              weights.size() * sizeof(float));
  const std::vector<float> common = common_component(matrix, norms, weights.data(), vocab, dims,
                                                     options.reference_sentence_length);
  std::memcpy(section_pointer<float>(file, header, Section::kCommonComponent), common.data(),
              common.size() * sizeof(float));

  for (std::size_t i = 0; i < kSectionCount; ++i) {
    SectionEntry& entry = header.sections[i];
    entry.checksum = io::fnv1a64(file.data() + entry.offset, entry.length);
  }
  if (subwords != nullptr) {
    header.subword_min_n = static_cast<std::uint8_t>(subwords->min_n);
    header.subword_max_n = static_cast<std::uint8_t>(subwords->max_n);
    std::memcpy(file.data() + header.subwords.offset, subwords->values.data(),
                header.subwords.length);
    header.subwords.checksum =
        io::fnv1a64(file.data() + header.subwords.offset, header.subwords.length);
  }
  header.header_checksum = compute_header_checksum(header);
  std::memcpy(file.data(), &header, sizeof header);
}

void write_file_atomically(const std::string& path, std::span<const std::byte> bytes) {
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  // O_EXCL with O_NOFOLLOW: never writes through a file or link someone planted at that name.
  constexpr int kFlags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  int fd = ::open(temporary.c_str(), kFlags, 0600);
  if (fd < 0 && errno == EEXIST) {  // left by a crashed process with our pid: ours to replace
    ::unlink(temporary.c_str());
    fd = ::open(temporary.c_str(), kFlags, 0600);
  }
  if (fd < 0) {
    throw Error(ErrorCode::kIoError,
                "could not create file \"" + temporary + "\": " + std::strerror(errno));
  }
  const auto fail = [&](const char* what) {
    const int error_number = errno;
    ::close(fd);
    ::unlink(temporary.c_str());
    throw Error(ErrorCode::kIoError,
                std::string(what) + " \"" + temporary + "\": " + std::strerror(error_number));
  };
  constexpr std::size_t kStep = std::size_t{32} << 20;  // polls for interrupts between steps
  std::size_t written = 0;
  while (written < bytes.size()) {
    try {
      poll_interrupts();
    } catch (...) {
      ::close(fd);
      ::unlink(temporary.c_str());
      throw;
    }
    const ssize_t result =
        ::write(fd, bytes.data() + written, std::min(kStep, bytes.size() - written));
    if (result < 0) {
      if (errno == EINTR) continue;
      fail("could not write file");
    }
    written += static_cast<std::size_t>(result);
  }
  if (::fsync(fd) != 0) fail("could not sync file");
  if (::close(fd) != 0) {
    const int error_number = errno;
    ::unlink(temporary.c_str());
    throw Error(ErrorCode::kIoError,
                "could not close file \"" + temporary + "\": " + std::strerror(error_number));
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error_number = errno;
    ::unlink(temporary.c_str());
    throw Error(ErrorCode::kIoError, "could not rename \"" + temporary + "\" to \"" + path +
                                         "\": " + std::strerror(error_number));
  }
}

}  // namespace embedding::models
