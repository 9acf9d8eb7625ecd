// Private: the bounds-checked GGUF parser behind File (see the layout in smol/gguf.h).
#pragma once

#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "smol/gguf.h"

namespace smol::gguf::detail {

// Everything the parser extracts; views point into the parsed bytes.
struct Parsed {
  uint32_t version = 0;
  uint32_t alignment = kDefaultAlignment;
  uint64_t data_offset = 0;
  std::vector<KeyValue> metadata;
  std::vector<TensorInfo> tensors;
  std::unordered_map<std::string_view, size_t> key_index;     // key -> metadata index
  std::unordered_map<std::string_view, size_t> tensor_index;  // name -> tensors index
};

class Parser {
 public:
  explicit Parser(std::span<const uint8_t> bytes) : p_(bytes.data()), size_(bytes.size()) {}

  // Fills `out`; on failure the message reads "<field> at offset <n>: <problem>".
  Status parse(Parsed& out);

 private:
  Status parse_header(Parsed& out, uint64_t& n_tensors, uint64_t& n_kv);
  Status parse_kv(Parsed& out, uint64_t index);
  Status parse_value(ValueType type, const std::string& field, Value& v);
  Status parse_tensor_info(Parsed& out, uint64_t index, std::vector<uint64_t>& info_at);
  Status check_tensor_data(Parsed& out, const std::vector<uint64_t>& info_at);

  template <typename T>
  bool take(T& v);
  Result<std::string_view> read_string(const std::string& field);
  Error fail(uint64_t at, std::string_view field, const std::string& problem) const;
  Error truncated(std::string_view field, uint64_t need) const;
  uint64_t remaining() const { return size_ - pos_; }

  const uint8_t* p_;
  uint64_t size_;
  uint64_t pos_ = 0;
};

// `s` quoted for an error message: non-printable bytes escaped, long names cut, so a message
// stays on one line whatever the file holds.
std::string quoted(std::string_view s);

}  // namespace smol::gguf::detail
