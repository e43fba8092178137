// The safetensors reader (see safetensors.h), on the validating JSON pull parser.
#include "core/encoder/safetensors.h"

#include <cstring>

#include "core/common/error.h"
#include "core/io/json_reader.h"
#include "core/text/utf8.h"
#include "core/vector/half.h"

namespace embedding::encoder {
namespace {

using io::JsonReader;
using Event = JsonReader::Event;

// A header past this size is not a model's: it would describe millions of tensors.
constexpr std::uint64_t kMaxHeader = 100u << 20;

std::size_t dtype_size(std::string_view dtype) {
  if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
  if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL" || dtype == "F8_E4M3" || dtype == "F8_E5M2")
    return 1;
  return 0;
}

std::uint64_t parse_uint(JsonReader& reader, Event e, const std::string& where) {
  const std::string_view text = reader.text();
  if (e != Event::kNumber || text.empty() || text.size() > 15 ||
      text.find_first_not_of("0123456789") != std::string_view::npos)
    throw Error(ErrorCode::kCorruptData, where + ": expected a whole number");
  return std::stoull(std::string(text));
}

// [n, n, ...] of whole numbers.
std::vector<std::uint64_t> parse_uints(JsonReader& reader, Event first, const std::string& where) {
  if (first != Event::kBeginArray)
    throw Error(ErrorCode::kCorruptData, where + ": expected an array");
  std::vector<std::uint64_t> out;
  for (Event e = reader.next(); e != Event::kEndArray; e = reader.next()) {
    if (out.size() >= 16) throw Error(ErrorCode::kCorruptData, where + ": too many dimensions");
    out.push_back(parse_uint(reader, e, where));
  }
  return out;
}

}  // namespace

std::uint64_t Tensor::elements() const {
  std::uint64_t n = 1;
  for (std::uint64_t d : shape) n *= d;
  return n;
}

SafeTensors::SafeTensors(std::span<const std::byte> file, const std::string& what) {
  const auto fail = [&](const std::string& message) -> void {
    throw Error(ErrorCode::kCorruptData, "corrupt safetensors file \"" + what + "\": " + message);
  };
  if (file.size() < 8) fail("shorter than its 8-byte header length");
  std::uint64_t header_length = 0;
  std::memcpy(&header_length, file.data(), 8);
  if (header_length > kMaxHeader || header_length > file.size() - 8)
    fail("header length " + std::to_string(header_length) + " exceeds the file");
  const std::string_view header(reinterpret_cast<const char*>(file.data()) + 8, header_length);
  const std::span<const std::byte> data = file.subspan(8 + header_length);
  try {
    JsonReader reader(header);
    if (reader.next() != Event::kBeginObject) fail("header is not a JSON object");
    for (Event e = reader.next(); e != Event::kEndObject; e = reader.next()) {
      const std::string name(reader.text());
      Event value = reader.next();
      if (name == "__metadata__") {
        reader.skip_value(value);
        continue;
      }
      // The name as error messages show it (the file's bytes may be anything).
      const std::string tensor_name = "tensor \"" + text::for_message(name) + "\"";
      if (value != Event::kBeginObject) fail(tensor_name + " is not an object");
      Tensor tensor;
      std::vector<std::uint64_t> offsets;
      bool has_dtype = false, has_shape = false;
      for (Event f = reader.next(); f != Event::kEndObject; f = reader.next()) {
        const std::string field(reader.text());
        const Event v = reader.next();
        const std::string where = tensor_name + " " + text::for_message(field);
        if (field == "dtype" && v == Event::kString) {
          tensor.dtype = std::string(reader.text());
          has_dtype = true;
        } else if (field == "shape") {
          tensor.shape = parse_uints(reader, v, where);
          has_shape = true;
        } else if (field == "data_offsets") {
          offsets = parse_uints(reader, v, where);
        } else {
          reader.skip_value(v);
        }
      }
      if (!has_dtype || !has_shape || offsets.size() != 2)
        fail(tensor_name + " lacks dtype, shape or data_offsets");
      const std::size_t size = dtype_size(tensor.dtype);
      if (size == 0)
        fail(tensor_name + " has unknown dtype \"" + text::for_message(tensor.dtype) + "\"");
      // Each dimension below 2^40 and the product checked step by step: no overflow.
      std::uint64_t elements = 1;
      for (std::uint64_t d : tensor.shape) {
        if (d >= (1ull << 40) || (d != 0 && elements > (1ull << 50) / d))
          fail(tensor_name + " is too large");
        elements *= d;
      }
      if (offsets[0] > offsets[1] || offsets[1] > data.size())
        fail(tensor_name + " lies outside the file (the file may be truncated)");
      if (offsets[1] - offsets[0] != elements * size)
        fail(tensor_name + " has " + std::to_string(offsets[1] - offsets[0]) +
             " bytes for its shape's " + std::to_string(elements * size));
      tensor.data = data.subspan(offsets[0], offsets[1] - offsets[0]);
      if (!tensors_.emplace(name, std::move(tensor)).second) fail(tensor_name + " repeats");
    }
    if (reader.next() != Event::kEnd) fail("text after the header's object");
  } catch (const Error& e) {
    if (std::string_view(e.what()).starts_with("corrupt safetensors")) throw;
    fail(e.what());
  }
}

const Tensor* SafeTensors::find(std::string_view name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

void tensor_to_float(const Tensor& tensor, float* out) {
  const std::uint64_t n = tensor.elements();
  const std::byte* in = tensor.data.data();
  if (tensor.dtype == "F32") {
    std::memcpy(out, in, n * 4);
  } else if (tensor.dtype == "F16") {
    for (std::uint64_t i = 0; i < n; ++i) {
      vec::Half h;
      std::memcpy(&h, in + 2 * i, 2);
      out[i] = vec::half_to_float(h);
    }
  } else if (tensor.dtype == "BF16") {
    for (std::uint64_t i = 0; i < n; ++i) {
      std::uint16_t b;
      std::memcpy(&b, in + 2 * i, 2);
      const std::uint32_t bits = std::uint32_t{b} << 16;
      std::memcpy(out + i, &bits, 4);
    }
  } else {
    throw Error(ErrorCode::kFeature, "tensors of dtype " + text::for_message(tensor.dtype) +
                                         " are not supported (float32, float16 and bfloat16 are)");
  }
}

}  // namespace embedding::encoder
