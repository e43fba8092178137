// BertEncoder on tiny random models: tokenisation ([CLS] ... [SEP], truncation), batches equal to
// single texts, normalisation, the forward pass against a plain double-precision BERT, and weights
// too large for float32 refused (never a NaN vector).
#include "core/encoder/bert_encoder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/error.h"
#include "probes.h"

namespace embedding::encoder {
namespace {

using Ids = std::vector<std::uint32_t>;

const std::vector<std::string> kVocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "cat", "##s",
                                         "sat",   "on",    "mat",   ".",     "é",   "un",  "##der"};

EncoderConfig tiny_config(std::uint32_t layers = 1, Pooling pooling = Pooling::kMean,
                          std::uint32_t flags = 0) {
  EncoderConfig c;
  c.vocab_size = static_cast<std::uint32_t>(kVocab.size());
  c.hidden = 4, c.layers = layers, c.heads = 2, c.intermediate = 8;
  c.max_positions = 16, c.type_vocab = 2, c.max_seq_length = 8;
  c.pooling = pooling;
  c.flags = flags | kLowercase | kStripAccents | kChineseChars;
  c.unk_id = 1, c.cls_id = 2, c.sep_id = 3;
  c.layer_norm_eps = 1e-12;
  return c;
}

std::vector<float> random_weights(const EncoderConfig& c, unsigned seed) {
  std::size_t total = 0;
  for (const TensorSpec& t : tensor_plan(c)) total += std::size_t{t.rows} * t.cols;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> w(total);
  for (float& x : w) x = dist(rng);
  return w;
}

// The encoder keeps a view of the image: both live as long as the test.
struct TinyModel {
  explicit TinyModel(const EncoderConfig& config, unsigned seed = 1)
      : weights(random_weights(config, seed)),
        image(build_encoder_file(config, kVocab, weights)),
        encoder(EncoderFile::view_bytes(image)) {}
  std::vector<float> weights;
  std::vector<std::byte> image;
  BertEncoder encoder;
};

std::vector<float> embed_all(const BertEncoder& encoder, const std::vector<std::string>& texts) {
  const std::vector<std::string_view> views(texts.begin(), texts.end());
  std::vector<float> out(texts.size() * encoder.dims());
  encoder.embed(views, out.data());
  return out;
}

// ---- A plain double-precision BERT -------------------------------------------------------

using Rows = std::vector<std::vector<double>>;

class Reference {
 public:
  Reference(const EncoderConfig& c, const std::vector<float>& weights) : c_(c) {
    const float* at = weights.data();
    for (const TensorSpec& t : tensor_plan(c)) {
      tensors_[t.name] = at;
      at += std::size_t{t.rows} * t.cols;
    }
  }

  // The pooled sentence vector of ids.
  std::vector<double> embed(const Ids& ids) const {
    const std::size_t h = c_.hidden;
    Rows x(ids.size(), std::vector<double>(h));
    for (std::size_t t = 0; t < ids.size(); ++t)
      for (std::size_t j = 0; j < h; ++j)
        x[t][j] = w("embeddings.word_embeddings.weight")[ids[t] * h + j] +
                  w("embeddings.position_embeddings.weight")[t * h + j] +
                  w("embeddings.token_type_embeddings.weight")[j];
    x = layer_norm(x, "embeddings.LayerNorm");
    for (std::uint32_t i = 0; i < c_.layers; ++i) {
      const std::string p = "encoder.layer." + std::to_string(i) + ".";
      const Rows attended =
          layer_norm(add(linear(attention(x, p), p + "attention.output.dense"), x),
                     p + "attention.output.LayerNorm");
      Rows inter = linear(attended, p + "intermediate.dense");
      for (auto& row : inter)
        for (double& v : row) v = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
      x = layer_norm(add(linear(inter, p + "output.dense"), attended), p + "output.LayerNorm");
    }
    std::vector<double> pooled(h);
    for (std::size_t j = 0; j < h; ++j) {
      if (c_.pooling == Pooling::kCls) pooled[j] = x[0][j];
      if (c_.pooling == Pooling::kMax) {
        pooled[j] = x[0][j];
        for (const auto& row : x) pooled[j] = std::max(pooled[j], row[j]);
      }
      if (c_.pooling == Pooling::kMean) {
        for (const auto& row : x) pooled[j] += row[j];
        pooled[j] /= static_cast<double>(x.size());
      }
    }
    return pooled;
  }

 private:
  const float* w(const std::string& name) const { return tensors_.at(name); }

  // x W^T + b, W out x in.
  Rows linear(const Rows& x, const std::string& name) const {
    const float* weight = w(name + ".weight");
    const float* bias = w(name + ".bias");
    const std::size_t in = x[0].size();
    const std::size_t out = name.ends_with("intermediate.dense") ? c_.intermediate : c_.hidden;
    Rows y(x.size(), std::vector<double>(out));
    for (std::size_t t = 0; t < x.size(); ++t)
      for (std::size_t o = 0; o < out; ++o) {
        y[t][o] = bias[o];
        for (std::size_t i = 0; i < in; ++i) y[t][o] += x[t][i] * weight[o * in + i];
      }
    return y;
  }

  static Rows add(Rows a, const Rows& b) {
    for (std::size_t t = 0; t < a.size(); ++t)
      for (std::size_t j = 0; j < a[t].size(); ++j) a[t][j] += b[t][j];
    return a;
  }

  Rows layer_norm(Rows x, const std::string& name) const {
    const float* gamma = w(name + ".weight");
    const float* beta = w(name + ".bias");
    for (auto& row : x) {
      double mean = 0, variance = 0;
      for (double v : row) mean += v / row.size();
      for (double v : row) variance += (v - mean) * (v - mean) / row.size();
      for (std::size_t j = 0; j < row.size(); ++j)
        row[j] = (row[j] - mean) / std::sqrt(variance + c_.layer_norm_eps) * gamma[j] + beta[j];
    }
    return x;
  }

  // Multi-head self-attention over the whole sequence: the heads' contexts side by side.
  Rows attention(const Rows& x, const std::string& p) const {
    const Rows q = linear(x, p + "attention.self.query"), k = linear(x, p + "attention.self.key"),
               v = linear(x, p + "attention.self.value");
    const std::size_t n = x.size(), d = c_.hidden / c_.heads;
    Rows context(n, std::vector<double>(c_.hidden));
    for (std::size_t head = 0; head < c_.heads; ++head)
      for (std::size_t i = 0; i < n; ++i) {
        std::vector<double> p_ij(n);
        double top = -1e300, sum = 0;
        for (std::size_t j = 0; j < n; ++j) {
          for (std::size_t e = head * d; e < (head + 1) * d; ++e) p_ij[j] += q[i][e] * k[j][e];
          p_ij[j] /= std::sqrt(static_cast<double>(d));
          top = std::max(top, p_ij[j]);
        }
        for (double& s : p_ij) sum += (s = std::exp(s - top));
        for (std::size_t j = 0; j < n; ++j)
          for (std::size_t e = head * d; e < (head + 1) * d; ++e)
            context[i][e] += p_ij[j] / sum * v[j][e];
      }
    return context;
  }

  EncoderConfig c_;
  std::map<std::string, const float*> tensors_;
};

// ---- Tests -------------------------------------------------------------------------------

TEST(BertEncoderTest, TokenizesWithSpecialTokensAndTruncates) {
  const TinyModel model(tiny_config());
  const BertEncoder& encoder = model.encoder;
  EXPECT_EQ(encoder.dims(), 4u);
  EXPECT_EQ(encoder.tokenize("The cats sat."), (Ids{2, 4, 5, 6, 7, 10, 3}));
  // Accents are stripped before the lookup: "É" becomes "e", which is not in the vocabulary.
  EXPECT_EQ(encoder.tokenize("under dog É"), (Ids{2, 12, 13, 1, 1, 3}));
  EXPECT_EQ(encoder.tokenize(""), (Ids{2, 3}));
  EXPECT_EQ(encoder.tokenize(" \t\n"), (Ids{2, 3}));
  // Truncated to max_seq_length (8): [CLS], six pieces, [SEP]; a word's pieces may be cut.
  std::string long_text;
  for (int i = 0; i < 10000; ++i) long_text += "the cats ";
  EXPECT_EQ(encoder.tokenize(long_text), (Ids{2, 4, 5, 6, 4, 5, 6, 3}));
  EXPECT_EQ(encoder.tokenize("cats cats cats"), (Ids{2, 5, 6, 5, 6, 5, 6, 3}));
  EXPECT_EQ(encoder.tokenize("the cats cats cats"), (Ids{2, 4, 5, 6, 5, 6, 5, 3}));
  EXPECT_EQ(encoder.tokenize("cats cats cats cats").size(), 8u);
  EXPECT_EQ(encoder.tokenize("the the the the the the the the the").size(), 8u);
}

// A 10 MB word is one [UNK] (BERT's max_input_chars_per_word) and what follows it still counts;
// 10 MB of '!' stops at max_seq_length; neither copies the text, lower-cased first or not.
TEST(BertEncoderTest, LongWordIsUnknownWithSmallBuffers) {
  const std::string word(10u << 20, 'x');
  const std::string text = word + " the cats";
  const std::string bangs(10u << 20, '!');
  for (std::uint32_t flags : {0u, std::uint32_t{kLowercaseText}}) {
    const TinyModel model(tiny_config(1, Pooling::kMean, flags));
    embedding::testing::AllocProbe probe;
    EXPECT_EQ(model.encoder.tokenize(text), (Ids{2, 1, 4, 5, 6, 3}));
    EXPECT_EQ(model.encoder.tokenize(bangs), (Ids{2, 1, 1, 1, 1, 1, 1, 3}));
    EXPECT_LT(probe.largest(), 64u << 10);
  }
}

TEST(BertEncoderTest, BatchEqualsSingleTexts) {
  const TinyModel model(tiny_config(2));
  std::vector<std::string> texts = {"the cat sat on the mat.", "", "cats", "dog dog", "é un"};
  // Enough texts for several chunks of kChunkTokens tokens.
  for (int i = 0; i < 400; ++i) {
    std::string text;
    for (int w = 0; w < i % 11; ++w) text += kVocab[4 + (i + w) % 10] + " ";
    texts.push_back(text);
  }
  const std::vector<float> batch = embed_all(model.encoder, texts);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::vector<float> alone = embed_all(model.encoder, {texts[i]});
    for (std::size_t j = 0; j < 4; ++j) ASSERT_NEAR(batch[i * 4 + j], alone[j], 1e-5) << i;
  }
}

TEST(BertEncoderTest, NormalizeGivesUnitVectors) {
  const TinyModel model(tiny_config(1, Pooling::kMean, kNormalize));
  const TinyModel plain(tiny_config(1, Pooling::kMean, 0));
  const std::vector<std::string> texts = {"the cat", "", "mat mat mat mat", "sat on"};
  const std::vector<float> unit = embed_all(model.encoder, texts);
  const std::vector<float> raw = embed_all(plain.encoder, texts);
  for (std::size_t i = 0; i < texts.size(); ++i) {
    double norm = 0;
    for (std::size_t j = 0; j < 4; ++j) norm += double(raw[i * 4 + j]) * raw[i * 4 + j];
    norm = std::sqrt(norm);
    double squared = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      squared += double(unit[i * 4 + j]) * unit[i * 4 + j];
      EXPECT_NEAR(unit[i * 4 + j], raw[i * 4 + j] / norm, 1e-6);  // same weights, same direction
    }
    EXPECT_NEAR(squared, 1.0, 1e-6);
  }
}

TEST(BertEncoderTest, MatchesPlainDoublePrecisionBert) {
  const std::vector<std::string> texts = {"the cat sat on the mat.", "", "cats", "un é dog",
                                          "the the the the the the the the"};
  for (const std::uint32_t layers : {1u, 2u})
    for (const Pooling pooling : {Pooling::kMean, Pooling::kCls, Pooling::kMax}) {
      const EncoderConfig c = tiny_config(layers, pooling);
      const TinyModel model(c, 10 + layers);
      const Reference reference(c, model.weights);
      const std::vector<float> got = embed_all(model.encoder, texts);
      for (std::size_t i = 0; i < texts.size(); ++i) {
        const std::vector<double> want = reference.embed(model.encoder.tokenize(texts[i]));
        for (std::size_t j = 0; j < 4; ++j)
          EXPECT_NEAR(got[i * 4 + j], want[j], 1e-5)
              << "layers " << layers << " pooling " << int(pooling) << " text " << i;
      }
    }
}

// ---- Weights too large for float32 ----------------------------------------------------------

// The first layer's query weight of a 2-layer tiny model, all set to value (a finite float).
std::vector<float> with_query_weight(const EncoderConfig& c, float value) {
  std::vector<float> weights = random_weights(c, 5);
  std::size_t at = 0;
  for (const TensorSpec& t : tensor_plan(c)) {
    const std::size_t count = std::size_t{t.rows} * t.cols;
    if (t.name == "encoder.layer.0.attention.self.query.weight")
      std::fill_n(weights.begin() + at, count, value);
    at += count;
  }
  return weights;
}

TEST(BertEncoderTest, HugeFiniteWeightsAreRefusedAndNeverGiveNaN) {
  const EncoderConfig c = tiny_config(2);
  const std::vector<std::byte> image = build_encoder_file(c, kVocab, with_query_weight(c, 3e38f));
  const EncoderFile file = EncoderFile::view_bytes(image);
  try {
    file.verify();
    FAIL() << "verify() accepted weights that overflow float32";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kCorruptData);
    EXPECT_NE(std::string(error.what()).find("too large"), std::string::npos) << error.what();
  }
  // Unverified, the encoder computes NaN, and says so instead of returning it.
  const BertEncoder encoder(file);
  const std::string_view text = "the cat sat";
  std::vector<float> out(encoder.dims());
  try {
    encoder.embed(std::span(&text, 1), out.data());
    FAIL() << "embed() returned " << out[0] << " ...";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::kDataException);
  }
}

TEST(BertEncoderTest, LargeWeightsWithinTheBoundPassAndGiveFiniteVectors) {
  const EncoderConfig c = tiny_config(2);
  const std::vector<std::byte> image = build_encoder_file(c, kVocab, with_query_weight(c, 1e6f));
  const EncoderFile file = EncoderFile::view_bytes(image);
  EXPECT_NO_THROW(file.verify());
  for (const float value : embed_all(BertEncoder(file), {"the cat sat on the mat", ""}))
    EXPECT_TRUE(std::isfinite(value));
}

}  // namespace
}  // namespace embedding::encoder
