// libFuzzer target: the binary receive paths of vector, halfvec and sparsevec (header check, then
// elements), with and without a typmod. Any input must decode or throw embedding::Error, never
// read out of bounds, and what decodes must encode back to the same bytes.
#include <cstdint>
#include <vector>

#include "core/common/error.h"
#include "core/vector/codec.h"
#include "core/vector/sparse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace vec = embedding::vec;
  // Exact-size copy so ASan catches any read past the message.
  std::vector<unsigned char> msg(data, data + size);
  for (int typmod : {-1, 3}) {
    try {
      int dim = vec::decode_binary_header(msg.data(), msg.size(), typmod);
      std::vector<float> out(dim);
      vec::decode_binary_elements(msg.data(), msg.size(), out.data(), dim);
      std::vector<unsigned char> again(vec::binary_size(dim));
      vec::encode_binary(out.data(), dim, again.data());
      for (std::size_t i = 0; i < again.size(); ++i)
        if (again[i] != msg[i]) __builtin_trap();
    } catch (const embedding::Error&) {
    }
    try {
      const auto half = vec::Element::kFloat16;
      int dim = vec::decode_binary_header(msg.data(), msg.size(), typmod, half);
      std::vector<std::uint16_t> out(dim);
      vec::decode_binary_halfs(msg.data(), msg.size(), out.data(), dim);
      std::vector<unsigned char> again(vec::binary_size(dim, half));
      vec::encode_binary_halfs(out.data(), dim, again.data());
      for (std::size_t i = 0; i < again.size(); ++i)
        if (again[i] != msg[i]) __builtin_trap();
    } catch (const embedding::Error&) {
    }
    try {
      long dim = 0;
      const int nnz = vec::decode_sparse_header(msg.data(), msg.size(), typmod, &dim);
      std::vector<std::int32_t> indices(nnz);
      std::vector<float> values(nnz);
      vec::decode_sparse_elements(msg.data(), msg.size(), nnz, dim, indices.data(), values.data());
      std::vector<unsigned char> again(vec::sparse_binary_size(nnz));
      vec::encode_sparse_binary(
          {static_cast<std::int32_t>(dim), nnz, indices.data(), values.data()}, again.data());
      for (std::size_t i = 0; i < again.size(); ++i)
        if (again[i] != msg[i]) __builtin_trap();
    } catch (const embedding::Error&) {
    }
  }
  return 0;
}
