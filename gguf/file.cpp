// File: owns the bytes (a read-only mapping or a vector) and the parse result, and answers typed
// metadata queries.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "parser.h"

namespace smol::gguf {

// Page-aligned storage for in-memory images, so tensor data has the same memory alignment as in
// a mapped file (kernels may rely on 32- or 64-byte aligned rows).
constexpr std::align_val_t kPageAlign{4096};
struct AlignedDelete {
  void operator()(uint8_t* p) const { ::operator delete[](p, kPageAlign); }
};

struct File::Impl {
  void* map = nullptr;  // mmap'ed file, or nullptr when `owned` holds the bytes
  size_t map_size = 0;
  std::unique_ptr<uint8_t[], AlignedDelete> owned;
  std::span<const uint8_t> bytes;
  detail::Parsed parsed;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (map) munmap(map, map_size);
  }

  Status parse() { return detail::Parser(bytes).parse(parsed); }
};

namespace {

std::string describe(const Value& v) {
  if (!v.is_array()) return std::string(value_type_name(v.type()));
  return "array of " + std::string(value_type_name(v.elem_type()));
}

}  // namespace

File::File(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
File::File(File&&) noexcept = default;
File& File::operator=(File&&) noexcept = default;
File::~File() = default;

Result<File> File::open(const std::string& path) {
  auto impl = std::make_unique<Impl>();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{"gguf: " + path + ": cannot open: " + std::strerror(errno)};
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    int err = errno;
    ::close(fd);
    return Error{"gguf: " + path + ": not a regular file" +
                 (err ? std::string(": ") + std::strerror(err) : std::string())};
  }
  if (st.st_size > 0) {
    impl->map_size = static_cast<size_t>(st.st_size);
    void* map = mmap(nullptr, impl->map_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      return Error{"gguf: " + path + ": cannot map: " + std::strerror(err)};
    }
    impl->map = map;
    impl->bytes = {static_cast<const uint8_t*>(map), impl->map_size};
  }
  ::close(fd);  // the mapping keeps the file alive
  Status parsed = impl->parse();
  if (!parsed.ok()) return Error{"gguf: " + path + ": " + parsed.error()};
  return File(std::move(impl));
}

Result<File> File::from_bytes(std::vector<uint8_t> bytes) {
  auto impl = std::make_unique<Impl>();
  impl->owned.reset(static_cast<uint8_t*>(::operator new[](bytes.size(), kPageAlign)));
  if (!bytes.empty()) std::memcpy(impl->owned.get(), bytes.data(), bytes.size());
  impl->bytes = {impl->owned.get(), bytes.size()};
  Status st = impl->parse();
  if (!st.ok()) return Error{"gguf: " + st.error()};
  return File(std::move(impl));
}

uint32_t File::version() const { return impl_->parsed.version; }
uint32_t File::alignment() const { return impl_->parsed.alignment; }
uint64_t File::data_offset() const { return impl_->parsed.data_offset; }
uint64_t File::file_size() const { return impl_->bytes.size(); }
std::span<const uint8_t> File::bytes() const { return impl_->bytes; }
const std::vector<KeyValue>& File::metadata() const { return impl_->parsed.metadata; }
const std::vector<TensorInfo>& File::tensors() const { return impl_->parsed.tensors; }

const Value* File::find(std::string_view key) const {
  auto it = impl_->parsed.key_index.find(key);
  return it == impl_->parsed.key_index.end() ? nullptr : &impl_->parsed.metadata[it->second].value;
}

const TensorInfo* File::find_tensor(std::string_view name) const {
  auto it = impl_->parsed.tensor_index.find(name);
  return it == impl_->parsed.tensor_index.end() ? nullptr : &impl_->parsed.tensors[it->second];
}

namespace {

Error missing(std::string_view key) {
  return Error{"gguf: key " + detail::quoted(key) + " not found"};
}

Error wrong_type(std::string_view key, const Value& v, std::string_view expected) {
  return Error{"gguf: key " + detail::quoted(key) + " has type " + describe(v) + ", expected " +
               std::string(expected)};
}

// The value of `key` if it has scalar type `type`.
Result<const Value*> scalar(const File& f, std::string_view key, ValueType type) {
  const Value* v = f.find(key);
  if (!v) return missing(key);
  if (v->type() != type) return wrong_type(key, *v, value_type_name(type));
  return v;
}

Result<const Value*> array_of(const File& f, std::string_view key, ValueType elem) {
  const Value* v = f.find(key);
  if (!v) return missing(key);
  if (!v->is_array() || v->elem_type() != elem) {
    return wrong_type(key, *v, "array of " + std::string(value_type_name(elem)));
  }
  return v;
}

template <typename T>
Result<T> get_int_as(const File& f, std::string_view key, ValueType type) {
  Result<const Value*> v = scalar(f, key, type);
  if (!v.ok()) return Error{v.error()};
  if (type == ValueType::U64) return static_cast<T>(*(*v)->as_uint());
  return static_cast<T>(*(*v)->as_int());
}

template <typename T>
Result<std::vector<T>> get_array_as(const File& f, std::string_view key, ValueType elem) {
  Result<const Value*> v = array_of(f, key, elem);
  if (!v.ok()) return Error{v.error()};
  std::span<const uint8_t> raw = (*v)->raw();
  std::vector<T> out((*v)->count());
  if (!raw.empty()) std::memcpy(out.data(), raw.data(), raw.size());
  return out;
}

}  // namespace

Result<uint8_t> File::get_u8(std::string_view key) const {
  return get_int_as<uint8_t>(*this, key, ValueType::U8);
}
Result<uint16_t> File::get_u16(std::string_view key) const {
  return get_int_as<uint16_t>(*this, key, ValueType::U16);
}
Result<uint32_t> File::get_u32(std::string_view key) const {
  return get_int_as<uint32_t>(*this, key, ValueType::U32);
}
Result<int32_t> File::get_i32(std::string_view key) const {
  return get_int_as<int32_t>(*this, key, ValueType::I32);
}
Result<uint64_t> File::get_u64(std::string_view key) const {
  return get_int_as<uint64_t>(*this, key, ValueType::U64);
}
Result<int64_t> File::get_i64(std::string_view key) const {
  return get_int_as<int64_t>(*this, key, ValueType::I64);
}

Result<float> File::get_f32(std::string_view key) const {
  Result<const Value*> v = scalar(*this, key, ValueType::F32);
  if (!v.ok()) return Error{v.error()};
  return static_cast<float>(*(*v)->as_float());
}

Result<double> File::get_f64(std::string_view key) const {
  Result<const Value*> v = scalar(*this, key, ValueType::F64);
  if (!v.ok()) return Error{v.error()};
  return *(*v)->as_float();
}

Result<bool> File::get_bool(std::string_view key) const {
  Result<const Value*> v = scalar(*this, key, ValueType::BOOL);
  if (!v.ok()) return Error{v.error()};
  return *(*v)->as_bool();
}

Result<std::string_view> File::get_string(std::string_view key) const {
  Result<const Value*> v = scalar(*this, key, ValueType::STRING);
  if (!v.ok()) return Error{v.error()};
  return *(*v)->as_string();
}

Result<int64_t> File::get_int(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(key);
  std::optional<int64_t> i = v->as_int();
  if (!i) {
    if (v->type() == ValueType::U64) {
      return Error{"gguf: key " + detail::quoted(key) + " = " + std::to_string(*v->as_uint()) +
                   " does not fit in int64"};
    }
    return wrong_type(key, *v, "an integer");
  }
  return *i;
}

Result<double> File::get_float(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(key);
  std::optional<double> f = v->as_float();
  if (!f) return wrong_type(key, *v, "f32 or f64");
  return *f;
}

Result<std::span<const std::string_view>> File::get_string_array(std::string_view key) const {
  Result<const Value*> v = array_of(*this, key, ValueType::STRING);
  if (!v.ok()) return Error{v.error()};
  return (*v)->strings();
}

Result<std::vector<int32_t>> File::get_i32_array(std::string_view key) const {
  return get_array_as<int32_t>(*this, key, ValueType::I32);
}
Result<std::vector<uint32_t>> File::get_u32_array(std::string_view key) const {
  return get_array_as<uint32_t>(*this, key, ValueType::U32);
}
Result<std::vector<float>> File::get_f32_array(std::string_view key) const {
  return get_array_as<float>(*this, key, ValueType::F32);
}

Result<std::vector<int64_t>> File::get_int_array(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(key);
  uint32_t size = v->is_array() ? value_type_size(v->elem_type()) : 0;
  bool integer = size != 0 && v->elem_type() != ValueType::BOOL &&
                 v->elem_type() != ValueType::F32 && v->elem_type() != ValueType::F64;
  if (!integer) return wrong_type(key, *v, "array of integers");
  std::vector<int64_t> out(v->count());
  for (uint64_t i = 0; i < v->count(); ++i) out[i] = v->int_at(i);
  return out;
}

Result<const Value*> File::get_array(std::string_view key) const {
  const Value* v = find(key);
  if (!v) return missing(key);
  if (!v->is_array()) return wrong_type(key, *v, "array");
  return v;
}

}  // namespace smol::gguf
