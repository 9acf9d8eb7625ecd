// Type tables: value types and ggml tensor types (ids from ggml/include/ggml.h, block sizes from
// the block structs in ggml/src/ggml-common.h).
#include <array>
#include <limits>
#include <string>

#include "smol/gguf.h"

namespace smol::gguf {
namespace {

struct TypeRow {
  TensorType type;
  TypeTraits traits;
};

// Block bytes, e.g. Q4_K: fp16 d + fp16 dmin + 12 scale bytes + 128 nibble bytes = 144.
constexpr std::array<TypeRow, 32> kTypes = {{
    {TensorType::F32, {"F32", 1, 4}},
    {TensorType::F16, {"F16", 1, 2}},
    {TensorType::Q4_0, {"Q4_0", 32, 18}},
    {TensorType::Q4_1, {"Q4_1", 32, 20}},
    {TensorType::Q5_0, {"Q5_0", 32, 22}},
    {TensorType::Q5_1, {"Q5_1", 32, 24}},
    {TensorType::Q8_0, {"Q8_0", 32, 34}},
    {TensorType::Q8_1, {"Q8_1", 32, 36}},
    {TensorType::Q2_K, {"Q2_K", 256, 84}},
    {TensorType::Q3_K, {"Q3_K", 256, 110}},
    {TensorType::Q4_K, {"Q4_K", 256, 144}},
    {TensorType::Q5_K, {"Q5_K", 256, 176}},
    {TensorType::Q6_K, {"Q6_K", 256, 210}},
    {TensorType::Q8_K, {"Q8_K", 256, 292}},
    {TensorType::IQ2_XXS, {"IQ2_XXS", 256, 66}},
    {TensorType::IQ2_XS, {"IQ2_XS", 256, 74}},
    {TensorType::IQ3_XXS, {"IQ3_XXS", 256, 98}},
    {TensorType::IQ1_S, {"IQ1_S", 256, 50}},
    {TensorType::IQ4_NL, {"IQ4_NL", 32, 18}},
    {TensorType::IQ3_S, {"IQ3_S", 256, 110}},
    {TensorType::IQ2_S, {"IQ2_S", 256, 82}},
    {TensorType::IQ4_XS, {"IQ4_XS", 256, 136}},
    {TensorType::I8, {"I8", 1, 1}},
    {TensorType::I16, {"I16", 1, 2}},
    {TensorType::I32, {"I32", 1, 4}},
    {TensorType::I64, {"I64", 1, 8}},
    {TensorType::F64, {"F64", 1, 8}},
    {TensorType::IQ1_M, {"IQ1_M", 256, 56}},
    {TensorType::BF16, {"BF16", 1, 2}},
    {TensorType::TQ1_0, {"TQ1_0", 256, 54}},
    {TensorType::TQ2_0, {"TQ2_0", 256, 66}},
    {TensorType::MXFP4, {"MXFP4", 32, 17}},
}};

}  // namespace

std::string_view value_type_name(ValueType type) {
  switch (type) {
    case ValueType::U8:
      return "u8";
    case ValueType::I8:
      return "i8";
    case ValueType::U16:
      return "u16";
    case ValueType::I16:
      return "i16";
    case ValueType::U32:
      return "u32";
    case ValueType::I32:
      return "i32";
    case ValueType::F32:
      return "f32";
    case ValueType::BOOL:
      return "bool";
    case ValueType::STRING:
      return "string";
    case ValueType::ARRAY:
      return "array";
    case ValueType::U64:
      return "u64";
    case ValueType::I64:
      return "i64";
    case ValueType::F64:
      return "f64";
  }
  return "unknown";
}

uint32_t value_type_size(ValueType type) {
  switch (type) {
    case ValueType::U8:
    case ValueType::I8:
    case ValueType::BOOL:
      return 1;
    case ValueType::U16:
    case ValueType::I16:
      return 2;
    case ValueType::U32:
    case ValueType::I32:
    case ValueType::F32:
      return 4;
    case ValueType::U64:
    case ValueType::I64:
    case ValueType::F64:
      return 8;
    case ValueType::STRING:
    case ValueType::ARRAY:
      return 0;
  }
  return 0;
}

const TypeTraits* type_traits(TensorType type) {
  for (const TypeRow& row : kTypes) {
    if (row.type == type) return &row.traits;
  }
  return nullptr;
}

std::string_view type_name(TensorType type) {
  const TypeTraits* traits = type_traits(type);
  return traits ? traits->name : std::string_view("unknown");
}

std::optional<TensorType> type_from_name(std::string_view name) {
  for (const TypeRow& row : kTypes) {
    if (row.traits.name == name) return row.type;
  }
  return std::nullopt;
}

Result<uint64_t> tensor_bytes(TensorType type, std::span<const int64_t> ne) {
  const TypeTraits* traits = type_traits(type);
  if (!traits) {
    return Error{"unknown tensor type " + std::to_string(static_cast<uint32_t>(type))};
  }
  if (ne.empty() || ne.size() > kMaxDims) {
    return Error{"n_dims " + std::to_string(ne.size()) + " out of range 1.." +
                 std::to_string(kMaxDims)};
  }
  uint64_t n_elements = 1;
  for (size_t i = 0; i < ne.size(); ++i) {
    if (ne[i] < 1) {
      return Error{"dimension ne[" + std::to_string(i) + "] = " + std::to_string(ne[i]) +
                   " must be >= 1"};
    }
    if (__builtin_mul_overflow(n_elements, static_cast<uint64_t>(ne[i]), &n_elements) ||
        n_elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Error{"element count overflows at ne[" + std::to_string(i) +
                   "] = " + std::to_string(ne[i])};
    }
  }
  if (ne[0] % traits->block_elems != 0) {
    return Error{"ne[0] = " + std::to_string(ne[0]) + " is not a multiple of the " +
                 std::string(traits->name) + " block size " + std::to_string(traits->block_elems)};
  }
  uint64_t n_bytes = 0;
  if (__builtin_mul_overflow(n_elements / traits->block_elems, uint64_t{traits->block_bytes},
                             &n_bytes)) {
    return Error{"byte size overflows"};
  }
  return n_bytes;
}

}  // namespace smol::gguf
