// Writer: metadata is encoded as it is set; tensor data is pulled from the callers' TensorFill
// callbacks one tensor at a time while the file is written.
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <unordered_map>

#include "smol/gguf.h"

namespace smol::gguf {
namespace {

constexpr size_t kMaxNameBytes = 63;

void put_bytes(std::vector<uint8_t>& out, const void* p, size_t n) {
  const uint8_t* b = static_cast<const uint8_t*>(p);
  out.insert(out.end(), b, b + n);
}

template <typename T>
void put(std::vector<uint8_t>& out, T v) {
  put_bytes(out, &v, sizeof(T));
}

void put_string(std::vector<uint8_t>& out, std::string_view s) {
  put<uint64_t>(out, s.size());
  put_bytes(out, s.data(), s.size());
}

// Destination of the encoded file: a FILE* or a byte vector.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual Status write(const uint8_t* p, size_t n) = 0;
  Status pad_to(uint64_t& pos, uint64_t alignment) {
    static const uint8_t kZeros[64] = {};
    while (pos % alignment != 0) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(alignment - pos % alignment, 64));
      SMOL_TRY(write(kZeros, n));
      pos += n;
    }
    return {};
  }
};

class VectorSink : public Sink {
 public:
  explicit VectorSink(std::vector<uint8_t>& out) : out_(out) {}
  Status write(const uint8_t* p, size_t n) override {
    out_.insert(out_.end(), p, p + n);
    return {};
  }

 private:
  std::vector<uint8_t>& out_;
};

class FileSink : public Sink {
 public:
  FileSink(std::FILE* f, const std::string& path) : f_(f), path_(path) {}
  Status write(const uint8_t* p, size_t n) override {
    if (n && std::fwrite(p, 1, n, f_) != n) {
      return Error{"gguf: " + path_ + ": write failed: " + std::strerror(errno)};
    }
    return {};
  }

 private:
  std::FILE* f_;
  const std::string& path_;
};

}  // namespace

struct Writer::Impl {
  struct Kv {
    std::string key;
    std::vector<uint8_t> value;  // i32 type id followed by the encoded value
  };
  struct Tensor {
    std::string name;
    TensorType type;
    std::vector<int64_t> ne;
    uint64_t n_bytes;
    TensorFill fill;
  };
  std::vector<Kv> kvs;
  std::unordered_map<std::string, size_t> kv_index;
  std::vector<Tensor> tensors;
  std::unordered_map<std::string, size_t> tensor_index;

  // Starts (or restarts, keeping its position) the value of `key` with type id `type`.
  std::vector<uint8_t>& begin(std::string_view key, ValueType type) {
    auto [it, inserted] = kv_index.emplace(std::string(key), kvs.size());
    if (inserted) kvs.push_back({std::string(key), {}});
    std::vector<uint8_t>& v = kvs[it->second].value;
    v.clear();
    put<uint32_t>(v, static_cast<uint32_t>(type));
    return v;
  }

  template <typename T>
  void scalar(std::string_view key, ValueType type, T value) {
    put(begin(key, type), value);
  }

  void array(std::string_view key, ValueType elem, const void* data, uint64_t count) {
    std::vector<uint8_t>& v = begin(key, ValueType::ARRAY);
    put<uint32_t>(v, static_cast<uint32_t>(elem));
    put<uint64_t>(v, count);
    put_bytes(v, data, count * value_type_size(elem));
  }

  template <typename S>
  void strings(std::string_view key, std::span<const S> items) {
    std::vector<uint8_t>& v = begin(key, ValueType::ARRAY);
    put<uint32_t>(v, static_cast<uint32_t>(ValueType::STRING));
    put<uint64_t>(v, items.size());
    for (const S& s : items) put_string(v, s);
  }

  Result<uint32_t> alignment() const {
    auto it = kv_index.find("general.alignment");
    if (it == kv_index.end()) return kDefaultAlignment;
    const std::vector<uint8_t>& v = kvs[it->second].value;
    uint32_t type = 0;
    uint32_t alignment = 0;
    std::memcpy(&type, v.data(), 4);
    if (type != static_cast<uint32_t>(ValueType::U32)) {
      return Error{"gguf: general.alignment must be u32"};
    }
    std::memcpy(&alignment, v.data() + 4, 4);
    if (!std::has_single_bit(alignment)) {
      return Error{"gguf: general.alignment " + std::to_string(alignment) +
                   " is not a power of two"};
    }
    return alignment;
  }

  Status emit(Sink& sink) const;
};

Status Writer::Impl::emit(Sink& sink) const {
  Result<uint32_t> align_r = alignment();
  if (!align_r.ok()) return Error{align_r.error()};
  uint64_t alignment = *align_r;

  std::vector<uint8_t> head;
  put_bytes(head, "GGUF", 4);
  put<uint32_t>(head, 3);
  put<int64_t>(head, static_cast<int64_t>(tensors.size()));
  put<int64_t>(head, static_cast<int64_t>(kvs.size()));
  for (const Kv& kv : kvs) {
    put_string(head, kv.key);
    put_bytes(head, kv.value.data(), kv.value.size());
  }
  uint64_t offset = 0;
  for (const Tensor& t : tensors) {
    put_string(head, t.name);
    put<uint32_t>(head, static_cast<uint32_t>(t.ne.size()));
    for (int64_t d : t.ne) put<int64_t>(head, d);
    put<uint32_t>(head, static_cast<uint32_t>(t.type));
    put<uint64_t>(head, offset);
    offset += (t.n_bytes + alignment - 1) / alignment * alignment;
  }
  SMOL_TRY(sink.write(head.data(), head.size()));
  uint64_t pos = head.size();
  head = {};
  SMOL_TRY(sink.pad_to(pos, alignment));

  std::vector<uint8_t> buffer;
  for (const Tensor& t : tensors) {
    buffer.assign(t.n_bytes, 0);  // zeroed, so a short fill still gives deterministic bytes
    Status st = t.fill(buffer);
    if (!st.ok()) return Error{"gguf: filling tensor '" + t.name + "': " + st.error()};
    SMOL_TRY(sink.write(buffer.data(), buffer.size()));
    pos += buffer.size();
    SMOL_TRY(sink.pad_to(pos, alignment));
  }
  return {};
}

Writer::Writer() : impl_(std::make_unique<Impl>()) {}
Writer::~Writer() = default;
Writer::Writer(Writer&&) noexcept = default;
Writer& Writer::operator=(Writer&&) noexcept = default;

void Writer::set_u8(std::string_view k, uint8_t v) { impl_->scalar(k, ValueType::U8, v); }
void Writer::set_i8(std::string_view k, int8_t v) { impl_->scalar(k, ValueType::I8, v); }
void Writer::set_u16(std::string_view k, uint16_t v) { impl_->scalar(k, ValueType::U16, v); }
void Writer::set_i16(std::string_view k, int16_t v) { impl_->scalar(k, ValueType::I16, v); }
void Writer::set_u32(std::string_view k, uint32_t v) { impl_->scalar(k, ValueType::U32, v); }
void Writer::set_i32(std::string_view k, int32_t v) { impl_->scalar(k, ValueType::I32, v); }
void Writer::set_f32(std::string_view k, float v) { impl_->scalar(k, ValueType::F32, v); }
void Writer::set_bool(std::string_view k, bool v) {
  impl_->scalar(k, ValueType::BOOL, static_cast<uint8_t>(v ? 1 : 0));
}
void Writer::set_string(std::string_view k, std::string_view v) {
  put_string(impl_->begin(k, ValueType::STRING), v);
}
void Writer::set_u64(std::string_view k, uint64_t v) { impl_->scalar(k, ValueType::U64, v); }
void Writer::set_i64(std::string_view k, int64_t v) { impl_->scalar(k, ValueType::I64, v); }
void Writer::set_f64(std::string_view k, double v) { impl_->scalar(k, ValueType::F64, v); }

void Writer::set_array(std::string_view k, std::span<const uint8_t> v) {
  impl_->array(k, ValueType::U8, v.data(), v.size());
}
void Writer::set_array(std::string_view k, std::span<const int8_t> v) {
  impl_->array(k, ValueType::I8, v.data(), v.size());
}
void Writer::set_array(std::string_view k, std::span<const uint16_t> v) {
  impl_->array(k, ValueType::U16, v.data(), v.size());
}
void Writer::set_array(std::string_view k, std::span<const int16_t> v) {
  impl_->array(k, ValueType::I16, v.data(), v.size());
}
void Writer::set_array(std::string_view k, std::span<const uint32_t> v) {
  impl_->array(k, ValueType::U32, v.data(), v.size());
}
void Writer::set_array(std::string_view k, std::span<const int32_t> v) {
  impl_->array(k, ValueType::I32, v.data(), v.size());
}
void Writer::set_array(std::string_view k, std::span<const float> v) {
  impl_->array(k, ValueType::F32, v.data(), v.size());
}
void Writer::set_array(std::string_view k, std::span<const bool> v) {
  std::vector<uint8_t> bytes(v.size());
  for (size_t i = 0; i < v.size(); ++i) bytes[i] = v[i] ? 1 : 0;
  impl_->array(k, ValueType::BOOL, bytes.data(), bytes.size());
}
void Writer::set_array(std::string_view k, std::span<const uint64_t> v) {
  impl_->array(k, ValueType::U64, v.data(), v.size());
}
void Writer::set_array(std::string_view k, std::span<const int64_t> v) {
  impl_->array(k, ValueType::I64, v.data(), v.size());
}
void Writer::set_array(std::string_view k, std::span<const double> v) {
  impl_->array(k, ValueType::F64, v.data(), v.size());
}
void Writer::set_string_array(std::string_view k, std::span<const std::string> v) {
  impl_->strings(k, v);
}
void Writer::set_string_array(std::string_view k, std::span<const std::string_view> v) {
  impl_->strings(k, v);
}

void Writer::set_value(std::string_view k, const Value& v) {
  switch (v.type()) {
    case ValueType::STRING:
      set_string(k, *v.as_string());
      return;
    case ValueType::ARRAY:
      if (v.elem_type() == ValueType::STRING) {
        set_string_array(k, v.strings());
      } else {
        impl_->array(k, v.elem_type(), v.raw().data(), v.count());
      }
      return;
    case ValueType::F32:
      set_f32(k, static_cast<float>(*v.as_float()));
      return;
    case ValueType::F64:
      set_f64(k, *v.as_float());
      return;
    case ValueType::BOOL:
      set_bool(k, *v.as_bool());
      return;
    case ValueType::U64:
      set_u64(k, *v.as_uint());
      return;
    default: {
      // Integers of 1..4 bytes and i64: re-encode the low bytes with the same type id.
      int64_t i = *v.as_int();
      std::vector<uint8_t>& out = impl_->begin(k, v.type());
      put_bytes(out, &i, value_type_size(v.type()));
      return;
    }
  }
}

bool Writer::has(std::string_view key) const {
  return impl_->kv_index.count(std::string(key)) != 0;
}
size_t Writer::n_kv() const { return impl_->kvs.size(); }
size_t Writer::n_tensors() const { return impl_->tensors.size(); }

Status Writer::add_tensor(std::string_view name, TensorType type, std::span<const int64_t> ne,
                          TensorFill fill) {
  std::string n(name);
  if (name.size() > kMaxNameBytes) {
    return Error{"gguf: tensor name '" + n + "' is longer than 63 bytes"};
  }
  if (impl_->tensor_index.count(n)) {
    return Error{"gguf: duplicate tensor name '" + n + "'"};
  }
  Result<uint64_t> n_bytes = tensor_bytes(type, ne);
  if (!n_bytes.ok()) return Error{"gguf: tensor '" + n + "': " + n_bytes.error()};
  if (!fill) return Error{"gguf: tensor '" + n + "': no data source"};
  impl_->tensor_index.emplace(n, impl_->tensors.size());
  impl_->tensors.push_back({n, type, {ne.begin(), ne.end()}, *n_bytes, std::move(fill)});
  return {};
}

Status Writer::add_tensor(std::string_view name, TensorType type, std::span<const int64_t> ne,
                          std::span<const uint8_t> data) {
  Result<uint64_t> n_bytes = tensor_bytes(type, ne);
  if (n_bytes.ok() && *n_bytes != data.size()) {
    return Error{"gguf: tensor '" + std::string(name) + "': data has " +
                 std::to_string(data.size()) + " bytes, shape and type need " +
                 std::to_string(*n_bytes)};
  }
  auto copy = std::make_shared<std::vector<uint8_t>>(data.begin(), data.end());
  return add_tensor(name, type, ne, [copy](std::span<uint8_t> out) -> Status {
    std::memcpy(out.data(), copy->data(), copy->size());
    return {};
  });
}

Status Writer::write(const std::string& path) const {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return Error{"gguf: " + path + ": cannot create: " + std::strerror(errno)};
  std::vector<char> buf(1 << 20);
  std::setvbuf(f, buf.data(), _IOFBF, buf.size());
  FileSink sink(f, path);
  Status st = impl_->emit(sink);
  if (std::fclose(f) != 0 && st.ok()) {
    st = Error{"gguf: " + path + ": close failed: " + std::strerror(errno)};
  }
  if (!st.ok()) std::remove(path.c_str());
  return st;
}

Result<std::vector<uint8_t>> Writer::to_bytes() const {
  std::vector<uint8_t> out;
  VectorSink sink(out);
  Status st = impl_->emit(sink);
  if (!st.ok()) return Error{st.error()};
  return out;
}

}  // namespace smol::gguf
