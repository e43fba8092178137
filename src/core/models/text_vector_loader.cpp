// Text word-vector formats: word2vec text and fastText .vec ("V D" header line, one word per
// line) and GloVe (no header, the dimension comes from the first line).
#include <string>
#include <vector>

#include "core/common/interrupt.h"
#include "core/models/loader_common.h"
#include "core/text/utf8.h"

namespace embedding::models::detail {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// Splits a line into fields separated by runs of spaces or tabs (a trailing '\r' is ignored).
void split_fields(std::string_view line, std::vector<std::string_view>* fields) {
  fields->clear();
  std::size_t pos = 0;
  while (pos < line.size()) {
    while (pos < line.size() && is_blank(line[pos])) ++pos;
    const std::size_t start = pos;
    while (pos < line.size() && !is_blank(line[pos])) ++pos;
    if (pos > start) fields->push_back(line.substr(start, pos - start));
  }
}

std::string at_line(std::size_t line_number) {
  return "line " + std::to_string(line_number) + ": ";
}

}  // namespace

WordVectors load_text_vectors(std::string_view bytes, SourceFormat format) {
  const bool has_header = format != SourceFormat::kGloveText;
  WordVectors out;
  std::uint64_t claimed_words = 0;
  std::vector<std::string_view> fields;
  std::size_t pos = 0;
  std::size_t line_number = 0;
  const auto next_line = [&](std::string_view* line) {
    if (pos >= bytes.size()) return false;
    const std::size_t end = std::min(bytes.find('\n', pos), bytes.size());
    *line = bytes.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    return true;
  };

  std::string_view line;
  if (has_header) {
    if (!next_line(&line)) corrupt_input(format, "empty input");
    split_fields(line, &fields);
    std::uint64_t dims = 0;
    if (fields.size() != 2 || !parse_unsigned(fields[0], &claimed_words) ||
        !parse_unsigned(fields[1], &dims)) {
      corrupt_input(format, "line 1 is not a \"<words> <dimensions>\" header",
                    fields.size() > 2
                        ? "A file without that header is GloVe text: load it with format "
                          "'glove'."
                        : "");
    }
    // Each line needs a word, and a separator and a digit per value.
    check_claimed_size(format, claimed_words, dims, 2 * dims + 2, bytes.size());
    out.dims = static_cast<std::uint32_t>(dims);
    out.words.reserve(claimed_words);
    out.values.reserve(claimed_words * dims);
  }

  while (next_line(&line)) {
    split_fields(line, &fields);
    if (fields.empty()) continue;
    poll_interrupts_every<10>(line_number);
    if (out.dims == 0) {
      if (fields.size() < 2) corrupt_input(format, at_line(line_number) + "no vector values");
      std::uint64_t claimed = 0;
      if (fields.size() == 2 && parse_unsigned(fields[0], &claimed) &&
          parse_unsigned(fields[1], &claimed)) {
        corrupt_input(format,
                      "line 1 is a \"<words> <dimensions>\" header, which GloVe text has not",
                      "This is word2vec or fastText text: load it with format 'fasttext' or "
                      "'word2vec'.");
      }
      check_claimed_size(format, 0, fields.size() - 1, 0, bytes.size());
      out.dims = static_cast<std::uint32_t>(fields.size() - 1);
    }
    std::size_t word_fields = 1;
    if (has_header) {
      if (fields.size() != out.dims + 1) {
        corrupt_input(format, at_line(line_number) + "expected a word and " +
                                  std::to_string(out.dims) + " values, found " +
                                  std::to_string(fields.size()) + " fields");
      }
      if (out.words.size() == claimed_words) {
        corrupt_input(format, at_line(line_number) + "more vectors than the header's " +
                                  std::to_string(claimed_words));
      }
    } else {
      // GloVe files have a few words containing spaces: the last dims fields are the values.
      if (fields.size() < out.dims + 1) {
        corrupt_input(format, at_line(line_number) + "expected a word and " +
                                  std::to_string(out.dims) + " values, found " +
                                  std::to_string(fields.size()) + " fields");
      }
      word_fields = fields.size() - out.dims;
    }
    std::string word(fields[0]);
    for (std::size_t i = 1; i < word_fields; ++i) word.append(" ").append(fields[i]);
    out.words.push_back(std::move(word));
    for (std::size_t i = word_fields; i < fields.size(); ++i) {
      float value;
      if (!parse_float(fields[i], &value)) {
        corrupt_input(format,
                      at_line(line_number) + "value " + std::to_string(i - word_fields + 1) +
                          " is not a finite number: \"" + text::for_message(fields[i], 40) + "\"");
      }
      out.values.push_back(value);
    }
  }
  if (has_header && out.words.size() != claimed_words) {
    corrupt_input(format, "the header says " + std::to_string(claimed_words) +
                              " words but the input has " + std::to_string(out.words.size()) +
                              " (truncated?)");
  }
  if (out.words.empty()) corrupt_input(format, "no word vectors");
  finish_word_vectors(format, &out);
  return out;
}

}  // namespace embedding::models::detail
