// libFuzzer target: the encoder's parsers (safetensors, JSON configs, vocab.txt, encoder files,
// then tokenize and embed what verifies) give a result or an Error, never a crash.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/error.h"
#include "core/encoder/bert_encoder.h"
#include "core/encoder/encoder_file.h"
#include "core/encoder/json_flat.h"
#include "core/encoder/safetensors.h"
#include "core/encoder/st_loader.h"
#include "core/io/checksum.h"
#include "core/text/utf8.h"

using namespace embedding::encoder;
using embedding::io::fnv1a64;

namespace {

void safetensors(std::span<const std::byte> bytes) {
  const SafeTensors file(bytes, "model.safetensors");
  for (const auto& [name, tensor] : file.tensors()) {
    if (file.find(name) != &tensor || tensor.data.data() < bytes.data() ||
        tensor.data.data() + tensor.data.size() > bytes.data() + bytes.size())
      std::abort();
    const std::uint64_t n = tensor.elements();
    if (n > (1u << 16)) continue;
    std::vector<float> out(n + 1);
    try {
      tensor_to_float(tensor, out.data());
    } catch (const embedding::Error&) {
      if (tensor.dtype == "F32" || tensor.dtype == "F16" || tensor.dtype == "BF16") std::abort();
    }
  }
}

// Each lookup may throw (a value of another kind); an absent path never does.
void json(std::string_view text, std::size_t depth) {
  const JsonFlat json(text, "config.json", depth);
  for (const char* path : {"model_type", "hidden_size", "layer_norm_eps", "normalizer/lowercase",
                           "0/type", "0/path", "a/b/c", ""}) {
    const bool has = json.has(path);
    const auto lookup = [&](auto&& get) {
      try {
        if (get().has_value() && !has) std::abort();
      } catch (const embedding::Error&) {
        if (!has) std::abort();
      }
    };
    lookup([&] { return json.string(path); });
    lookup([&] { return json.uint(path); });
    lookup([&] { return json.number(path); });
    lookup([&] { return json.boolean(path); });
  }
}

void vocab(std::string_view text) {
  const std::vector<std::string> pieces = parse_vocab(text, 1000, "vocab.txt");
  if (pieces.size() != 1000) std::abort();
  for (const std::string& piece : pieces)
    if (piece.find('\n') != std::string::npos || !embedding::text::is_valid_utf8_text(piece))
      std::abort();
}

// Recomputes the checksums, so that the fuzzer also reaches the checks they would hide.
void reseal(std::vector<std::byte>& file) {
  if (file.size() < sizeof(EncoderHeader)) return;
  EncoderHeader header;
  std::memcpy(&header, file.data(), sizeof header);
  for (auto& s : header.sections)
    if (s.offset <= file.size() && s.length <= file.size() - s.offset)
      s.checksum = section_checksum(file.data() + s.offset, s.length);
  header.header_checksum = fnv1a64(&header, offsetof(EncoderHeader, header_checksum));
  std::memcpy(file.data(), &header, sizeof header);
}

// Tokenizes and embeds a short fixed text and `extra` with a verified file, when it is small.
void run_encoder(const EncoderFile& file, std::string_view extra) {
  const EncoderConfig& c = file.config();
  std::uint64_t weights = 0;
  for (const TensorSpec& t : tensor_plan(c)) weights += std::uint64_t{t.rows} * t.cols;
  if (weights > (1u << 16) || c.max_seq_length > 64 || c.layers > 4) return;
  const BertEncoder encoder(file);
  const std::string_view texts[] = {"The cat sat on the mat, naïvely — 北京! ##s [UNK]", "", extra};
  for (std::string_view text : texts) {
    const std::vector<std::uint32_t> ids = encoder.tokenize(text);
    if (ids.size() < 2 || ids.size() > c.max_seq_length || ids.front() != c.cls_id ||
        ids.back() != c.sep_id)
      std::abort();
    for (std::uint32_t id : ids)
      if (id >= c.vocab_size) std::abort();
  }
  std::vector<float> out(3 * encoder.dims());
  encoder.embed(texts, out.data());
}

void encoder_file(std::span<const std::byte> bytes, bool resealed) {
  std::vector<std::byte> copy(bytes.begin(), bytes.end());
  if (resealed) reseal(copy);
  const EncoderFile file = EncoderFile::view_bytes(copy);
  try {
    (void)file.find("the");  // lazily checked paths of an unverified file
    (void)file.piece(0);
  } catch (const embedding::Error&) {
  }
  file.verify();
  run_encoder(file, "");
}

// A small valid configuration from 12 bytes, a vocabulary from the rest (one piece a line) and
// random weights: whatever the builder writes must verify, and the encoder must run on it.
void built_encoder(std::span<const std::byte> bytes) {
  if (bytes.size() < 12) return;
  const auto b = [&](int i) { return std::to_integer<std::uint32_t>(bytes[i]); };
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()) + 12, bytes.size() - 12);
  const std::size_t lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  if (lines > 300) return;
  EncoderConfig c;
  c.vocab_size = static_cast<std::uint32_t>(lines + 1);
  c.heads = 1 + b(0) % 4;
  c.hidden = c.heads * (1 + b(1) % 8);
  c.layers = 1 + b(2) % 2;
  c.intermediate = 1 + b(3) % 32;
  c.max_positions = 3 + b(4) % 30;
  c.type_vocab = 1 + b(5) % 3;
  c.max_seq_length = 3 + b(6) % (c.max_positions - 2);
  c.pooling = static_cast<Pooling>(b(7) % 3);
  c.flags = b(8) % 32;
  c.unk_id = b(9) % c.vocab_size, c.cls_id = b(10) % c.vocab_size, c.sep_id = b(11) % c.vocab_size;
  c.layer_norm_eps = std::ldexp(1.0, -1 - static_cast<int>(b(5) % 40));
  const std::vector<std::string> vocab = parse_vocab(text, c.vocab_size, "vocab.txt");
  std::uint64_t total = 0;
  for (const TensorSpec& t : tensor_plan(c)) total += std::uint64_t{t.rows} * t.cols;
  std::mt19937 rng(b(0) * 256 + b(1));
  std::uniform_real_distribution<float> dist(-4.0f, 4.0f);
  std::vector<float> weights(total);
  for (float& x : weights) x = dist(rng);
  try {
    const std::vector<std::byte> image = build_encoder_file(c, vocab, weights);
    const EncoderFile file = EncoderFile::view_bytes(image);
    file.verify();
    for (std::uint32_t id = 0; id < c.vocab_size; ++id)
      if (file.piece(id) != vocab[id] || file.piece(*file.find(vocab[id])) != vocab[id])
        std::abort();
    run_encoder(file, text);
  } catch (const embedding::Error&) {
    std::abort();  // a valid configuration builds, and what the builder writes verifies
  }
}

}  // namespace

// The first byte's low two bits pick the parser; its other bits are options (the JSON depth
// limit; for encoder files, 4 reseals the checksums and 8 builds from a fuzzed configuration).
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::span<const std::byte> rest(reinterpret_cast<const std::byte*>(data) + 1, size - 1);
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 4) {
      case 0:
        safetensors(rest);
        break;
      case 1:
        json(text, data[0] >> 2);  // depth limits 0..63
        break;
      case 2:
        vocab(text);
        break;
      default:
        if (data[0] & 8)
          built_encoder(rest);
        else
          encoder_file(rest, data[0] & 4);
    }
  } catch (const embedding::Error&) {
  }
  return 0;
}
