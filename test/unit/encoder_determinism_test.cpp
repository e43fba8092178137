// The encoder's result depends on the text and the model only: the element-wise kernels give the
// same bits wherever their buffer starts, and embed() the same bits call after call and on any
// number of threads.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/encoder/bert_encoder.h"
#include "core/encoder/encoder_file.h"
#include "core/vector/kernels.h"

namespace embedding::encoder {
namespace {

class ElementwiseKernels : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    table_ = GetParam() == "scalar" ? &kernels::scalar_table() : kernels::avx2_table();
    if (table_ == nullptr) GTEST_SKIP() << "this CPU (or build) has no AVX2+FMA";
  }
  const kernels::KernelTable* table_ = nullptr;
};

// Softmax and GELU of the same values at every offset within a 32-byte line: the same bits, and
// within float rounding of a double-precision reference.
TEST_P(ElementwiseKernels, SameBitsAtAnyAlignment) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  for (const std::size_t n : {1u, 7u, 8u, 13u, 77u}) {
    std::vector<float> values(n);
    for (float& v : values) v = normal(rng);
    std::vector<float> first_softmax, first_gelu;
    for (std::size_t offset = 0; offset < 8; ++offset) {
      std::vector<float> buffer(n + 16);
      std::copy(values.begin(), values.end(), buffer.begin() + offset);
      table_->softmax_rows(buffer.data() + offset, 1, n, n, 0.5f);
      std::vector<float> softmax(buffer.begin() + offset, buffer.begin() + offset + n);
      std::copy(values.begin(), values.end(), buffer.begin() + offset);
      table_->gelu(buffer.data() + offset, n);
      std::vector<float> gelu(buffer.begin() + offset, buffer.begin() + offset + n);
      if (offset == 0) {
        first_softmax = softmax, first_gelu = gelu;
        double top = -INFINITY, sum = 0;
        for (float v : values) top = std::max(top, 0.5 * v);
        for (float v : values) sum += std::exp(0.5 * v - top);
        for (std::size_t i = 0; i < n; ++i) {
          EXPECT_NEAR(softmax[i], std::exp(0.5 * values[i] - top) / sum, 1e-6);
          const double x = values[i];
          EXPECT_NEAR(gelu[i], 0.5 * x * (1 + std::erf(x / std::sqrt(2.0))),
                      2e-6 * (1 + std::fabs(x)));
        }
      }
      EXPECT_EQ(std::memcmp(softmax.data(), first_softmax.data(), n * 4), 0)
          << "n " << n << " offset " << offset;
      EXPECT_EQ(std::memcmp(gelu.data(), first_gelu.data(), n * 4), 0)
          << "n " << n << " offset " << offset;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Tables, ElementwiseKernels, ::testing::Values("scalar", "avx2"),
                         [](const auto& info) { return info.param; });

// A tiny random model (hidden 32, 4 heads of 8: the sizes where a library would take shortcuts).
BertEncoder tiny_encoder(std::vector<std::byte>& image, std::uint32_t intermediate = 48) {
  EncoderConfig c;
  c.vocab_size = 8;
  c.hidden = 32;
  c.layers = 2;
  c.heads = 4;
  c.intermediate = intermediate;
  c.max_positions = 16;
  c.type_vocab = 2;
  c.max_seq_length = 16;
  c.flags = kLowercase | kStripAccents | kChineseChars | kNormalize;
  c.unk_id = 0, c.cls_id = 1, c.sep_id = 2;
  const std::vector<std::string> vocab = {"[UNK]", "[CLS]", "[SEP]", "a", "b", "##b", "c", "."};
  std::size_t total = 0;
  for (const TensorSpec& t : tensor_plan(c)) total += std::size_t{t.rows} * t.cols;
  std::vector<float> weights(total);
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 0.3f);
  for (float& w : weights) w = normal(rng);
  image = build_encoder_file(c, vocab, weights);
  return BertEncoder(EncoderFile::view_bytes(image));
}

// Calls with the heap in different states (so buffers land at different addresses) agree bit for
// bit.
TEST(EncoderDeterminism, SameBitsCallAfterCall) {
  std::vector<std::byte> image;
  const BertEncoder encoder = tiny_encoder(image);
  const std::string_view text = "a bb c. a";
  std::vector<float> first(32), again(32);
  encoder.embed(std::span<const std::string_view>(&text, 1), first.data());
  std::vector<std::unique_ptr<char[]>> ballast;
  for (int i = 1; i < 40; ++i) {
    ballast.emplace_back(new char[i * 4 + 1]);  // shifts where the next buffers start
    encoder.embed(std::span<const std::string_view>(&text, 1), again.data());
    ASSERT_EQ(std::memcmp(first.data(), again.data(), first.size() * 4), 0) << "call " << i;
  }
}

// A batch large enough to share its work: the same bits on 1, 2 and 3 threads (the work is cut
// into the same pieces whatever the number of threads).
TEST(EncoderDeterminism, SameBitsOnAnyNumberOfThreads) {
  std::vector<std::byte> image;
  const BertEncoder encoder = tiny_encoder(image, 200);  // 4 column blocks, the last one short
  std::vector<std::string> texts;
  for (int i = 0; i < 40; ++i)
    texts.push_back(std::string(i % 7 + 1, 'a') + " bb c . " + std::string(i % 3 + 1, 'b'));
  std::vector<std::string_view> views(texts.begin(), texts.end());
  std::vector<float> one(views.size() * 32), two(one.size()), three(one.size());
  encoder.embed(views, one.data(), 1);
  encoder.embed(views, two.data(), 2);
  encoder.embed(views, three.data(), 3);
  EXPECT_EQ(std::memcmp(one.data(), two.data(), one.size() * 4), 0);
  EXPECT_EQ(std::memcmp(one.data(), three.data(), one.size() * 4), 0);
}

}  // namespace
}  // namespace embedding::encoder
