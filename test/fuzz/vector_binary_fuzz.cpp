// libFuzzer target: the vector binary receive path (header check, then elements), with and
// without a typmod. Any input must decode or throw embedding::Error, never read out of bounds.
#include <cstdint>
#include <vector>

#include "core/common/error.h"
#include "core/vector/codec.h"

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
  }
  return 0;
}
