// Value accessors: decode the little-endian payload kept by the parser.
#include <bit>
#include <cstring>
#include <limits>

#include "smol/gguf.h"

namespace smol::gguf {
namespace {

static_assert(std::endian::native == std::endian::little, "GGUF payloads are read in place");

template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// Integer payload of `type` stored in the low bytes of `p`, widened; nullopt for non-integers
// and for u64 values above INT64_MAX.
std::optional<int64_t> decode_int(ValueType type, const uint8_t* p) {
  switch (type) {
    case ValueType::U8:
      return load<uint8_t>(p);
    case ValueType::I8:
      return load<int8_t>(p);
    case ValueType::U16:
      return load<uint16_t>(p);
    case ValueType::I16:
      return load<int16_t>(p);
    case ValueType::U32:
      return load<uint32_t>(p);
    case ValueType::I32:
      return load<int32_t>(p);
    case ValueType::I64:
      return load<int64_t>(p);
    case ValueType::U64: {
      uint64_t v = load<uint64_t>(p);
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
      return static_cast<int64_t>(v);
    }
    default:
      return std::nullopt;
  }
}

std::optional<double> decode_float(ValueType type, const uint8_t* p) {
  if (type == ValueType::F32) return load<float>(p);
  if (type == ValueType::F64) return load<double>(p);
  return std::nullopt;
}

}  // namespace

std::optional<int64_t> Value::as_int() const {
  return decode_int(type_, reinterpret_cast<const uint8_t*>(&bits_));
}

std::optional<uint64_t> Value::as_uint() const {
  if (type_ == ValueType::U64) return bits_;
  std::optional<int64_t> v = as_int();
  if (!v || *v < 0) return std::nullopt;
  return static_cast<uint64_t>(*v);
}

std::optional<double> Value::as_float() const {
  return decode_float(type_, reinterpret_cast<const uint8_t*>(&bits_));
}

std::optional<bool> Value::as_bool() const {
  if (type_ != ValueType::BOOL) return std::nullopt;
  return bits_ != 0;
}

std::optional<std::string_view> Value::as_string() const {
  if (type_ != ValueType::STRING) return std::nullopt;
  return str_;
}

int64_t Value::int_at(uint64_t i) const {
  SMOL_CHECK(is_array() && i < count_, "int_at: not an array or index out of range");
  uint32_t size = value_type_size(elem_type_);
  SMOL_CHECK(size != 0, "int_at: element type is not numeric");
  std::optional<int64_t> v = decode_int(elem_type_, raw_.data() + i * size);
  if (!v && elem_type_ == ValueType::U64) {
    return std::numeric_limits<int64_t>::max();  // saturate: callers range-check anyway
  }
  SMOL_CHECK(v.has_value(), "int_at: element type is not an integer");
  return *v;
}

double Value::float_at(uint64_t i) const {
  SMOL_CHECK(is_array() && i < count_, "float_at: not an array or index out of range");
  uint32_t size = value_type_size(elem_type_);
  std::optional<double> v =
      size ? decode_float(elem_type_, raw_.data() + i * size) : std::optional<double>();
  SMOL_CHECK(v.has_value(), "float_at: element type is not f32/f64");
  return *v;
}

}  // namespace smol::gguf
