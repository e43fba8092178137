// Reader for the safetensors format (an 8-byte little-endian header length, a JSON header naming
// each tensor's dtype, shape and byte range, then the data): validated views, float conversion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace embedding::encoder {

struct Tensor {
  std::string dtype;                 // "F32", "F16", "BF16", "I64", ...
  std::vector<std::uint64_t> shape;  // empty for a scalar
  std::span<const std::byte> data;   // exactly elements() x the dtype's size
  std::uint64_t elements() const;
};

class SafeTensors {
 public:
  // Parses and checks the header against the file: every tensor's dtype is known, its shape's
  // size matches its byte range, and the ranges lie inside the data. Throws Error(kCorruptData)
  // naming `what` (the file) for anything else.
  SafeTensors(std::span<const std::byte> file, const std::string& what);

  // nullptr when there is no tensor of that name.
  const Tensor* find(std::string_view name) const;
  const std::map<std::string, Tensor, std::less<>>& tensors() const { return tensors_; }

 private:
  std::map<std::string, Tensor, std::less<>> tensors_;
};

// Copies a tensor's values as float32 (exact for F32, F16 and BF16); other dtypes throw
// Error(kFeature).
void tensor_to_float(const Tensor& tensor, float* out);

}  // namespace embedding::encoder
