// Loading a sentence-transformers model directory (as downloaded from the Hugging Face hub) into
// an encoder file image: BERT-architecture encoders with mean, CLS or max pooling and optional
// normalisation; anything else is a clear error naming what is not supported.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace embedding::encoder {

// Reads dir/modules.json, the Transformer module's config.json, model.safetensors, vocab.txt,
// tokenizer_config.json (and tokenizer.json when present), sentence_bert_config.json, and the
// Pooling module's config.json. Returns the complete encoder file image (the caller verifies it
// once, with verify_model_image()).
// Every file and module path must resolve (through symbolic links and "..") inside dir; one
// that leads out is Error(kCorruptData) "... leaves the model directory". Files are read into
// memory, never mapped (a file changed during the read is Error(kIoError)).
// Throws Error(kIoError) for a missing or unreadable file, kFeature for what is not supported,
// kCorruptData for malformed files.
std::vector<std::byte> load_sentence_transformer(const std::string& dir);

// vocab.txt's text: one piece a line (the line ending, \n or \r\n, removed as BERT's loader
// reading it as text does), padded with unreachable empty entries up to the embedding matrix's
// vocab_size rows. A line that is not valid UTF-8 text, or more lines than vocab_size, throws
// Error(kCorruptData) naming `what` (the file).
std::vector<std::string> parse_vocab(std::string_view text, std::uint32_t vocab_size,
                                     const std::string& what);

}  // namespace embedding::encoder
