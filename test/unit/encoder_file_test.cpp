// The sentence encoder's file formats: safetensors, our encoder file (build, view, verify, every
// corruption refused), the loader's size checks, and the kernel table's gemm (JSON config and
// vocab.txt parsing: json_flat_test.cpp).
#include "core/encoder/encoder_file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/encoder/safetensors.h"
#include "core/encoder/st_loader.h"
#include "core/io/checksum.h"
#include "core/vector/kernels.h"
#include "probes.h"

namespace embedding::encoder {
namespace {

using Bytes = std::vector<std::byte>;

using embedding::testing::code_of;

// ---- SafeTensors ---------------------------------------------------------------------------

// An 8-byte little-endian header length, the header, then the data.
Bytes safetensors(const std::string& header, const std::vector<std::uint8_t>& data) {
  Bytes file;
  for (int i = 0; i < 8; ++i) file.push_back(std::byte((std::uint64_t{header.size()} >> 8 * i)));
  for (char ch : header) file.push_back(std::byte(ch));
  for (std::uint8_t b : data) file.push_back(std::byte(b));
  return file;
}

void put16(std::vector<std::uint8_t>& data, std::uint16_t v) {
  data.push_back(v & 0xFF), data.push_back(v >> 8);
}

void put32(std::vector<std::uint8_t>& data, float f) {
  std::uint32_t v;
  std::memcpy(&v, &f, 4);
  for (int i = 0; i < 4; ++i) data.push_back((v >> 8 * i) & 0xFF);
}

// Four F32, five F16 (one subnormal), three BF16 (one subnormal) and one I64 scalar.
Bytes valid_safetensors() {
  std::vector<std::uint8_t> data;
  for (float f : {1.5f, -2.0f, 0.1f, 3.0e38f}) put32(data, f);
  for (std::uint16_t h : {0x3C00, 0xC000, 0x0001, 0x03FF, 0x7BFF}) put16(data, h);
  for (std::uint16_t b : {0x3F80, 0xC049, 0x0001}) put16(data, b);
  for (int i = 0; i < 8; ++i) data.push_back(i == 0 ? 7 : 0);
  return safetensors(R"({"__metadata__": {"format": "pt", "x": [1, {"y": null}]},
    "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
    "h": {"shape": [5], "dtype": "F16", "data_offsets": [16, 26], "extra": {"k": [1]}},
    "b": {"dtype": "BF16", "shape": [3], "data_offsets": [26, 32]},
    "i": {"dtype": "I64", "shape": [], "data_offsets": [32, 40]}})",
                     data);
}

std::vector<float> floats_of(const Tensor& tensor) {
  std::vector<float> out(tensor.elements());
  tensor_to_float(tensor, out.data());
  return out;
}

TEST(SafeTensorsTest, ParsesAndConvertsExactly) {
  const Bytes file = valid_safetensors();
  const SafeTensors st(file, "model.safetensors");
  EXPECT_EQ(st.tensors().size(), 4u);  // __metadata__ is not a tensor
  EXPECT_EQ(st.find("__metadata__"), nullptr);
  EXPECT_EQ(st.find("missing"), nullptr);
  const Tensor* a = st.find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->shape, (std::vector<std::uint64_t>{2, 2}));
  EXPECT_EQ(a->data.data(), file.data() + file.size() - 40);
  EXPECT_EQ(floats_of(*a), (std::vector<float>{1.5f, -2.0f, 0.1f, 3.0e38f}));
  EXPECT_EQ(floats_of(*st.find("h")), (std::vector<float>{1.0f, -2.0f, std::ldexp(1.0f, -24),
                                                          1023 * std::ldexp(1.0f, -24), 65504.0f}));
  EXPECT_EQ(floats_of(*st.find("b")),
            (std::vector<float>{1.0f, -3.140625f, std::ldexp(1.0f, -133)}));
  const Tensor* i = st.find("i");
  EXPECT_EQ(i->elements(), 1u);
  float out;
  EXPECT_EQ(code_of([&] { tensor_to_float(*i, &out); }), ErrorCode::kFeature);
}

TEST(SafeTensorsTest, MalformedFilesAreCorruptData) {
  const auto code = [](const Bytes& file) { return code_of([&] { SafeTensors st(file, "m"); }); };
  const auto one = [&](const std::string& tensor, std::size_t bytes) {
    return code(safetensors("{" + tensor + "}", std::vector<std::uint8_t>(bytes)));
  };
  const ErrorCode corrupt = ErrorCode::kCorruptData;
  Bytes file = valid_safetensors();
  EXPECT_EQ(code(Bytes(file.begin(), file.begin() + 7)), corrupt);
  Bytes long_header = file;  // a header length one byte past the file
  const std::uint64_t past = file.size() - 7;
  std::memcpy(long_header.data(), &past, 8);
  EXPECT_EQ(code(long_header), corrupt);
  EXPECT_EQ(code(Bytes(file.begin(), file.end() - 1)), corrupt);  // truncated data
  EXPECT_EQ(code(safetensors("{}", {})), std::nullopt);
  EXPECT_EQ(code(safetensors("[]", {})), corrupt);
  EXPECT_EQ(code(safetensors("{} x", {})), corrupt);
  EXPECT_EQ(code(safetensors("{", {})), corrupt);
  EXPECT_EQ(one(R"("t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]})", 8), std::nullopt);
  EXPECT_EQ(one(R"("t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 12]})", 12), corrupt);
  EXPECT_EQ(one(R"("t": {"dtype": "F32", "shape": [2], "data_offsets": [4, 8]})", 8), corrupt);
  EXPECT_EQ(one(R"("t": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]})", 8), corrupt);
  EXPECT_EQ(one(R"("t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 16]})", 8), corrupt);
  EXPECT_EQ(one(R"("t": {"dtype": "Q4", "shape": [2], "data_offsets": [0, 1]})", 1), corrupt);
  EXPECT_EQ(one(R"("t": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                   "t": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]})",
                8),
            corrupt);
  EXPECT_EQ(one(R"("t": {"dtype": "F32", "shape": [2]})", 8), corrupt);
  EXPECT_EQ(one(R"("t": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]})", 8), corrupt);
  EXPECT_EQ(one(R"("t": {"dtype": "F32", "shape": [2.0], "data_offsets": [0, 8]})", 8), corrupt);
  EXPECT_EQ(one(R"("t": [])", 0), corrupt);
  // A dimension of 2^40 is refused; 2^40 - 1 times 0 is an empty tensor.
  EXPECT_EQ(one(R"("t": {"dtype": "U8", "shape": [1099511627776, 0], "data_offsets": [0, 0]})", 0),
            corrupt);
  EXPECT_EQ(one(R"("t": {"dtype": "U8", "shape": [1099511627775, 0], "data_offsets": [0, 0]})", 0),
            std::nullopt);
  EXPECT_EQ(one(R"("t": {"dtype": "F64", "shape": [1048576, 1048576, 1048576],
                         "data_offsets": [0, 0]})",
                0),
            corrupt);
}

// ---- EncoderFile ---------------------------------------------------------------------------

EncoderConfig tiny_config() {
  EncoderConfig c;
  c.vocab_size = 12, c.hidden = 4, c.layers = 1, c.heads = 2, c.intermediate = 8;
  c.max_positions = 8, c.type_vocab = 2, c.max_seq_length = 8;
  c.flags = kLowercase | kStripAccents | kChineseChars;
  c.unk_id = 1, c.cls_id = 2, c.sep_id = 3;
  return c;
}

// "dup" and "" repeat: the last of each is the one find() returns.
const std::vector<std::string> kVocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "dup",
                                         "cat",   "##s",   "dup",   "é",     "",    ""};

std::vector<float> random_weights(const EncoderConfig& c, unsigned seed) {
  std::size_t total = 0;
  for (const TensorSpec& t : tensor_plan(c)) total += std::size_t{t.rows} * t.cols;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> w(total);
  for (float& x : w) x = dist(rng);
  return w;
}

// Recomputes every section checksum and the header's, as a writer of a bad file would.
void reseal(Bytes& file) {
  EncoderHeader h;
  std::memcpy(&h, file.data(), sizeof h);
  for (auto& s : h.sections) s.checksum = section_checksum(file.data() + s.offset, s.length);
  h.header_checksum = io::fnv1a64(&h, offsetof(EncoderHeader, header_checksum));
  std::memcpy(file.data(), &h, sizeof h);
}

EncoderHeader header_of(const Bytes& file) {
  EncoderHeader h;
  std::memcpy(&h, file.data(), sizeof h);
  return h;
}

// The code view_bytes + verify throw on file, or nullopt.
std::optional<ErrorCode> open_code(const Bytes& file) {
  return code_of([&] { EncoderFile::view_bytes(file).verify(); });
}

TEST(EncoderFileTest, BuildsViewsAndVerifies) {
  const EncoderConfig c = tiny_config();
  const std::vector<float> weights = random_weights(c, 1);
  const std::vector<TensorSpec> plan = tensor_plan(c);
  EXPECT_EQ(plan.size(), 5u + 16u);
  EXPECT_EQ(plan.front().name, "embeddings.word_embeddings.weight");
  EXPECT_EQ(plan.back().name, "encoder.layer.0.output.LayerNorm.bias");
  const Bytes bytes = build_encoder_file(c, kVocab, weights);
  EXPECT_TRUE(is_encoder_file(bytes));
  const EncoderFile file = EncoderFile::view_bytes(bytes);
  file.verify();
  EXPECT_EQ(std::memcmp(&file.config(), &c, sizeof c), 0);
  EXPECT_EQ(std::memcmp(file.weights(), weights.data(), weights.size() * 4), 0);
  for (std::uint32_t id = 0; id < kVocab.size(); ++id) {
    EXPECT_EQ(file.piece(id), kVocab[id]);
    std::uint32_t last = id;
    for (std::uint32_t j = id; j < kVocab.size(); ++j)
      if (kVocab[j] == kVocab[id]) last = j;
    EXPECT_EQ(file.find(kVocab[id]), last) << kVocab[id];
  }
  EXPECT_EQ(file.find("dup"), 8u);
  EXPECT_EQ(file.find("dog"), std::nullopt);
  EXPECT_EQ(file.find("##"), std::nullopt);
  EXPECT_EQ(code_of([&] { file.piece(12); }), ErrorCode::kCorruptData);
  // Bytes at an odd address are copied, not read in place.
  Bytes shifted(bytes.size() + 1);
  std::memcpy(shifted.data() + 1, bytes.data(), bytes.size());
  const EncoderFile copy = EncoderFile::view_bytes(std::span(shifted).subspan(1));
  copy.verify();
  EXPECT_NE(copy.bytes().data(), shifted.data() + 1);
  EXPECT_EQ(copy.find("cat"), 6u);
  // Wrong inputs to the builder.
  EXPECT_EQ(code_of([&] { build_encoder_file(c, {"a"}, weights); }), ErrorCode::kInvalidParameter);
  EXPECT_EQ(code_of([&] { build_encoder_file(c, kVocab, std::span(weights).first(10)); }),
            ErrorCode::kInvalidParameter);
}

TEST(EncoderFileTest, ResealIsIdentity) {
  const Bytes good = build_encoder_file(tiny_config(), kVocab, random_weights(tiny_config(), 2));
  Bytes copy = good;
  reseal(copy);
  ASSERT_TRUE(copy == good) << "resealing an intact file changed it";
}

TEST(EncoderFileTest, NonFiniteWeightsFailVerify) {
  for (const float bad : {std::numeric_limits<float>::quiet_NaN(),
                          std::numeric_limits<float>::infinity(), -HUGE_VALF}) {
    std::vector<float> weights = random_weights(tiny_config(), 3);
    weights[weights.size() / 3] = bad;
    const Bytes bytes = build_encoder_file(tiny_config(), kVocab, weights);
    const EncoderFile file = EncoderFile::view_bytes(bytes);
    EXPECT_NO_THROW(file.verify_checksums());
    EXPECT_EQ(code_of([&] { file.verify(); }), ErrorCode::kCorruptData);
  }
}

TEST(EncoderFileTest, EveryCorruptionIsRefused) {
  const Bytes good = build_encoder_file(tiny_config(), kVocab, random_weights(tiny_config(), 2));
  const EncoderHeader h = header_of(good);
  // Any byte of the header: a version byte says "unsupported version", any other "corrupt".
  for (std::size_t at = 0; at < sizeof(EncoderHeader); ++at)
    for (std::uint8_t mask : {0x01, 0x80, 0xFF}) {
      Bytes bad = good;
      bad[at] ^= std::byte{mask};
      const bool version = at >= offsetof(EncoderHeader, version) && at < 12;
      EXPECT_EQ(open_code(bad), version ? ErrorCode::kFeature : ErrorCode::kCorruptData)
          << "byte " << at;
    }
  // One byte in each section (first, middle, last): its checksum no longer matches.
  for (const auto& s : h.sections)
    for (std::uint64_t at : {s.offset, s.offset + s.length / 2, s.offset + s.length - 1}) {
      Bytes bad = good;
      bad[at] ^= std::byte{0x20};
      EXPECT_NO_THROW(EncoderFile::view_bytes(bad));  // checksums are verify()'s
      EXPECT_EQ(open_code(bad), ErrorCode::kCorruptData) << "byte " << at;
    }
  // Truncated or extended images.
  for (std::size_t size : {std::size_t{0}, std::size_t{7}, sizeof(EncoderHeader) - 1,
                           sizeof(EncoderHeader), good.size() / 2, good.size() - 1})
    EXPECT_EQ(open_code(Bytes(good.begin(), good.begin() + size)), ErrorCode::kCorruptData);
  Bytes longer = good;
  longer.resize(good.size() + 64);
  EXPECT_EQ(open_code(longer), ErrorCode::kCorruptData);
  // Structural damage behind valid checksums: only verify()'s own checks catch it.
  const auto resealed = [&](auto&& damage) {
    Bytes bad = good;
    damage(bad);
    reseal(bad);
    return open_code(bad);
  };
  const auto u32 = [&](Bytes& f, std::uint64_t offset, std::uint32_t value) {
    std::memcpy(f.data() + offset, &value, 4);
  };
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const std::uint64_t weights = h.sections[3].offset, hash = h.sections[2].offset;
  EXPECT_EQ(resealed([&](Bytes& f) { std::memcpy(f.data() + weights + 40, &nan, 4); }),
            ErrorCode::kCorruptData);
  EXPECT_EQ(resealed([&](Bytes& f) {
              std::memcpy(f.data() + weights + h.sections[3].length - 4, &inf, 4);
            }),
            ErrorCode::kCorruptData);
  EXPECT_EQ(resealed([&](Bytes& f) { u32(f, h.sections[0].offset + 8, 0); }),
            ErrorCode::kCorruptData);  // offsets not ascending
  EXPECT_EQ(resealed([&](Bytes& f) { u32(f, h.sections[0].offset, 1); }), ErrorCode::kCorruptData);
  EXPECT_EQ(resealed([&](Bytes& f) { u32(f, h.sections[0].offset + 48, 1000); }),
            ErrorCode::kCorruptData);  // the end offset past the strings
  EXPECT_EQ(resealed([&](Bytes& f) { f[h.sections[1].offset] = std::byte{0xFF}; }),
            ErrorCode::kCorruptData);  // not UTF-8
  EXPECT_EQ(resealed([&](Bytes& f) {
              for (std::uint32_t s = 0; s < h.hash_slots; ++s) u32(f, hash + 4 * s, 0xFFFFFFFF);
            }),
            ErrorCode::kCorruptData);  // an empty index
  EXPECT_EQ(resealed([&](Bytes& f) {
              for (std::uint32_t s = 0; s < h.hash_slots; ++s) u32(f, hash + 4 * s, 12);
            }),
            ErrorCode::kCorruptData);  // ids outside the vocabulary
}

TEST(EncoderFileTest, CheckConfigRefusesInconsistentShapes) {
  const auto code = [](auto&& change) {
    EncoderConfig c = tiny_config();
    change(c);
    return code_of([&] { check_config(c); });
  };
  EXPECT_EQ(code([](EncoderConfig&) {}), std::nullopt);
  EXPECT_EQ(code([](EncoderConfig& c) { c.heads = 3; }), ErrorCode::kFeature);
  EXPECT_EQ(code([](EncoderConfig& c) { c.heads = 8; }), ErrorCode::kProgramLimit);
  EXPECT_EQ(code([](EncoderConfig& c) { c.heads = 0; }), ErrorCode::kProgramLimit);
  EXPECT_EQ(code([](EncoderConfig& c) { c.unk_id = 12; }), ErrorCode::kCorruptData);
  EXPECT_EQ(code([](EncoderConfig& c) { c.cls_id = 12; }), ErrorCode::kCorruptData);
  EXPECT_EQ(code([](EncoderConfig& c) { c.sep_id = 0xFFFFFFFF; }), ErrorCode::kCorruptData);
  EXPECT_EQ(code([](EncoderConfig& c) { c.max_seq_length = 9; }), ErrorCode::kProgramLimit);
  EXPECT_EQ(code([](EncoderConfig& c) { c.max_seq_length = 2; }), ErrorCode::kProgramLimit);
  EXPECT_EQ(code([](EncoderConfig& c) { c.hidden = kMaxHidden + 4; }), ErrorCode::kProgramLimit);
  EXPECT_EQ(code([](EncoderConfig& c) { c.layers = 0; }), ErrorCode::kProgramLimit);
  EXPECT_EQ(code([](EncoderConfig& c) { c.pooling = Pooling(3); }), ErrorCode::kCorruptData);
  EXPECT_EQ(code([](EncoderConfig& c) { c.flags = 32; }), ErrorCode::kCorruptData);
  EXPECT_EQ(code([](EncoderConfig& c) { c.layer_norm_eps = 0; }), ErrorCode::kCorruptData);
  EXPECT_EQ(code([](EncoderConfig& c) { c.layer_norm_eps = std::nan(""); }),
            ErrorCode::kCorruptData);
}

// ---- The kernel table's gemm ---------------------------------------------------------------

class GemmTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    table_ = GetParam() == "scalar" ? &kernels::scalar_table() : kernels::avx2_table();
    if (table_ == nullptr) GTEST_SKIP() << "this CPU (or build) has no AVX2+FMA";
  }
  const kernels::KernelTable* table_ = nullptr;
};

TEST_P(GemmTest, MatchesDoublePrecisionLoop) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  const std::size_t shapes[][3] = {{1, 1, 1},   {3, 5, 7},    {2, 3, 0},  {8, 8, 8},
                                   {9, 17, 13}, {33, 10, 70}, {5, 64, 31}};
  for (const auto& [n, m, k] : shapes)
    for (bool trans_b : {false, true})
      for (bool accumulate : {false, true}) {
        const std::size_t lda = k + 3, ldb = (trans_b ? k : m) + 5, ldc = m + 2;
        std::vector<float> a(n * lda), b((trans_b ? m : k) * ldb), c(n * ldc);
        for (float& x : a) x = dist(rng);
        for (float& x : b) x = dist(rng);
        for (float& x : c) x = dist(rng);
        const std::vector<float> before = c;
        table_->gemm(n, m, k, a.data(), lda, b.data(), ldb, trans_b, c.data(), ldc, accumulate);
        for (std::size_t i = 0; i < n; ++i)
          for (std::size_t j = 0; j < ldc; ++j) {
            const float got = c[i * ldc + j];
            if (j >= m) {  // past the width: untouched
              EXPECT_EQ(got, before[i * ldc + j]);
              continue;
            }
            double want = accumulate ? before[i * ldc + j] : 0.0, magnitude = std::fabs(want);
            for (std::size_t p = 0; p < k; ++p) {
              const double term =
                  double(a[i * lda + p]) * (trans_b ? b[j * ldb + p] : b[p * ldb + j]);
              want += term, magnitude += std::fabs(term);
            }
            EXPECT_LE(std::fabs(got - want), 1e-4 * std::max(magnitude, 1.0))
                << n << "x" << m << "x" << k << " trans_b " << trans_b << " accumulate "
                << accumulate << " at " << i << "," << j;
          }
      }
}

INSTANTIATE_TEST_SUITE_P(Tables, GemmTest, ::testing::Values("scalar", "avx2"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace embedding::encoder
