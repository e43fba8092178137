// Loading a sentence-transformers model directory (as downloaded from the Hugging Face hub) into
// an encoder file image: BERT-architecture encoders with mean, CLS or max pooling and optional
// normalisation; anything else is a clear error naming what is not supported.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace embedding::encoder {

// Reads dir/modules.json, the Transformer module's config.json, model.safetensors, vocab.txt,
// tokenizer_config.json (and tokenizer.json when present), sentence_bert_config.json, and the
// Pooling module's config.json. Returns the complete encoder file image (the caller verifies it
// once, with verify_model_image()).
// Throws Error(kIoError) for a missing or unreadable file, kFeature for what is not supported,
// kCorruptData for malformed files.
std::vector<std::byte> load_sentence_transformer(const std::string& dir);

}  // namespace embedding::encoder
