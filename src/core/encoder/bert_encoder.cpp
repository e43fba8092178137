// The BERT forward pass (see bert_encoder.h): embeddings and LayerNorm, then per layer
// self-attention and the GELU feed-forward block, each with a residual and LayerNorm; the matrix
// products go to the kernels' gemm (Eigen's GEMM on AVX2 machines).
#include "core/encoder/bert_encoder.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <optional>
#include <utility>

#include "core/common/error.h"
#include "core/common/finite.h"
#include "core/common/interrupt.h"
#include "core/text/bert_tokenizer.h"
#include "core/vector/kernels.h"
#include "core/vector/normalize.h"

namespace embedding::encoder {
namespace {

// Query rows per attention block: the scores of one block (128 x sequence length) stay small.
constexpr std::size_t kQueryBlock = 128;

// Part `part` of `parts` of [0, n), contiguous.
std::pair<std::size_t, std::size_t> share(std::size_t n, int part, int parts) {
  return {n * part / parts, n * (part + 1) / parts};
}

// y = x W^T + b for n rows: W is out x in (a PyTorch Linear weight). The bias first, then the
// product added to it, in blocks of kColumnBlock output columns: the team shares the blocks
// out, and each is the same product whichever thread computes it.
void dense(WorkerTeam& team, const float* x, std::size_t n, std::size_t in, const float* w,
           const float* b, std::size_t out, float* y) {
  constexpr std::size_t kBlock = BertEncoder::kColumnBlock;
  const std::size_t blocks = (out + kBlock - 1) / kBlock;
  team.run([&](int part) {
    const auto [first, last] = share(blocks, part, team.size());
    if (first == last) return;
    const std::size_t begin = first * kBlock, end = std::min(out, last * kBlock);
    for (std::size_t i = 0; i < n; ++i)
      std::memcpy(y + i * out + begin, b + begin, (end - begin) * sizeof(float));
    for (std::size_t block = begin; block < end; block += kBlock)
      kernels::active().gemm(n, std::min(kBlock, end - block), in, x, in, w + block * in, in, true,
                             y + block, out, true);
  });
}

// x = LayerNorm(x + residual) row by row (residual may be null), statistics in double.
void add_layer_norm(float* x, const float* residual, std::size_t n, std::size_t dims,
                    const float* gamma, const float* beta, double eps) {
  for (std::size_t i = 0; i < n; ++i) {
    float* row = x + i * dims;
    if (residual != nullptr)
      for (std::size_t j = 0; j < dims; ++j) row[j] += residual[i * dims + j];
    double mean = 0.0;
    for (std::size_t j = 0; j < dims; ++j) mean += row[j];
    mean /= static_cast<double>(dims);
    double variance = 0.0;
    for (std::size_t j = 0; j < dims; ++j) variance += (row[j] - mean) * (row[j] - mean);
    variance /= static_cast<double>(dims);
    const double scale = 1.0 / std::sqrt(variance + eps);
    for (std::size_t j = 0; j < dims; ++j)
      row[j] = static_cast<float>((row[j] - mean) * scale) * gamma[j] + beta[j];
  }
}

}  // namespace

BertEncoder::BertEncoder(EncoderFile file) : file_(std::move(file)) {
  const EncoderConfig& c = file_.config();
  const float* w = file_.weights();
  const auto take = [&](std::size_t count) {
    const float* at = w;
    w += count;
    return at;
  };
  const std::size_t h = c.hidden, inter = c.intermediate;
  word_ = take(std::size_t{c.vocab_size} * h);
  position_ = take(std::size_t{c.max_positions} * h);
  token_type_ = take(std::size_t{c.type_vocab} * h);
  embed_norm_w_ = take(h);
  embed_norm_b_ = take(h);
  for (std::uint32_t i = 0; i < c.layers; ++i) {
    Layer l;
    l.query_w = take(h * h), l.query_b = take(h);
    l.key_w = take(h * h), l.key_b = take(h);
    l.value_w = take(h * h), l.value_b = take(h);
    l.attn_out_w = take(h * h), l.attn_out_b = take(h);
    l.attn_norm_w = take(h), l.attn_norm_b = take(h);
    l.inter_w = take(inter * h), l.inter_b = take(inter);
    l.out_w = take(h * inter), l.out_b = take(h);
    l.out_norm_w = take(h), l.out_norm_b = take(h);
    layers_.push_back(l);
  }
}

std::vector<std::uint32_t> BertEncoder::tokenize(std::string_view text) const {
  const EncoderConfig& c = file_.config();
  const text::BertNormalization normalization{
      (c.flags & kLowercase) != 0, (c.flags & kStripAccents) != 0, (c.flags & kChineseChars) != 0,
      (c.flags & kLowercaseText) != 0};
  const std::size_t limit = c.max_seq_length - 1;  // [CLS] and the pieces, before [SEP]
  std::vector<std::uint32_t> ids{c.cls_id};
  const text::VocabLookup lookup = [this](std::string_view piece) { return file_.find(piece); };
  text::bert_basic_tokens(
      text, normalization,
      [&](std::string_view word) {
        text::wordpiece(word, lookup, c.unk_id, ids);
        return ids.size() < limit;
      },
      text::kMaxInputCharsPerWord);
  if (ids.size() > limit) ids.resize(limit);
  ids.push_back(c.sep_id);
  return ids;
}

void BertEncoder::embed(std::span<const std::string_view> texts, float* out, int threads) const {
  // Texts are tokenized one chunk at a time, so a large batch holds one chunk's ids at most. A
  // second thread pays for starting only on enough tokens (one short sentence does not): the team
  // is started for the first chunk that has them.
  std::vector<std::vector<std::uint32_t>> chunk;
  std::vector<std::uint32_t> next_ids;
  bool have_next = false;
  std::optional<WorkerTeam> team;
  WorkerTeam alone(1);
  for (std::size_t done = 0, next = 0; done < texts.size(); done += chunk.size()) {
    chunk.clear();
    std::size_t tokens = 0;
    while (next < texts.size()) {
      if (!have_next) {
        poll_interrupts();
        next_ids = tokenize(texts[next]);
        have_next = true;
      }
      if (!chunk.empty() && tokens + next_ids.size() > kChunkTokens) break;
      tokens += next_ids.size();
      chunk.push_back(std::move(next_ids));
      have_next = false;
      ++next;
    }
    const bool shared = threads > 1 && tokens >= kParallelTokens;
    if (shared && !team) team.emplace(threads);
    encode_chunk(chunk, out + done * dims(), shared ? *team : alone);
  }
}

void BertEncoder::encode_chunk(const std::vector<std::vector<std::uint32_t>>& ids, float* out,
                               WorkerTeam& team) const {
  const EncoderConfig& c = file_.config();
  const std::size_t h = c.hidden, heads = c.heads, head_dims = h / heads;
  std::size_t total = 0, longest = 0;
  for (std::size_t s = 0; s < ids.size(); ++s) {
    total += ids[s].size();
    longest = std::max(longest, ids[s].size());
  }
  std::vector<float> x(total * h), q(total * h), k(total * h), v(total * h), context(total * h),
      attended(total * h), inter(total * c.intermediate),
      scores(team.size() * std::min(longest, kQueryBlock) * longest);
  // Embeddings: word + position + token type 0, then LayerNorm.
  for (std::size_t s = 0, row = 0; s < ids.size(); ++s)
    for (std::size_t p = 0; p < ids[s].size(); ++p, ++row) {
      const float* word = word_ + std::size_t{ids[s][p]} * h;
      const float* position = position_ + p * h;
      for (std::size_t j = 0; j < h; ++j) x[row * h + j] = word[j] + position[j] + token_type_[j];
    }
  add_layer_norm(x.data(), nullptr, total, h, embed_norm_w_, embed_norm_b_, c.layer_norm_eps);
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dims));
  const kernels::KernelTable& table = kernels::active();
  // Row-wise steps (LayerNorm, GELU): each thread its share of the rows.
  const auto by_rows = [&](const std::function<void(std::size_t, std::size_t)>& step) {
    team.run([&](int part) {
      const auto [begin, end] = share(total, part, team.size());
      if (begin < end) step(begin, end);
    });
  };
  const std::size_t block_scores = std::min(longest, kQueryBlock) * longest;
  for (const Layer& l : layers_) {
    poll_interrupts();
    dense(team, x.data(), total, h, l.query_w, l.query_b, h, q.data());
    dense(team, x.data(), total, h, l.key_w, l.key_b, h, k.data());
    dense(team, x.data(), total, h, l.value_w, l.value_b, h, v.data());
    // Attention within each sequence, head by head (each thread its heads), in blocks of query
    // rows. Only the caller's thread has an interrupt poll (on the others the call does nothing).
    team.run([&](int part) {
      float* part_scores = scores.data() + part * block_scores;
      for (std::size_t s = 0, offset = 0; s < ids.size(); offset += ids[s++].size()) {
        const std::size_t length = ids[s].size();
        for (std::size_t head = part; head < heads; head += team.size()) {
          const std::size_t column = head * head_dims;
          for (std::size_t r0 = 0; r0 < length; r0 += kQueryBlock) {
            poll_interrupts();
            const std::size_t rows = std::min(kQueryBlock, length - r0);
            const std::size_t at = (offset + r0) * h + column;
            table.gemm(rows, length, head_dims, q.data() + at, h, k.data() + offset * h + column, h,
                       true, part_scores, length, false);
            table.softmax_rows(part_scores, rows, length, length, scale);
            table.gemm(rows, head_dims, length, part_scores, length, v.data() + offset * h + column,
                       h, false, context.data() + at, h, false);
          }
        }
      }
    });
    dense(team, context.data(), total, h, l.attn_out_w, l.attn_out_b, h, attended.data());
    by_rows([&](std::size_t begin, std::size_t end) {
      add_layer_norm(attended.data() + begin * h, x.data() + begin * h, end - begin, h,
                     l.attn_norm_w, l.attn_norm_b, c.layer_norm_eps);
    });
    dense(team, attended.data(), total, h, l.inter_w, l.inter_b, c.intermediate, inter.data());
    by_rows([&](std::size_t begin, std::size_t end) {
      table.gelu(inter.data() + begin * c.intermediate, (end - begin) * c.intermediate);
    });
    dense(team, inter.data(), total, c.intermediate, l.out_w, l.out_b, h, x.data());
    by_rows([&](std::size_t begin, std::size_t end) {
      add_layer_norm(x.data() + begin * h, attended.data() + begin * h, end - begin, h,
                     l.out_norm_w, l.out_norm_b, c.layer_norm_eps);
    });
  }
  // Pooling, then the optional normalisation.
  for (std::size_t s = 0, offset = 0; s < ids.size(); offset += ids[s++].size()) {
    const std::size_t length = ids[s].size();
    float* pooled = out + s * h;
    const float* rows = x.data() + offset * h;
    for (std::size_t j = 0; j < h; ++j) {
      if (c.pooling == Pooling::kCls) {
        pooled[j] = rows[j];
      } else if (c.pooling == Pooling::kMax) {
        float best = rows[j];
        for (std::size_t t = 1; t < length; ++t) best = std::max(best, rows[t * h + j]);
        pooled[j] = best;
      } else {
        double sum = 0.0;
        for (std::size_t t = 0; t < length; ++t) sum += rows[t * h + j];
        pooled[j] = static_cast<float>(sum / static_cast<double>(length));
      }
    }
    // sentence-transformers divides by max(norm, 1e-12).
    if (c.flags & kNormalize) vec::normalize_clamped(pooled, h, 1e-12);
    require_finite(std::span<const float>(pooled, h));
  }
}

}  // namespace embedding::encoder
