// The sentence-transformers directory loader (see st_loader.h).
#include "core/encoder/st_loader.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>

#include "core/common/error.h"
#include "core/common/interrupt.h"
#include "core/encoder/encoder_file.h"
#include "core/encoder/json_flat.h"
#include "core/encoder/safetensors.h"
#include "core/io/mapped_file.h"
#include "core/text/utf8.h"

namespace embedding::encoder {
namespace {

// Configuration files are small; a larger one is not what it claims to be.
constexpr std::size_t kMaxConfigBytes = 64u << 20;
// How much of a path (which may hold a module path from modules.json) an error message shows.
constexpr std::size_t kShownPath = 512;

// The model directory, resolved once: every file of the model is read through it, and a file or
// module path that resolves (through symbolic links or "..") outside the directory is refused, so
// a link planted in a downloaded model cannot make the server read its other files.
class ModelDir {
 public:
  explicit ModelDir(const std::string& dir) : root_(resolve_path(dir)) {}

  // The real path of path (under the model directory), or an error naming it.
  std::string resolve(const std::string& path) const {
    std::string real = resolve_path(path);
    if (real != root_ && !real.starts_with(root_ + "/"))
      throw Error(ErrorCode::kCorruptData, "\"" + text::for_message(path, kShownPath) +
                                               "\" leaves the model directory (it resolves to \"" +
                                               text::for_message(real, kShownPath) + "\")");
    return real;
  }
  bool exists(const std::string& path) const {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
  }
  // A whole file, read into memory (never mapped: the user's files may change under us; a
  // change during the read is an error). FIFOs and devices are refused: reading never blocks.
  std::string read(const std::string& path, std::size_t limit = kMaxConfigBytes) const {
    return io::read_file(resolve(path), io::Symlinks::kRefuse, limit);
  }
  // A JSON file's values; with `wanted`, only those (see JsonFlat).
  JsonFlat json(const std::string& path, std::vector<std::string> wanted = {}) const {
    return JsonFlat(read(path), path, 3, std::move(wanted));
  }

 private:
  static std::string resolve_path(const std::string& path) {
    char* real = ::realpath(path.c_str(), nullptr);
    if (real == nullptr)
      throw Error(ErrorCode::kIoError, "could not open file \"" +
                                           text::for_message(path, kShownPath) +
                                           "\": " + std::strerror(errno));
    std::string result(real);
    std::free(real);
    return result;
  }
  std::string root_;
};

[[noreturn]] void unsupported(const std::string& message) {
  throw Error(ErrorCode::kFeature, message,
              "Supported: BERT encoders (model_type \"bert\", hidden_act \"gelu\") with mean, CLS "
              "or max pooling and an optional Normalize module.");
}

std::uint32_t required(const JsonFlat& json, const std::string& key, const std::string& file) {
  const auto value = json.uint(key);
  if (!value) throw Error(ErrorCode::kCorruptData, file + ": \"" + key + "\" is missing");
  return *value;
}

// The modules sentence-transformers would run: where the Transformer's files are, where the
// Pooling config is, and whether a Normalize module follows.
struct Modules {
  std::string transformer;
  std::string pooling;
  bool normalize = false;
};

Modules read_modules(const ModelDir& model, const std::string& dir) {
  const std::string path = dir + "/modules.json";
  const JsonFlat json = model.json(path);
  Modules m;
  bool transformer = false, pooling = false;
  for (std::uint32_t i = 0;; ++i) {
    const auto type = json.string(std::to_string(i) + "/type");
    if (!type) break;
    const std::string sub = json.string(std::to_string(i) + "/path").value_or("");
    const std::string at = sub.empty() ? dir : dir + "/" + sub;
    // The modules whose files are read must lie inside the model directory (Normalize has no
    // files, and its directory is often missing from downloads).
    if (type->ends_with("models.Transformer") && !transformer) {
      model.resolve(at);
      m.transformer = at, transformer = true;
    } else if (type->ends_with("models.Pooling") && !pooling) {
      model.resolve(at);
      m.pooling = at, pooling = true;
    } else if (type->ends_with("models.Normalize") && !m.normalize) {
      m.normalize = true;
    } else {
      unsupported("sentence-transformers module \"" + text::for_message(*type) +
                  "\" is not supported");
    }
  }
  if (!transformer || !pooling) unsupported(path + " must list a Transformer and a Pooling module");
  return m;
}

Pooling read_pooling(const ModelDir& model, const std::string& dir, std::uint32_t hidden) {
  const std::string path = dir + "/config.json";
  const JsonFlat json = model.json(
      path, {"pooling_mode_cls_token", "pooling_mode_mean_tokens", "pooling_mode_max_tokens",
             "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens",
             "pooling_mode_lasttoken", "word_embedding_dimension"});
  const bool cls = json.boolean("pooling_mode_cls_token").value_or(false);
  const bool mean = json.boolean("pooling_mode_mean_tokens").value_or(false);
  const bool max = json.boolean("pooling_mode_max_tokens").value_or(false);
  for (const char* other : {"pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens",
                            "pooling_mode_lasttoken"})
    if (json.boolean(other).value_or(false))
      unsupported(std::string("pooling mode ") + other + " is not supported");
  if (cls + mean + max != 1)
    unsupported(path +
                ": exactly one pooling mode of cls_token, mean_tokens and max_tokens must be set");
  if (auto dims = json.uint("word_embedding_dimension"); dims && *dims != hidden)
    throw Error(ErrorCode::kCorruptData, path + ": word_embedding_dimension " +
                                             std::to_string(*dims) + " is not hidden_size " +
                                             std::to_string(hidden));
  return cls ? Pooling::kCls : max ? Pooling::kMax : Pooling::kMean;
}

// The architecture from config.json.
void read_bert_config(const ModelDir& model, const std::string& dir, EncoderConfig& c) {
  const std::string path = dir + "/config.json";
  // Not the rest (a classifier's id2label may hold thousands of values).
  const JsonFlat json = model.json(
      path, {"model_type", "hidden_act", "position_embedding_type", "vocab_size", "hidden_size",
             "num_hidden_layers", "num_attention_heads", "intermediate_size",
             "max_position_embeddings", "type_vocab_size", "layer_norm_eps"});
  const std::string type = json.string("model_type").value_or("");
  if (type != "bert")
    unsupported("model_type \"" + text::for_message(type) + "\" is not supported (only \"bert\")");
  const std::string act = json.string("hidden_act").value_or("gelu");
  if (act != "gelu")
    unsupported("hidden_act \"" + text::for_message(act) + "\" is not supported (only \"gelu\")");
  const std::string positions = json.string("position_embedding_type").value_or("absolute");
  if (positions != "absolute")
    unsupported("position_embedding_type \"" + text::for_message(positions) +
                "\" is not supported");
  c.vocab_size = required(json, "vocab_size", path);
  c.hidden = required(json, "hidden_size", path);
  c.layers = required(json, "num_hidden_layers", path);
  c.heads = required(json, "num_attention_heads", path);
  c.intermediate = required(json, "intermediate_size", path);
  c.max_positions = required(json, "max_position_embeddings", path);
  c.type_vocab = json.uint("type_vocab_size").value_or(2);
  c.layer_norm_eps = json.number("layer_norm_eps").value_or(1e-12);
}

std::vector<std::string> read_vocab(const ModelDir& model, const std::string& dir,
                                    std::uint32_t vocab_size) {
  const std::string path = dir + "/vocab.txt";
  return parse_vocab(model.read(path), vocab_size, path);
}

std::uint32_t special_id(const std::vector<std::string>& vocab, const std::string& piece,
                         const std::string& dir) {
  // The last line of a repeated piece is its id (as in the hash index).
  auto it = std::find(vocab.rbegin(), vocab.rend(), piece);
  if (piece.empty() || it == vocab.rend())
    throw Error(ErrorCode::kCorruptData,
                dir + "/vocab.txt lacks the special token \"" + text::for_message(piece) + "\"");
  return static_cast<std::uint32_t>(vocab.rend() - it - 1);
}

// Tokenizer settings: tokenizer_config.json (`config`), overridden by tokenizer.json's
// BertNormalizer.
void read_tokenizer(const ModelDir& model, const std::string& dir, const JsonFlat& config,
                    const std::vector<std::string>& vocab, EncoderConfig& c) {
  bool lowercase = config.boolean("do_lower_case").value_or(true);
  std::optional<bool> strip = config.boolean("strip_accents");
  bool chinese = config.boolean("tokenize_chinese_chars").value_or(true);
  const std::string json_path = dir + "/tokenizer.json";
  if (model.exists(json_path)) {
    // Only the normaliser and the model's type: not the vocabulary, merges or added tokens.
    const JsonFlat json = model.json(json_path, {"normalizer", "model/type"});
    const std::string normalizer = json.string("normalizer/type").value_or("");
    if (normalizer != "BertNormalizer")
      unsupported(json_path + ": normalizer \"" + text::for_message(normalizer) +
                  "\" is not supported (only BertNormalizer)");
    const std::string model = json.string("model/type").value_or("WordPiece");
    if (model != "WordPiece")
      unsupported(json_path + ": tokenizer model \"" + text::for_message(model) +
                  "\" is not supported (only WordPiece)");
    lowercase = json.boolean("normalizer/lowercase").value_or(lowercase);
    if (json.has("normalizer/strip_accents")) strip = json.boolean("normalizer/strip_accents");
    chinese = json.boolean("normalizer/handle_chinese_chars").value_or(chinese);
  }
  // A special token is a string, or an object with its "content" (newer tokenizer configs).
  const auto token = [&](const std::string& key, const char* fallback) {
    if (auto content = config.string(key + "/content")) return *content;
    return config.string(key).value_or(fallback);
  };
  c.unk_id = special_id(vocab, token("unk_token", "[UNK]"), dir);
  c.cls_id = special_id(vocab, token("cls_token", "[CLS]"), dir);
  c.sep_id = special_id(vocab, token("sep_token", "[SEP]"), dir);
  if (lowercase) c.flags |= kLowercase;
  if (strip.value_or(lowercase)) c.flags |= kStripAccents;
  if (chinese) c.flags |= kChineseChars;
}

// The weights in tensor_plan() order as float32, found with or without the "bert." prefix
// (and LayerNorm's older gamma/beta names).
std::vector<float> read_weights(const ModelDir& model, const std::string& dir,
                                const EncoderConfig& c) {
  const std::string path = dir + "/model.safetensors";
  if (!model.exists(path) && model.exists(dir + "/pytorch_model.bin"))
    unsupported(dir + " has only pytorch_model.bin: convert it to model.safetensors");
  const std::vector<TensorSpec> plan = tensor_plan(c);
  std::uint64_t planned = 0;
  for (const TensorSpec& spec : plan) planned += std::uint64_t{spec.rows} * spec.cols;
  // The file is read whole, so its size is bounded: the planned tensors as float32 twice over
  // (room for a pooler, a language-model head, position ids) and 256 MB more.
  const std::string file = model.read(path, static_cast<std::size_t>(8 * planned + (256u << 20)));
  const SafeTensors tensors(std::as_bytes(std::span(file.data(), file.size())), path);
  // Every tensor found and its shape checked before the weights are allocated: config.json alone
  // may describe tens of gigabytes, the file's tensors cannot.
  std::vector<const Tensor*> found;
  for (const TensorSpec& spec : plan) {
    std::vector<std::string> names = {spec.name, "bert." + spec.name};
    for (const auto& [from, to] : {std::pair{".LayerNorm.weight", ".LayerNorm.gamma"},
                                   std::pair{".LayerNorm.bias", ".LayerNorm.beta"}})
      if (spec.name.ends_with(from)) {
        const std::string old =
            spec.name.substr(0, spec.name.size() - std::string(from).size()) + to;
        names.push_back(old);
        names.push_back("bert." + old);
      }
    const Tensor* tensor = nullptr;
    for (const std::string& name : names)
      if ((tensor = tensors.find(name)) != nullptr) break;
    if (tensor == nullptr)
      throw Error(ErrorCode::kCorruptData, path + " lacks the tensor \"" + spec.name + "\"");
    const bool vector =
        spec.rows == 1 && tensor->shape.size() == 1 && tensor->shape[0] == spec.cols;
    const bool matrix =
        tensor->shape.size() == 2 && tensor->shape[0] == spec.rows && tensor->shape[1] == spec.cols;
    if (!vector && !matrix)
      throw Error(ErrorCode::kCorruptData, path + ": tensor \"" + spec.name +
                                               "\" does not have the shape config.json implies");
    found.push_back(tensor);
  }
  std::vector<float> weights(planned);
  float* out = weights.data();
  for (const Tensor* tensor : found) {
    poll_interrupts();
    tensor_to_float(*tensor, out);
    out += tensor->elements();
  }
  return weights;
}

}  // namespace

std::vector<std::string> parse_vocab(std::string_view text, std::uint32_t vocab_size,
                                     const std::string& what) {
  // Lines past vocab_size are counted (for the message) but not kept: a file of empty lines
  // would otherwise cost a string object each.
  std::vector<std::string> vocab;
  std::uint64_t lines = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    poll_interrupts_every(lines);
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::size_t stop = end > pos && text[end - 1] == '\r' ? end - 1 : end;
    const std::string_view line = text.substr(pos, stop - pos);
    ++lines;
    if (!text::is_valid_utf8_text(line))
      throw Error(ErrorCode::kCorruptData,
                  what + ": line " + std::to_string(lines) + " is not valid UTF-8 text");
    if (lines <= vocab_size) vocab.emplace_back(line);
    pos = end + 1;
  }
  if (lines > vocab_size)
    throw Error(ErrorCode::kCorruptData, what + " has " + std::to_string(lines) +
                                             " entries for vocab_size " +
                                             std::to_string(vocab_size));
  vocab.resize(vocab_size);
  return vocab;
}

std::vector<std::byte> load_sentence_transformer(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw Error(ErrorCode::kIoError, "\"" + dir + "\" is not a directory",
                "A sentence-transformers model is loaded from its directory.");
  const ModelDir model(dir);
  const Modules modules = read_modules(model, dir);
  EncoderConfig c;
  read_bert_config(model, modules.transformer, c);
  c.pooling = read_pooling(model, modules.pooling, c.hidden);
  if (modules.normalize) c.flags |= kNormalize;
  const JsonFlat st_config = model.json(modules.transformer + "/sentence_bert_config.json",
                                        {"max_seq_length", "do_lower_case"});
  // Without max_seq_length, sentence-transformers takes the smaller of the position table and
  // the tokenizer's model_max_length.
  std::uint32_t longest = c.max_positions;
  const JsonFlat tokenizer_config =
      model.json(modules.transformer + "/tokenizer_config.json",
                 {"model_max_length", "do_lower_case", "strip_accents", "tokenize_chinese_chars",
                  "unk_token", "cls_token", "sep_token"});
  if (const auto model_max = tokenizer_config.number("model_max_length");
      model_max && *model_max >= 3 && *model_max < longest)
    longest = static_cast<std::uint32_t>(*model_max);
  c.max_seq_length = std::min(st_config.uint("max_seq_length").value_or(longest), c.max_positions);
  if (st_config.boolean("do_lower_case").value_or(false)) c.flags |= kLowercaseText;
  // The sizes config.json claims are held to the format's limits before anything is allocated
  // from them (the special ids are still 0 here; they are checked again below).
  check_config(c);
  const std::vector<std::string> vocab = read_vocab(model, modules.transformer, c.vocab_size);
  read_tokenizer(model, modules.transformer, tokenizer_config, vocab, c);
  check_config(c);
  const std::vector<float> weights = read_weights(model, modules.transformer, c);
  return build_encoder_file(c, vocab, weights);
}

}  // namespace embedding::encoder
