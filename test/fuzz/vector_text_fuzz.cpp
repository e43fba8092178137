// libFuzzer target: the text parsers and formatters of vector, halfvec and sparsevec. Any input
// must either parse or throw embedding::Error; whatever parses must format and parse back to
// identical bits, and a halfvec's elements must be exactly representable as halfs.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/vector/codec.h"
#include "core/vector/half.h"
#include "core/vector/sparse.h"

namespace {

namespace vec = embedding::vec;

void round_trip(const std::string& text, vec::Element element) {
  std::vector<float> v(vec::text_capacity(text.c_str()));
  int dim;
  try {
    dim = vec::parse_text(text.c_str(), v.data(), static_cast<int>(v.size()), element);
  } catch (const embedding::Error&) {
    return;
  }
  if (dim < 1 || dim > vec::kMaxDim) __builtin_trap();
  if (element == vec::Element::kFloat16)
    for (int i = 0; i < dim; ++i)
      if (vec::half_to_float(vec::float_to_half(v[i])) != v[i]) __builtin_trap();
  std::string out(dim * vec::kMaxElementChars + 3, '\0');
  out.resize(vec::format_text(v.data(), dim, out.data()));
  std::vector<float> back(vec::text_capacity(out.c_str()));
  int dim2 = vec::parse_text(out.c_str(), back.data(), static_cast<int>(back.size()), element);
  if (dim2 != dim || std::memcmp(back.data(), v.data(), sizeof(float) * dim) != 0) __builtin_trap();
}

void sparse_round_trip(const std::string& text) {
  std::vector<std::int32_t> indices;
  std::vector<float> values;
  long dim = 0;
  int nnz;
  try {
    const int capacity = vec::sparse_text_capacity(text.c_str());
    indices.resize(capacity);
    values.resize(capacity);
    nnz = vec::parse_sparse_text(text.c_str(), indices.data(), values.data(), capacity, &dim);
  } catch (const embedding::Error&) {
    return;
  }
  if (dim < 1 || dim > vec::kMaxSparseDim || nnz > vec::kMaxSparseNnz) __builtin_trap();
  for (int i = 0; i < nnz; ++i)
    if (indices[i] < 0 || indices[i] >= dim || (i > 0 && indices[i] <= indices[i - 1]) ||
        values[i] == 0)
      __builtin_trap();
  const vec::SparseView v{static_cast<std::int32_t>(dim), nnz, indices.data(), values.data()};
  std::string out(vec::sparse_text_bound(nnz), '\0');
  out.resize(vec::format_sparse_text(v, out.data()));
  std::vector<std::int32_t> indices2(nnz + 1);
  std::vector<float> values2(nnz + 1);
  long dim2 = 0;
  const int nnz2 =
      vec::parse_sparse_text(out.c_str(), indices2.data(), values2.data(), nnz + 1, &dim2);
  if (nnz2 != nnz || dim2 != dim ||
      std::memcmp(indices2.data(), indices.data(), sizeof(std::int32_t) * nnz) != 0 ||
      std::memcmp(values2.data(), values.data(), sizeof(float) * nnz) != 0)
    __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  text = text.c_str();  // PostgreSQL hands the parser a NUL-terminated cstring
  round_trip(text, vec::Element::kFloat32);
  round_trip(text, vec::Element::kFloat16);
  sparse_round_trip(text);
  return 0;
}
