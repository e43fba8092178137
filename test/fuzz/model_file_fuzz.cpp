// libFuzzer target: opening and verifying our model file from arbitrary bytes gives a Model or an
// Error, never a crash or an out-of-bounds read.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/common/error.h"
#include "core/io/checksum.h"
#include "core/models/model.h"
#include "core/models/model_format.h"
#include "core/models/sentence_encoder.h"
#include "core/models/similarity.h"

using namespace embedding::models;

namespace {

// The first input byte chooses whether the checksums are recomputed first, so that the fuzzer
// also reaches the structural checks that checksums would otherwise hide.
void reseal(std::vector<std::byte>& file) {
  if (file.size() < sizeof(FileHeader)) return;
  FileHeader header;
  std::memcpy(&header, file.data(), sizeof header);
  for (auto& entry : header.sections) {
    if (entry.offset <= file.size() && entry.length <= file.size() - entry.offset) {
      entry.checksum = embedding::io::fnv1a64(file.data() + entry.offset, entry.length);
    }
  }
  header.header_checksum = compute_header_checksum(header);
  std::memcpy(file.data(), &header, sizeof header);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  std::vector<std::byte> file(reinterpret_cast<const std::byte*>(data) + 1,
                              reinterpret_cast<const std::byte*>(data) + size);
  if (data[0] & 1) reseal(file);
  try {
    const Model model = Model::from_bytes(std::move(file));
    // Lazily checked paths of an unverified file.
    (void)model.find("the");
    (void)model.lookup("King");
    for (std::uint32_t id = 0; id < model.vocab_size() && id < 8; ++id) (void)model.word(id);
    bool verified = true;
    try {
      model.verify();
    } catch (const embedding::Error& error) {
      if (error.code() != embedding::ErrorCode::kCorruptData) std::abort();
      verified = false;
    }
    if (verified && std::size_t{model.vocab_size()} * model.dims() < (1u << 20)) {
      for (std::uint32_t id = 0; id < model.vocab_size(); ++id) {
        if (model.find(model.word(id)) != id) std::abort();  // verify() promised this
      }
      const auto vector = embed_text(model, "the king's well-known café, don't 3.14");
      if (vector) {
        double squared = 0;
        for (float x : *vector) squared += double(x) * x;
        if (squared < 0.999 || squared > 1.001) std::abort();
      }
      (void)most_similar_to_word(model, 0, 3);
    }
  } catch (const embedding::Error&) {
  }
  return 0;
}
