// A BERT sentence encoder over an encoder file: text -> WordPiece ids -> transformer layers ->
// pooling (mean, CLS or max) -> optional L2 normalisation, as sentence-transformers computes it.
// Pure core; thread-safe for reading; the caller's thread polls interrupts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

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
  // attention stays within each sequence. One thread: the result of a text depends on nothing
  // but the text and the model (a second thread measured slower on two vCPUs, and splitting the
  // products would tie the last bits of the result to the split).
  void embed(std::span<const std::string_view> texts, float* out) const;

  static constexpr std::size_t kChunkTokens = 1024;

 private:
  struct Layer {
    const float *query_w, *query_b, *key_w, *key_b, *value_w, *value_b, *attn_out_w, *attn_out_b,
        *attn_norm_w, *attn_norm_b, *inter_w, *inter_b, *out_w, *out_b, *out_norm_w, *out_norm_b;
  };
  // Runs sequences [first, first + count) of ids together; pooled rows go to out.
  void encode_chunk(const std::vector<std::vector<std::uint32_t>>& ids, std::size_t first,
                    std::size_t count, float* out) const;

  EncoderFile file_;
  const float *word_, *position_, *token_type_, *embed_norm_w_, *embed_norm_b_;
  std::vector<Layer> layers_;
};

}  // namespace embedding::encoder
