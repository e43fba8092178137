// word2vec binary format (as written by Mikolov's word2vec and gensim): an ASCII "V D\n" header,
// then per word its bytes up to a space followed by D little-endian float32 values.
#include <cmath>
#include <cstring>
#include <string>

#include "core/common/interrupt.h"
#include "core/models/loader_common.h"

namespace embedding::models::detail {

WordVectors load_word2vec_binary(std::string_view bytes) {
  constexpr SourceFormat kFormat = SourceFormat::kWord2vecBinary;
  const std::size_t header_end = bytes.find('\n');
  if (header_end == std::string_view::npos) corrupt_input(kFormat, "no header line");
  std::string_view header = bytes.substr(0, header_end);
  if (!header.empty() && header.back() == '\r') header.remove_suffix(1);
  const std::size_t space = header.find(' ');
  std::uint64_t claimed_words = 0;
  std::uint64_t dims = 0;
  if (space == std::string_view::npos || !parse_unsigned(header.substr(0, space), &claimed_words) ||
      !parse_unsigned(header.substr(space + 1), &dims)) {
    corrupt_input(kFormat, "the first line is not a \"<words> <dimensions>\" header");
  }
  check_claimed_size(kFormat, claimed_words, dims, 4 * dims + 2, bytes.size());

  WordVectors out;
  out.dims = static_cast<std::uint32_t>(dims);
  out.words.reserve(claimed_words);
  out.values.resize(claimed_words * dims);
  const std::size_t row_bytes = 4 * dims;
  std::size_t pos = header_end + 1;
  for (std::uint64_t i = 0; i < claimed_words; ++i) {
    poll_interrupts_every<10>(i);
    while (pos < bytes.size() && bytes[pos] == '\n') ++pos;  // the newline after each vector
    const std::size_t word_end = bytes.find(' ', pos);
    if (word_end == std::string_view::npos) {
      corrupt_input(kFormat, "truncated at word " + std::to_string(i + 1) + " of " +
                                 std::to_string(claimed_words));
    }
    out.words.emplace_back(bytes.substr(pos, word_end - pos));
    pos = word_end + 1;
    if (bytes.size() - pos < row_bytes) {
      corrupt_input(kFormat, "truncated in the vector of word " + std::to_string(i + 1) + " of " +
                                 std::to_string(claimed_words));
    }
    float* row = out.values.data() + i * dims;
    std::memcpy(row, bytes.data() + pos, row_bytes);
    pos += row_bytes;
    for (std::uint64_t d = 0; d < dims; ++d) {
      if (!std::isfinite(row[d])) {
        corrupt_input(kFormat,
                      "the vector of word " + std::to_string(i + 1) + " holds NaN or infinity");
      }
    }
  }
  for (; pos < bytes.size(); ++pos) {
    const char c = bytes[pos];
    if (c != '\n' && c != '\r' && c != ' ') {
      corrupt_input(kFormat, "unexpected data after the last of " + std::to_string(claimed_words) +
                                 " vectors");
    }
  }
  if (out.words.empty()) corrupt_input(kFormat, "no word vectors");
  finish_word_vectors(kFormat, &out);
  return out;
}

}  // namespace embedding::models::detail
