// smol/gguf.h — GGUF v2/v3 reader (mmap, bounds-checked, zero-copy) and streaming writer.
//
// File layout, as this reader accepts it (all integers little-endian):
//
//   offset 0   char[4]  magic "GGUF"
//          4   u32      version            2 or 3 (v1 used 32-bit counts and is refused)
//          8   i64      n_tensors          (u64 in the v2 spec; either way >= 0 and bounded below)
//         16   i64      n_kv
//         24   n_kv x { string key; i32 value_type; value }
//              n_tensors x { string name; u32 n_dims; i64 ne[n_dims]; i32 type; u64 offset }
//              zero padding up to a multiple of `alignment`
//   data_offset  tensor data; each tensor starts at data_offset + offset
//
//   string  = u64 len, then len bytes (UTF-8, no NUL)
//   value   = scalar of the value type; bool is one byte (0 or 1)
//   array   = i32 elem_type, u64 count, then count elements packed without padding
//             (arrays of arrays are refused: nothing we read uses them)
//   alignment = u32 `general.alignment` if present (power of two), else 32
//   tensor offsets are relative to data_offset and multiples of `alignment`; tensors may not
//   overlap and must end inside the file. ne0 is the contiguous axis; ne0 % block_elems == 0.
//
// Goals: every count, length, offset, dimension and the alignment is checked against the file
// size before use, with overflow-safe arithmetic, so a hostile file yields an Error (never a
// crash, an out-of-bounds read or an absurd allocation). Error messages name the field (key,
// tensor name, "n_kv", ...) and the byte offset where it was read, e.g.
//   "gguf: string length 1099511627776 of key #3 at offset 412 runs past end of file (2048 bytes)".
// Strings and tensor data are zero-copy views into the mapping; a File owns the mapping.
// The Writer produces files llama.cpp accepts and streams tensor data (a 1.9 GB model is
// written without holding all weights in memory).
//
// Non-goals: writing in place, editing a mapped file, big-endian files, GGUF v1, nested arrays,
// interpreting tensor contents (dequantization lives in smol_kernels), and surviving a file that
// another process truncates while it is mapped (reading the lost pages raises SIGBUS).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "smol/result.h"

namespace smol::gguf {

// ---------------------------------------------------------------------------------------------
// Types

// Metadata value types, with the ids the file stores.
enum class ValueType : uint32_t {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
};

// "u8", "i32", "string", "array", ...; "unknown" for ids outside the enum.
std::string_view value_type_name(ValueType type);
// Bytes of one element of a fixed-size value type; 0 for STRING, ARRAY and unknown ids.
uint32_t value_type_size(ValueType type);

// Tensor element types, with ggml's ids (ggml/include/ggml.h). Gaps are retired ids.
enum class TensorType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  MXFP4 = 39,
};

// Storage of one block: `block_elems` consecutive elements along ne0 take `block_bytes` bytes.
struct TypeTraits {
  std::string_view name;  // ggml's spelling: "F32", "Q4_K", "BF16", ...
  uint32_t block_elems;
  uint32_t block_bytes;
};

// nullptr when `type` is not a known ggml type id.
const TypeTraits* type_traits(TensorType type);
// The name, or "unknown" for an unknown id.
std::string_view type_name(TensorType type);
// Inverse of type_name ("Q4_K" -> TensorType::Q4_K); nullopt when unknown.
std::optional<TensorType> type_from_name(std::string_view name);

// Bytes of a tensor of `type` and shape `ne` (ne0 first, 1..4 dims). Fails with a message when
// the type is unknown, a dimension is < 1, ne0 is not a multiple of the block size, or the
// element count / byte size overflows 64 bits.
Result<uint64_t> tensor_bytes(TensorType type, std::span<const int64_t> ne);

inline constexpr uint32_t kMaxDims = 4;
inline constexpr uint32_t kDefaultAlignment = 32;

// ---------------------------------------------------------------------------------------------
// Reader

namespace detail {
class Parser;
}

// One metadata value as stored in the file. Strings are views into the file's bytes and live as
// long as the File. Scalar getters widen: as_int() accepts every integer type (and fails only
// when a u64 does not fit in i64), as_float() accepts F32 and F64.
class Value {
 public:
  ValueType type() const { return type_; }
  bool is_array() const { return type_ == ValueType::ARRAY; }

  std::optional<int64_t> as_int() const;              // U8..I64 (not BOOL)
  std::optional<uint64_t> as_uint() const;            // U8..I64 when the value is >= 0
  std::optional<double> as_float() const;             // F32, F64
  std::optional<bool> as_bool() const;                // BOOL
  std::optional<std::string_view> as_string() const;  // STRING

  // Arrays. For a non-array value count() is 0.
  ValueType elem_type() const { return elem_type_; }
  uint64_t count() const { return count_; }
  // Packed little-endian elements of a fixed-size array (count * value_type_size bytes, not
  // necessarily aligned for the element type). Empty for string arrays.
  std::span<const uint8_t> raw() const { return raw_; }
  // Elements of a STRING array.
  std::span<const std::string_view> strings() const { return strings_; }
  // Element i of a numeric array, widened as by as_int()/as_float(). Precondition: i < count()
  // and the element type matches (checked, aborts otherwise).
  int64_t int_at(uint64_t i) const;
  double float_at(uint64_t i) const;

 private:
  friend class detail::Parser;
  ValueType type_ = ValueType::U8;
  ValueType elem_type_ = ValueType::U8;
  uint64_t count_ = 0;
  uint64_t bits_ = 0;  // scalar payload, little-endian bit pattern zero-extended to 64 bits
  std::string_view str_;
  std::span<const uint8_t> raw_;
  std::vector<std::string_view> strings_;
};

struct KeyValue {
  std::string_view key;
  Value value;
  uint64_t offset = 0;  // file offset of the key's length field (for messages)
};

struct TensorInfo {
  std::string_view name;
  TensorType type = TensorType::F32;
  uint32_t n_dims = 0;
  std::array<int64_t, kMaxDims> ne = {1, 1, 1, 1};  // ne[0] contiguous; unused dims are 1
  uint64_t offset = 0;                              // relative to File::data_offset()
  uint64_t n_bytes = 0;                             // tensor_bytes(type, ne)
  uint64_t n_elements = 0;                          // product of ne
  const uint8_t* data = nullptr;  // zero-copy view: n_bytes bytes inside the File's mapping

  std::span<const int64_t> shape() const { return {ne.data(), n_dims}; }
  int64_t n_rows() const { return ne[1] * ne[2] * ne[3]; }
  std::span<const uint8_t> bytes() const { return {data, n_bytes}; }
};

// A parsed GGUF file. Movable, not copyable; unmaps (or frees) its bytes on destruction.
// All views (keys, strings, tensor data) stay valid until the File is destroyed, also across
// moves.
class File {
 public:
  // Maps `path` read-only and parses it.
  static Result<File> open(const std::string& path);
  // Parses an in-memory image (tests, the fuzzer). The File keeps a page-aligned copy, so tensor
  // data is aligned in memory as in a mapped file.
  static Result<File> from_bytes(std::vector<uint8_t> bytes);

  File(File&&) noexcept;
  File& operator=(File&&) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File();

  uint32_t version() const;
  uint32_t alignment() const;
  uint64_t data_offset() const;  // start of the tensor data section
  uint64_t file_size() const;
  std::span<const uint8_t> bytes() const;  // the whole file

  // Metadata in file order.
  const std::vector<KeyValue>& metadata() const;
  // nullptr when absent.
  const Value* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // Typed accessors. Each fails when the key is absent or has another type, e.g.
  //   "gguf: key 'smollm3.block_count' has type i32, expected u32".
  Result<uint8_t> get_u8(std::string_view key) const;
  Result<uint16_t> get_u16(std::string_view key) const;
  Result<uint32_t> get_u32(std::string_view key) const;
  Result<int32_t> get_i32(std::string_view key) const;
  Result<uint64_t> get_u64(std::string_view key) const;
  Result<int64_t> get_i64(std::string_view key) const;
  Result<float> get_f32(std::string_view key) const;
  Result<double> get_f64(std::string_view key) const;
  Result<bool> get_bool(std::string_view key) const;
  Result<std::string_view> get_string(std::string_view key) const;
  // Lenient: any integer type whose value fits in int64_t / any float type.
  Result<int64_t> get_int(std::string_view key) const;
  Result<double> get_float(std::string_view key) const;
  // Arrays with the named element type (strict), copied out except for string views.
  Result<std::span<const std::string_view>> get_string_array(std::string_view key) const;
  Result<std::vector<int32_t>> get_i32_array(std::string_view key) const;
  Result<std::vector<uint32_t>> get_u32_array(std::string_view key) const;
  Result<std::vector<float>> get_f32_array(std::string_view key) const;
  // Lenient: any integer element type, widened.
  Result<std::vector<int64_t>> get_int_array(std::string_view key) const;
  // The array value itself, any element type.
  Result<const Value*> get_array(std::string_view key) const;

  // Tensors in file order (which is also data order).
  const std::vector<TensorInfo>& tensors() const;
  // nullptr when absent.
  const TensorInfo* find_tensor(std::string_view name) const;

 private:
  struct Impl;
  explicit File(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------------------------
// Writer

// Fills `out` (exactly the tensor's byte size) with the tensor's data. Called once per tensor,
// during Writer::write, in file order; returning an Error aborts the write.
using TensorFill = std::function<Status(std::span<uint8_t> out)>;

// Builds a GGUF v3 file. Metadata keeps insertion order; setting an existing key replaces its
// value in place. `general.alignment` (u32, power of two) sets the data alignment (default 32).
// Tensor data is requested from each tensor's TensorFill while writing, one tensor at a time,
// so peak memory is the largest tensor, not the file.
class Writer {
 public:
  Writer();
  ~Writer();
  Writer(Writer&&) noexcept;
  Writer& operator=(Writer&&) noexcept;

  void set_u8(std::string_view key, uint8_t v);
  void set_i8(std::string_view key, int8_t v);
  void set_u16(std::string_view key, uint16_t v);
  void set_i16(std::string_view key, int16_t v);
  void set_u32(std::string_view key, uint32_t v);
  void set_i32(std::string_view key, int32_t v);
  void set_f32(std::string_view key, float v);
  void set_bool(std::string_view key, bool v);
  void set_string(std::string_view key, std::string_view v);
  void set_u64(std::string_view key, uint64_t v);
  void set_i64(std::string_view key, int64_t v);
  void set_f64(std::string_view key, double v);

  // Arrays; the element type follows the span's element type.
  void set_array(std::string_view key, std::span<const uint8_t> v);
  void set_array(std::string_view key, std::span<const int8_t> v);
  void set_array(std::string_view key, std::span<const uint16_t> v);
  void set_array(std::string_view key, std::span<const int16_t> v);
  void set_array(std::string_view key, std::span<const uint32_t> v);
  void set_array(std::string_view key, std::span<const int32_t> v);
  void set_array(std::string_view key, std::span<const float> v);
  void set_array(std::string_view key, std::span<const bool> v);
  void set_array(std::string_view key, std::span<const uint64_t> v);
  void set_array(std::string_view key, std::span<const int64_t> v);
  void set_array(std::string_view key, std::span<const double> v);
  void set_string_array(std::string_view key, std::span<const std::string> v);
  void set_string_array(std::string_view key, std::span<const std::string_view> v);
  // Copies a value read from another file (any type, arrays included).
  void set_value(std::string_view key, const Value& v);

  bool has(std::string_view key) const;
  size_t n_kv() const;

  // Declares a tensor; its data comes from `fill` during write(). Fails on a duplicate name, a
  // name of 64 bytes or more, an unknown type, a bad shape (see tensor_bytes). Offsets are
  // assigned in call order: running sum of sizes rounded up to the alignment.
  Status add_tensor(std::string_view name, TensorType type, std::span<const int64_t> ne,
                    TensorFill fill);
  // Same with the data given now (copied; for tests and small files). Fails when
  // data.size() != tensor_bytes(type, ne).
  Status add_tensor(std::string_view name, TensorType type, std::span<const int64_t> ne,
                    std::span<const uint8_t> data);
  size_t n_tensors() const;

  // Writes the whole file to `path` (created or truncated; removed again on failure).
  Status write(const std::string& path) const;
  // Builds the whole file in memory (tests, fuzz seeds).
  Result<std::vector<uint8_t>> to_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace smol::gguf
