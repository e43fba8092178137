// Model file format: build/open round trip, O(1) header validation of every field, lazy bounds
// checks on unverified files, and verify() catching corruption in each section.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/io/checksum.h"
#include "core/io/mapped_file.h"
#include "core/models/loaders.h"
#include "core/models/model.h"
#include "core/models/model_builder.h"
#include "core/models/model_format.h"
#include "core/models/sif.h"

namespace embedding::models {
namespace {

WordVectors toy_vectors() {
  return load_word_vectors(io::read_file(EMB_SOURCE_DIR "/test/data/models_toy.w2v.txt"),
                           SourceFormat::kWord2vecText);
}

FileHeader header_of(const std::vector<std::byte>& file) {
  FileHeader header;
  std::memcpy(&header, file.data(), sizeof header);
  return header;
}

void store_header(std::vector<std::byte>& file, FileHeader header) {
  header.header_checksum = compute_header_checksum(header);
  std::memcpy(file.data(), &header, sizeof header);
}

// Recomputes every checksum so that only the structural checks can catch a change.
void reseal(std::vector<std::byte>& file) {
  FileHeader header = header_of(file);
  for (auto& entry : header.sections) {
    entry.checksum = io::fnv1a64(file.data() + entry.offset, entry.length);
  }
  store_header(file, header);
}

template <typename T>
T* section_at(std::vector<std::byte>& file, Section section, std::size_t index = 0) {
  return reinterpret_cast<T*>(file.data() + section_entry(header_of(file), section).offset) + index;
}

ErrorCode open_error(std::vector<std::byte> file) {
  try {
    Model::from_bytes(std::move(file));
  } catch (const Error& error) {
    return error.code();
  }
  return ErrorCode::kInternal;  // no error
}

std::string verify_error(std::vector<std::byte> file) {
  const Model model = Model::from_bytes(std::move(file));
  try {
    model.verify();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kCorruptData);
    return error.what();
  }
  return "";
}

TEST(ModelFormat, RoundTripKeepsWordsVectorsAndWeights) {
  const WordVectors source = toy_vectors();
  const Model model = Model::from_bytes(build_model(source));
  model.verify();
  ASSERT_EQ(model.vocab_size(), source.words.size());
  ASSERT_EQ(model.dims(), 4u);
  const double harmonic = harmonic_number(source.words.size());
  for (std::uint32_t id = 0; id < model.vocab_size(); ++id) {
    EXPECT_EQ(model.word(id), source.words[id]);
    EXPECT_EQ(model.find(source.words[id]), id);
    const float* raw = source.values.data() + id * 4;
    const double norm =
        std::sqrt(raw[0] * raw[0] + raw[1] * raw[1] + raw[2] * raw[2] + double(raw[3]) * raw[3]);
    EXPECT_NEAR(model.norm(id), norm, 1e-6);
    for (int i = 0; i < 4; ++i) EXPECT_NEAR(model.unit_vector(id)[i], raw[i] / norm, 1e-6);
    EXPECT_NEAR(model.sif_weight(id), 1e-3 / (1e-3 + 1.0 / ((id + 1) * harmonic)), 1e-7);
  }
  double u = 0;
  for (float value : model.common_component()) u += value * value;
  EXPECT_NEAR(u, 1.0, 1e-6);
  EXPECT_EQ(model.header().sif_a, kDefaultSifA);
}

TEST(ModelFormat, FileRoundTripThroughMmap) {
  const auto bytes = build_model(toy_vectors());
  const auto path = std::filesystem::temp_directory_path() /
                    ("models_format_test_" + std::to_string(::getpid()) + ".emb");
  write_file_atomically(path.string(), bytes);
  {
    const Model model = Model::open_file(path.string());
    model.verify();
    ASSERT_EQ(model.bytes().size(), bytes.size());
    EXPECT_EQ(std::memcmp(model.bytes().data(), bytes.data(), bytes.size()), 0);
    EXPECT_EQ(model.find("queen"), 4u);
  }
  std::filesystem::remove(path);
}

TEST(ModelFormat, BuildIsDeterministic) {
  EXPECT_EQ(build_model(toy_vectors()), build_model(toy_vectors()));
}

TEST(ModelFormat, UnknownWordsAndCaseFolding) {
  const Model model = Model::from_bytes(build_model(toy_vectors()));
  EXPECT_FALSE(model.find("emperor").has_value());
  EXPECT_FALSE(model.find("").has_value());
  EXPECT_FALSE(model.find("King").has_value());
  EXPECT_EQ(model.lookup("King"), 3u);
  EXPECT_EQ(model.lookup("CAFÉ"), 9u);
  EXPECT_THROW(model.word(model.vocab_size()), Error);
}

TEST(ModelFormat, MisalignedViewIsCopied) {
  const auto bytes = build_model(toy_vectors());
  std::vector<std::byte> shifted(bytes.size() + 1);
  std::memcpy(shifted.data() + 1, bytes.data(), bytes.size());
  const Model model = Model::view_bytes({shifted.data() + 1, bytes.size()});
  model.verify();
  EXPECT_EQ(model.find("dog"), 6u);
}

TEST(ModelFormat, EveryTruncationIsCorruptData) {
  const auto bytes = build_model(toy_vectors());
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    std::vector<std::byte> prefix(bytes.begin(), bytes.begin() + length);
    EXPECT_EQ(open_error(prefix), ErrorCode::kCorruptData) << "length " << length;
  }
  std::vector<std::byte> longer = bytes;
  longer.push_back(std::byte{0});
  EXPECT_EQ(open_error(longer), ErrorCode::kCorruptData);
}

TEST(ModelFormat, BadHeaderFieldsAreRejectedOnOpen) {
  const auto bytes = build_model(toy_vectors());
  const FileHeader good = header_of(bytes);
  const auto with = [&](auto change) {
    std::vector<std::byte> file = bytes;
    FileHeader header = good;
    change(header);
    store_header(file, header);
    return open_error(file);
  };
  EXPECT_EQ(open_error(bytes), ErrorCode::kInternal);  // sanity: the original opens
  {
    std::vector<std::byte> file = bytes;
    file[0] = std::byte{'X'};
    EXPECT_EQ(open_error(file), ErrorCode::kCorruptData);  // magic
    file = bytes;
    file[40] ^= std::byte{1};  // sif_a, without fixing the checksum
    EXPECT_EQ(open_error(file), ErrorCode::kCorruptData);
  }
  EXPECT_EQ(with([](FileHeader& h) { h.version = 2; }), ErrorCode::kFeature);
  EXPECT_EQ(with([](FileHeader& h) { h.header_size = 128; }), ErrorCode::kCorruptData);
  EXPECT_EQ(with([](FileHeader& h) { h.file_size += 64; }), ErrorCode::kCorruptData);
  EXPECT_EQ(with([](FileHeader& h) { h.dims = 0; }), ErrorCode::kCorruptData);
  EXPECT_EQ(with([](FileHeader& h) { h.dims = kMaxModelDims + 1; }), ErrorCode::kCorruptData);
  EXPECT_EQ(with([](FileHeader& h) { h.dims = 5; }), ErrorCode::kCorruptData);
  EXPECT_EQ(with([](FileHeader& h) { h.vocab_size = 0; }), ErrorCode::kCorruptData);
  EXPECT_EQ(with([](FileHeader& h) { h.vocab_size = 15; }), ErrorCode::kCorruptData);
  EXPECT_EQ(with([](FileHeader& h) { h.hash_slots = 48; }), ErrorCode::kCorruptData);
  EXPECT_EQ(with([](FileHeader& h) { h.hash_slots = 8; }), ErrorCode::kCorruptData);
  for (std::size_t i = 0; i < kSectionCount; ++i) {
    SCOPED_TRACE(section_name(static_cast<Section>(i)));
    EXPECT_EQ(with([&](FileHeader& h) { h.sections[i].offset += 4; }), ErrorCode::kCorruptData);
    EXPECT_EQ(with([&](FileHeader& h) { h.sections[i].offset = good.file_size; }),
              ErrorCode::kCorruptData);
    EXPECT_EQ(with([&](FileHeader& h) { h.sections[i].offset = ~0ull & ~63ull; }),
              ErrorCode::kCorruptData);
    EXPECT_EQ(with([&](FileHeader& h) { h.sections[i].length += 4; }), ErrorCode::kCorruptData);
    EXPECT_EQ(with([&](FileHeader& h) { h.sections[i].length = ~0ull; }), ErrorCode::kCorruptData);
    EXPECT_EQ(with([&](FileHeader& h) { h.sections[i].offset = 0; }), ErrorCode::kCorruptData);
  }
  // Sections out of order (overlapping).
  EXPECT_EQ(with([&](FileHeader& h) {
              std::swap(h.sections[5], h.sections[4]);  // norms and SIF weights: same length
            }),
            ErrorCode::kCorruptData);
}

TEST(ModelFormat, VerifyDetectsAFlippedByteInEverySection) {
  const auto bytes = build_model(toy_vectors());
  const FileHeader header = header_of(bytes);
  EXPECT_EQ(verify_error(bytes), "");
  for (std::size_t i = 0; i < kSectionCount; ++i) {
    std::vector<std::byte> file = bytes;
    file[header.sections[i].offset + header.sections[i].length / 2] ^= std::byte{0x10};
    const std::string message = verify_error(file);
    EXPECT_NE(message.find(section_name(static_cast<Section>(i))), std::string::npos) << message;
    EXPECT_NE(message.find("checksum"), std::string::npos) << message;
  }
}

TEST(ModelFormat, StringOffsetsAreCheckedOnOpenAndOnAccess) {
  const auto bytes = build_model(toy_vectors());
  std::vector<std::byte> file = bytes;
  *section_at<std::uint32_t>(file, Section::kStringOffsets, 0) = 1;
  reseal(file);
  EXPECT_EQ(open_error(file), ErrorCode::kCorruptData);

  file = bytes;
  *section_at<std::uint32_t>(file, Section::kStringOffsets, 3) = 0xFFFFFF00u;  // "king"
  reseal(file);
  const Model model = Model::from_bytes(file);
  EXPECT_EQ(model.word(0), "the");
  try {
    model.word(3);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kCorruptData);
  }
  EXPECT_NE(verify_error(file).find("string offsets"), std::string::npos);
}

TEST(ModelFormat, HashSlotsAreCheckedOnAccess) {
  std::vector<std::byte> file = build_model(toy_vectors());
  const FileHeader header = header_of(file);
  const std::uint32_t slot =
      static_cast<std::uint32_t>(io::fnv1a64("queen")) & (header.hash_slots - 1);
  std::uint32_t* index = section_at<std::uint32_t>(file, Section::kHashIndex);
  ASSERT_NE(index[slot], kEmptySlot);
  index[slot] = 1000;
  reseal(file);
  const Model model = Model::from_bytes(file);
  EXPECT_THROW(model.find("queen"), Error);
  EXPECT_NE(verify_error(file).find("hash index"), std::string::npos);

  // A full table without free slots still terminates.
  file = build_model(toy_vectors());
  index = section_at<std::uint32_t>(file, Section::kHashIndex);
  for (std::uint32_t i = 0; i < header.hash_slots; ++i) index[i] = 0;
  reseal(file);
  EXPECT_FALSE(Model::from_bytes(file).find("emperor").has_value());
  EXPECT_NE(verify_error(file).find("hash index"), std::string::npos);
}

TEST(ModelFormat, VerifyChecksValuesBehindValidChecksums) {
  const auto bytes = build_model(toy_vectors());
  const auto corrupted = [&](Section section, std::size_t index, float value) {
    std::vector<std::byte> file = bytes;
    *section_at<float>(file, section, index) = value;
    reseal(file);
    return verify_error(file);
  };
  EXPECT_NE(corrupted(Section::kMatrix, 5, NAN).find("row 1"), std::string::npos);
  EXPECT_NE(corrupted(Section::kMatrix, 0, 3.0f).find("row 0"), std::string::npos);
  EXPECT_NE(corrupted(Section::kNorms, 2, -1.0f).find("norm"), std::string::npos);
  EXPECT_NE(corrupted(Section::kNorms, 2, 0.0f).find("norm"), std::string::npos);
  EXPECT_NE(corrupted(Section::kSifWeights, 2, 0.0f).find("SIF weight"), std::string::npos);
  EXPECT_NE(corrupted(Section::kCommonComponent, 0, 2.0f).find("common"), std::string::npos);

  std::vector<std::byte> file = bytes;
  section_at<char>(file, Section::kStrings)[0] = '\xff';  // "the" is no longer UTF-8
  reseal(file);
  EXPECT_NE(verify_error(file).find("UTF-8"), std::string::npos);
}

TEST(ModelFormat, BuildRejectsBadInput) {
  WordVectors source = toy_vectors();
  source.words[2] = source.words[1];
  EXPECT_THROW(build_model(source), Error);
  source = toy_vectors();
  source.values[7] = INFINITY;
  EXPECT_THROW(build_model(source), Error);
  source = toy_vectors();
  source.words[0] = "bad\xff";
  EXPECT_THROW(build_model(source), Error);
  source = toy_vectors();
  source.values.pop_back();
  EXPECT_THROW(build_model(source), Error);
}

TEST(ModelFormat, ZeroVectorsAreAllowed) {
  WordVectors source;
  source.dims = 3;
  source.words = {"zero", "one"};
  source.values = {0, 0, 0, 0, 2, 0};
  const Model model = Model::from_bytes(build_model(source));
  model.verify();
  EXPECT_EQ(model.norm(0), 0.0f);
  EXPECT_EQ(model.unit_vector(0)[1], 0.0f);
  EXPECT_EQ(model.unit_vector(1)[1], 1.0f);
}

}  // namespace
}  // namespace embedding::models
