// load_sentence_transformer() on small model directories: sizes from config.json checked before
// allocating, every file and module confined to the model directory (no symbolic link or ".."
// leads out), and text from the model's files sanitised before it reaches an error message.
#include "core/encoder/st_loader.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/common/error.h"
#include "core/text/utf8.h"

namespace embedding::encoder {
namespace {

// The error load_sentence_transformer(dir) throws (a default Error when it returns).
Error error_of(const std::string& dir) {
  try {
    load_sentence_transformer(dir);
  } catch (const Error& error) {
    return error;
  }
  return Error(ErrorCode::kInternal, "no error");
}

ErrorCode code_of(const std::string& dir) { return error_of(dir).code(); }

// ---- load_sentence_transformer: sizes from config.json checked before allocating ---------

// A model directory whose config.json claims vocab_size and hidden_size, with an empty
// model.safetensors; removed with the object.
class ClaimedModel {
 public:
  ClaimedModel(const std::string& vocab_size, const std::string& hidden,
               const std::string& model_type = "bert") {
    char pattern[] = "/tmp/emb_encoder_XXXXXX";
    dir_ = ::mkdtemp(pattern);
    std::filesystem::create_directory(dir_ + "/pool");
    put("modules.json", R"([{"type": "sentence_transformers.models.Transformer", "path": ""},
                             {"type": "sentence_transformers.models.Pooling", "path": "pool"}])");
    put("config.json", R"({"model_type": ")" + model_type + R"(", "vocab_size": )" + vocab_size +
                           R"(, "hidden_size": )" + hidden +
                           R"(, "num_hidden_layers": 1, "num_attention_heads": 1,
                              "intermediate_size": 1, "max_position_embeddings": 16})");
    put("pool/config.json", R"({"pooling_mode_mean_tokens": true})");
    put("sentence_bert_config.json", "{}");
    put("tokenizer_config.json", "{}");
    put("vocab.txt", "[UNK]\n[CLS]\n[SEP]\n");
    put("model.safetensors", std::string("\x02\0\0\0\0\0\0\0{}", 10));
  }
  ~ClaimedModel() { std::filesystem::remove_all(dir_); }
  const std::string& dir() const { return dir_; }
  void put(const std::string& name, const std::string& text) const {
    std::ofstream(dir_ + "/" + name, std::ios::binary) << text;
  }

 private:
  std::string dir_;
};

long peak_rss_kb() {
  struct rusage usage;
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

TEST(StLoaderTest, SizesAreCheckedBeforeAllocating) {
  // vocab_size past the format's limit: refused before 2^32 - 1 entries are padded in.
  EXPECT_EQ(code_of(ClaimedModel("4000000000", "4").dir()), ErrorCode::kProgramLimit);
  // 2^19 x 1024 floats (2 GB) of weights and no tensor: refused without allocating them.
  const long before = peak_rss_kb();
  EXPECT_EQ(code_of(ClaimedModel("524288", "1024").dir()), ErrorCode::kCorruptData);
  EXPECT_LT(peak_rss_kb() - before, 256 * 1024);
}

// ---- Confinement to the model directory -----------------------------------------------------

bool leaves(const Error& error) {
  return std::string(error.what()).find("leaves the model directory") != std::string::npos;
}

TEST(StLoaderTest, ASymlinkedModuleDirectoryOutsideIsRefused) {
  const ClaimedModel model("3", "4");
  const ClaimedModel outside("3", "4");  // another directory with a pooling config
  std::filesystem::remove_all(model.dir() + "/pool");
  ASSERT_EQ(::symlink((outside.dir() + "/pool").c_str(), (model.dir() + "/pool").c_str()), 0);
  const Error error = error_of(model.dir());
  EXPECT_TRUE(leaves(error)) << error.what();
}

TEST(StLoaderTest, ASymlinkedFileOutsideIsRefused) {
  const ClaimedModel model("3", "4");
  const ClaimedModel outside("3", "4");
  std::filesystem::remove(model.dir() + "/vocab.txt");
  ASSERT_EQ(::symlink((outside.dir() + "/vocab.txt").c_str(), (model.dir() + "/vocab.txt").c_str()),
            0);
  const Error error = error_of(model.dir());
  EXPECT_TRUE(leaves(error)) << error.what();
}

TEST(StLoaderTest, AModulePathWithDotDotIsRefused) {
  const ClaimedModel model("3", "4");
  const ClaimedModel outside("3", "4");
  const std::string name = std::filesystem::path(outside.dir()).filename();
  model.put("modules.json",
            R"([{"type": "sentence_transformers.models.Transformer", "path": ""},
                {"type": "sentence_transformers.models.Pooling", "path": "../)" +
                name + R"(/pool"}])");
  const Error error = error_of(model.dir());
  EXPECT_TRUE(leaves(error)) << error.what();
}

TEST(StLoaderTest, LinksInsideTheDirectoryAreFollowed) {
  const ClaimedModel model("3", "4");
  std::filesystem::rename(model.dir() + "/pool", model.dir() + "/pooling");
  ASSERT_EQ(::symlink("pooling", (model.dir() + "/pool").c_str()), 0);
  const Error error = error_of(model.dir());  // as far as the missing tensors
  EXPECT_FALSE(leaves(error)) << error.what();
  EXPECT_NE(std::string(error.what()).find("lacks the tensor"), std::string::npos) << error.what();
}

// ---- Text from model files in error messages ----------------------------------------------------

TEST(StLoaderTest, ModelTextInErrorsIsValidUtf8AndBounded) {
  // Two bytes that are not UTF-8, a control character (as a JSON escape), then 60 kB (a kept
  // JSON value may have up to 64 kB).
  const std::string hostile =
      "rob\xFF\xFE"
      "erta\\u0007" +
      std::string(60000, 'x');
  const ClaimedModel model("3", "4", hostile);
  const Error error = error_of(model.dir());
  EXPECT_EQ(error.code(), ErrorCode::kFeature);
  EXPECT_TRUE(text::is_valid_utf8_text(error.what())) << error.what();
  EXPECT_LT(std::string(error.what()).size(), 300u);
  EXPECT_NE(std::string(error.what()).find("rob\uFFFD\uFFFDerta\uFFFDxxx"), std::string::npos)
      << error.what();
}

}  // namespace
}  // namespace embedding::encoder
