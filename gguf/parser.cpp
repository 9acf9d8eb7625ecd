// The GGUF parser. Invariant: pos_ <= size_, and every read first checks that the bytes exist;
// a count is checked against the bytes that remain before anything is allocated for it.
#include "parser.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <numeric>
#include <string>

namespace smol::gguf::detail {
namespace {

constexpr uint8_t kMagic[4] = {'G', 'G', 'U', 'F'};
// Smallest encodings, used to bound counts before allocating: a KV is an empty key (8), a type
// (4) and a 1-byte value; a tensor info is an empty name (8), n_dims (4), one dim (8), a type (4)
// and an offset (8).
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;
constexpr uint64_t kMaxNameBytes = 63;  // ggml's GGML_MAX_NAME (64) includes the NUL

std::string hex_bytes(const uint8_t* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    if (i) s += ' ';
    s += kDigits[p[i] >> 4];
    s += kDigits[p[i] & 15];
  }
  return s;
}

bool is_known_value_type(uint32_t t) { return t <= static_cast<uint32_t>(ValueType::F64); }

}  // namespace

std::string quoted(std::string_view s) {
  constexpr size_t kMaxShown = 80;
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      static constexpr char kDigits[] = "0123456789abcdef";
      out += "\\x";
      out += kDigits[c >> 4];
      out += kDigits[c & 15];
    }
  }
  if (s.size() > kMaxShown) out += "...";
  out += "'";
  return out;
}

template <typename T>
bool Parser::take(T& v) {
  if (remaining() < sizeof(T)) return false;
  std::memcpy(&v, p_ + pos_, sizeof(T));
  pos_ += sizeof(T);
  return true;
}

Error Parser::fail(uint64_t at, std::string_view field, const std::string& problem) const {
  return Error{std::string(field) + " at offset " + std::to_string(at) + ": " + problem};
}

Error Parser::truncated(std::string_view field, uint64_t need) const {
  return fail(pos_, field,
              "truncated: needs " + std::to_string(need) + " bytes, " +
                  std::to_string(remaining()) + " remain (file is " + std::to_string(size_) +
                  " bytes)");
}

Result<std::string_view> Parser::read_string(const std::string& field) {
  uint64_t at = pos_;
  uint64_t len = 0;
  if (!take(len)) return truncated(field + " length", sizeof(len));
  if (len > remaining()) {
    return fail(at, field,
                "string length " + std::to_string(len) + " runs past end of file (" +
                    std::to_string(remaining()) + " bytes remain)");
  }
  std::string_view s(reinterpret_cast<const char*>(p_ + pos_), len);
  pos_ += len;
  return s;
}

Status Parser::parse(Parsed& out) {
  uint64_t n_tensors = 0;
  uint64_t n_kv = 0;
  SMOL_TRY(parse_header(out, n_tensors, n_kv));
  out.metadata.reserve(n_kv);
  for (uint64_t i = 0; i < n_kv; ++i) SMOL_TRY(parse_kv(out, i));

  std::vector<uint64_t> info_at;  // file offset of each tensor info, for messages
  info_at.reserve(n_tensors);
  out.tensors.reserve(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) SMOL_TRY(parse_tensor_info(out, i, info_at));

  // pos_ <= size_ < 2^63 and alignment <= 2^31, so this cannot overflow.
  out.data_offset = (pos_ + out.alignment - 1) / out.alignment * out.alignment;
  return check_tensor_data(out, info_at);
}

Status Parser::parse_header(Parsed& out, uint64_t& n_tensors, uint64_t& n_kv) {
  if (size_ < sizeof(kMagic)) {
    return fail(0, "magic", "truncated header: file is " + std::to_string(size_) + " bytes");
  }
  if (std::memcmp(p_, kMagic, sizeof(kMagic)) != 0) {
    return fail(0, "magic",
                "bad magic: expected \"GGUF\" (47 47 55 46), found " + hex_bytes(p_, 4));
  }
  pos_ = sizeof(kMagic);

  uint32_t version = 0;
  if (!take(version)) return truncated("version (truncated header)", sizeof(version));
  if (version != 2 && version != 3) {
    std::string why = "unsupported version " + std::to_string(version) + " (supported: 2, 3)";
    if (__builtin_bswap32(version) == 2 || __builtin_bswap32(version) == 3) {
      why += "; this looks like a big-endian file, which is not supported";
    }
    return fail(4, "version", why);
  }
  out.version = version;

  int64_t counts[2] = {0, 0};
  const char* names[2] = {"n_tensors", "n_kv"};
  for (int i = 0; i < 2; ++i) {
    uint64_t at = pos_;
    if (!take(counts[i])) return truncated(std::string(names[i]) + " (truncated header)", 8);
    if (counts[i] < 0) {
      return fail(at, names[i], "negative count " + std::to_string(counts[i]));
    }
  }
  n_tensors = static_cast<uint64_t>(counts[0]);
  n_kv = static_cast<uint64_t>(counts[1]);
  // Bound both counts by the bytes left, so no reserve() below can be absurd.
  if (n_kv > remaining() / kMinKvBytes) {
    return fail(16, "n_kv",
                "count " + std::to_string(n_kv) + " cannot fit in the " +
                    std::to_string(remaining()) + " bytes that follow the header");
  }
  if (n_tensors > (remaining() - n_kv * kMinKvBytes) / kMinTensorInfoBytes) {
    return fail(8, "n_tensors",
                "count " + std::to_string(n_tensors) + " cannot fit in the " +
                    std::to_string(remaining()) + " bytes that follow the header");
  }
  return {};
}

Status Parser::parse_kv(Parsed& out, uint64_t index) {
  uint64_t at = pos_;
  Result<std::string_view> key = read_string("key of kv #" + std::to_string(index));
  if (!key.ok()) return Error{key.error()};
  std::string field = "key " + quoted(*key);

  if (auto it = out.key_index.find(*key); it != out.key_index.end()) {
    return fail(
        at, field,
        "duplicate key (first at offset " + std::to_string(out.metadata[it->second].offset) + ")");
  }
  uint64_t type_at = pos_;
  uint32_t type = 0;
  if (!take(type)) return truncated(field + " value type", sizeof(type));
  if (!is_known_value_type(type)) {
    return fail(type_at, field, "unknown value type " + std::to_string(type));
  }
  KeyValue kv;
  kv.key = *key;
  kv.offset = at;
  SMOL_TRY(parse_value(static_cast<ValueType>(type), field, kv.value));

  if (kv.key == "general.alignment") {
    if (kv.value.type() != ValueType::U32) {
      return fail(type_at, field,
                  "general.alignment has type " + std::string(value_type_name(kv.value.type())) +
                      ", expected u32");
    }
    uint64_t alignment = *kv.value.as_uint();
    if (!std::has_single_bit(alignment)) {
      return fail(type_at + 4, field,
                  "alignment " + std::to_string(alignment) + " is not a power of two");
    }
    out.alignment = static_cast<uint32_t>(alignment);
  }
  out.key_index.emplace(kv.key, out.metadata.size());
  out.metadata.push_back(std::move(kv));
  return {};
}

Status Parser::parse_value(ValueType type, const std::string& field, Value& v) {
  v.type_ = type;
  if (type == ValueType::STRING) {
    Result<std::string_view> s = read_string(field + " value");
    if (!s.ok()) return Error{s.error()};
    v.str_ = *s;
    return {};
  }
  if (type != ValueType::ARRAY) {
    uint32_t size = value_type_size(type);
    uint64_t at = pos_;
    if (remaining() < size) return truncated(field + " value", size);
    std::memcpy(&v.bits_, p_ + pos_, size);
    pos_ += size;
    if (type == ValueType::BOOL && v.bits_ > 1) {
      return fail(at, field, "bool value " + std::to_string(v.bits_) + " is not 0 or 1");
    }
    return {};
  }

  uint64_t elem_at = pos_;
  uint32_t elem = 0;
  if (!take(elem)) return truncated(field + " array element type", sizeof(elem));
  if (!is_known_value_type(elem)) {
    return fail(elem_at, field, "unknown array element type " + std::to_string(elem));
  }
  v.elem_type_ = static_cast<ValueType>(elem);
  if (v.elem_type_ == ValueType::ARRAY) {
    return fail(elem_at, field, "arrays of arrays are not supported");
  }
  uint64_t count_at = pos_;
  if (!take(v.count_)) return truncated(field + " array count", sizeof(v.count_));
  uint32_t elem_size = value_type_size(v.elem_type_);
  uint64_t min_elem_bytes = elem_size ? elem_size : sizeof(uint64_t);  // a string: its length
  if (v.count_ > remaining() / min_elem_bytes) {
    return fail(count_at, field,
                "array count " + std::to_string(v.count_) + " of " +
                    std::string(value_type_name(v.elem_type_)) + " does not fit in the " +
                    std::to_string(remaining()) + " bytes that remain");
  }
  if (elem_size) {
    v.raw_ = {p_ + pos_, v.count_ * elem_size};
    if (v.elem_type_ == ValueType::BOOL) {
      for (uint64_t i = 0; i < v.count_; ++i) {
        if (v.raw_[i] > 1) {
          return fail(pos_ + i, field,
                      "bool element " + std::to_string(i) + " = " + std::to_string(v.raw_[i]) +
                          " is not 0 or 1");
        }
      }
    }
    pos_ += v.raw_.size();
    return {};
  }
  v.strings_.reserve(v.count_);
  for (uint64_t i = 0; i < v.count_; ++i) {
    uint64_t at = pos_;
    uint64_t len = 0;
    if (!take(len)) {
      return truncated("element " + std::to_string(i) + " of " + field + " (length)", 8);
    }
    if (len > remaining()) {
      return fail(at, "element " + std::to_string(i) + " of " + field,
                  "string length " + std::to_string(len) + " runs past end of file (" +
                      std::to_string(remaining()) + " bytes remain)");
    }
    v.strings_.emplace_back(reinterpret_cast<const char*>(p_ + pos_), len);
    pos_ += len;
  }
  return {};
}

Status Parser::parse_tensor_info(Parsed& out, uint64_t index, std::vector<uint64_t>& info_at) {
  uint64_t at = pos_;
  std::string name_field = "name of tensor #" + std::to_string(index);
  Result<std::string_view> name = read_string(name_field);
  if (!name.ok()) return Error{name.error()};
  if (name->size() > kMaxNameBytes) {
    return fail(at, name_field,
                "name of " + std::to_string(name->size()) + " bytes exceeds the " +
                    std::to_string(kMaxNameBytes) + "-byte limit");
  }
  std::string field = "tensor " + quoted(*name);
  if (auto it = out.tensor_index.find(*name); it != out.tensor_index.end()) {
    return fail(at, field,
                "duplicate tensor name (first is tensor #" + std::to_string(it->second) + ")");
  }

  TensorInfo t;
  t.name = *name;
  uint64_t dims_at = pos_;
  if (!take(t.n_dims)) return truncated(field + " n_dims", sizeof(t.n_dims));
  if (t.n_dims < 1 || t.n_dims > kMaxDims) {
    return fail(
        dims_at, field,
        "n_dims " + std::to_string(t.n_dims) + " out of range 1.." + std::to_string(kMaxDims));
  }
  for (uint32_t d = 0; d < t.n_dims; ++d) {
    uint64_t ne_at = pos_;
    if (!take(t.ne[d])) return truncated(field + " ne[" + std::to_string(d) + "]", 8);
    if (t.ne[d] < 1) {
      return fail(
          ne_at, field,
          "dimension ne[" + std::to_string(d) + "] = " + std::to_string(t.ne[d]) + " must be >= 1");
    }
  }
  uint64_t type_at = pos_;
  uint32_t type = 0;
  if (!take(type)) return truncated(field + " type", sizeof(type));
  t.type = static_cast<TensorType>(type);
  if (!type_traits(t.type)) {
    return fail(type_at, field, "unknown tensor type " + std::to_string(type));
  }
  uint64_t offset_at = pos_;
  if (!take(t.offset)) return truncated(field + " offset", sizeof(t.offset));

  Result<uint64_t> n_bytes = tensor_bytes(t.type, t.shape());
  if (!n_bytes.ok()) return fail(dims_at, field, n_bytes.error());
  t.n_bytes = *n_bytes;
  t.n_elements = static_cast<uint64_t>(t.ne[0] * t.ne[1] * t.ne[2] * t.ne[3]);  // checked above
  if (t.offset % out.alignment != 0) {
    return fail(offset_at, field,
                "data offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
                    std::to_string(out.alignment));
  }
  out.tensor_index.emplace(t.name, out.tensors.size());
  out.tensors.push_back(t);
  info_at.push_back(at);
  return {};
}

Status Parser::check_tensor_data(Parsed& out, const std::vector<uint64_t>& info_at) {
  uint64_t data_size = out.data_offset <= size_ ? size_ - out.data_offset : 0;
  for (size_t i = 0; i < out.tensors.size(); ++i) {
    TensorInfo& t = out.tensors[i];
    if (out.data_offset > size_ || t.offset > data_size || t.n_bytes > data_size - t.offset) {
      return fail(info_at[i], "tensor " + quoted(t.name),
                  "data [" + std::to_string(t.offset) + ", +" + std::to_string(t.n_bytes) +
                      ") runs past end of file (data section at " +
                      std::to_string(out.data_offset) + " holds " + std::to_string(data_size) +
                      " bytes)");
    }
    t.data = p_ + out.data_offset + t.offset;
  }
  std::vector<size_t> order(out.tensors.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return out.tensors[a].offset < out.tensors[b].offset ||
           (out.tensors[a].offset == out.tensors[b].offset && a < b);
  });
  for (size_t k = 1; k < order.size(); ++k) {
    const TensorInfo& prev = out.tensors[order[k - 1]];
    const TensorInfo& cur = out.tensors[order[k]];
    if (prev.offset + prev.n_bytes > cur.offset) {  // both end inside the file: no overflow
      size_t later = std::max(order[k - 1], order[k]);
      size_t earlier = std::min(order[k - 1], order[k]);
      const TensorInfo& a = out.tensors[earlier];
      const TensorInfo& b = out.tensors[later];
      return fail(info_at[later], "tensor " + quoted(b.name),
                  "data [" + std::to_string(b.offset) + ", " +
                      std::to_string(b.offset + b.n_bytes) + ") overlaps tensor " + quoted(a.name) +
                      " [" + std::to_string(a.offset) + ", " +
                      std::to_string(a.offset + a.n_bytes) + ")");
    }
  }
  return {};
}

}  // namespace smol::gguf::detail
