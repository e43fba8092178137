// A BERT sentence encoder over an encoder file: text -> WordPiece ids -> transformer layers ->
// pooling (mean, CLS or max) -> optional L2 normalisation, as sentence-transformers computes it.
// Pure core; thread-safe for reading; the caller's thread polls interrupts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/common/threads.h"
#include "core/encoder/encoder_file.h"

namespace embedding::encoder {

class BertEncoder {
 public:
  explicit BertEncoder(EncoderFile file);

  const EncoderFile& file() const { return file_; }
  std::uint32_t dims() const { return file_.config().hidden; }

  // [CLS], the text's WordPiece ids truncated to max_seq_length - 2, [SEP]. Reads the text only
  // as far as needed, so a long text costs no more than max_seq_length tokens.
  std::vector<std::uint32_t> tokenize(std::string_view text) const;

  // The sentence vectors of texts, row i (dims() floats) of out for texts[i]. Sequences run
  // together through the dense layers in chunks of at most kChunkTokens tokens (no padding);
  // attention stays within each sequence. With threads > 1 the steps are shared out between that
  // many threads (the caller's included; the others run core code only). The work is cut the
  // same way whatever the number of threads (dense layers in fixed blocks of kColumnBlock output
  // columns, attention by head, the rest by row), so a text's vector has the same bits on any.
  // A vector that is not finite throws Error(kDataException) (verify() refuses weights that could
  // give one, so only an unverified file can).
  void embed(std::span<const std::string_view> texts, float* out, int threads = 1) const;

  static constexpr std::size_t kChunkTokens = 1024;
  static constexpr std::size_t kColumnBlock = 64;
  // Below this many tokens in a call, it runs on the caller's thread alone.
  static constexpr std::size_t kParallelTokens = 64;

 private:
  struct Layer {
    const float *query_w, *query_b, *key_w, *key_b, *value_w, *value_b, *attn_out_w, *attn_out_b,
        *attn_norm_w, *attn_norm_b, *inter_w, *inter_b, *out_w, *out_b, *out_norm_w, *out_norm_b;
  };
  // Runs the sequences of ids together; pooled row i goes to row i of out.
  void encode_chunk(const std::vector<std::vector<std::uint32_t>>& ids, float* out,
                    WorkerTeam& team) const;

  EncoderFile file_;
  const float *word_, *position_, *token_type_, *embed_norm_w_, *embed_norm_b_;
  std::vector<Layer> layers_;
};

}  // namespace embedding::encoder
