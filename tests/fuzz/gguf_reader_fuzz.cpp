// libFuzzer target for the GGUF reader. Any input must either be refused with a one-line message
// or parse into a File whose every view lies inside the input; a parsed file must also survive a
// Writer round trip with identical metadata and tensor bytes.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "smol/gguf.h"

namespace {

using smol::gguf::File;
using smol::gguf::KeyValue;
using smol::gguf::TensorInfo;
using smol::gguf::Value;
using smol::gguf::ValueType;

// Writer round trips pad to the alignment; keep them cheap for the fuzzer.
constexpr uint32_t kMaxRoundTripAlignment = 4096;

#define FUZZ_CHECK(cond)  \
  do {                    \
    if (!(cond)) abort(); \
  } while (0)

bool inside(const File& f, const void* p, uint64_t n) {
  const uint8_t* b = f.bytes().data();
  const uint8_t* q = static_cast<const uint8_t*>(p);
  return q >= b && static_cast<uint64_t>(q - b) <= f.file_size() &&
         n <= f.file_size() - static_cast<uint64_t>(q - b);
}

uint64_t touch_value(const File& f, const Value& v) {
  uint64_t h = static_cast<uint64_t>(v.type());
  if (v.as_int()) h += static_cast<uint64_t>(*v.as_int());
  if (v.as_float()) h += static_cast<uint64_t>(*v.as_float() != 0);
  if (auto s = v.as_string()) {
    FUZZ_CHECK(s->empty() || inside(f, s->data(), s->size()));
    h += s->size();
  }
  if (v.is_array()) {
    uint32_t size = smol::gguf::value_type_size(v.elem_type());
    if (size) {
      FUZZ_CHECK(v.raw().size() == v.count() * size);
      FUZZ_CHECK(v.raw().empty() || inside(f, v.raw().data(), v.raw().size()));
      for (uint64_t i = 0; i < v.count(); ++i) {
        bool is_float = v.elem_type() == ValueType::F32 || v.elem_type() == ValueType::F64;
        if (is_float) {
          h += v.float_at(i) != 0;
        } else if (v.elem_type() != ValueType::BOOL) {
          h += static_cast<uint64_t>(v.int_at(i));
        }
      }
    } else {
      FUZZ_CHECK(v.strings().size() == v.count());
      for (std::string_view s : v.strings()) {
        FUZZ_CHECK(s.empty() || inside(f, s.data(), s.size()));
        h += s.size();
      }
    }
  }
  return h;
}

void round_trip(const File& f) {
  if (f.alignment() > kMaxRoundTripAlignment) return;
  smol::gguf::Writer w;
  for (const KeyValue& kv : f.metadata()) w.set_value(kv.key, kv.value);
  for (const TensorInfo& t : f.tensors()) {
    FUZZ_CHECK(w.add_tensor(t.name, t.type, t.shape(), t.bytes()).ok());
  }
  smol::Result<std::vector<uint8_t>> bytes = w.to_bytes();
  FUZZ_CHECK(bytes.ok());
  smol::Result<File> g = File::from_bytes(std::move(*bytes));
  FUZZ_CHECK(g.ok());
  FUZZ_CHECK(g->metadata().size() == f.metadata().size());
  for (size_t i = 0; i < f.metadata().size(); ++i) {
    const KeyValue& a = f.metadata()[i];
    const KeyValue& b = g->metadata()[i];
    FUZZ_CHECK(a.key == b.key && a.value.type() == b.value.type());
    FUZZ_CHECK(a.value.count() == b.value.count());
    FUZZ_CHECK(a.value.raw().size() == b.value.raw().size());
    FUZZ_CHECK(a.value.raw().empty() ||
               std::memcmp(a.value.raw().data(), b.value.raw().data(), a.value.raw().size()) == 0);
    FUZZ_CHECK(a.value.as_string() == b.value.as_string());
    FUZZ_CHECK(a.value.as_int() == b.value.as_int());
    for (size_t k = 0; k < a.value.strings().size(); ++k) {
      FUZZ_CHECK(a.value.strings()[k] == b.value.strings()[k]);
    }
  }
  FUZZ_CHECK(g->tensors().size() == f.tensors().size());
  for (size_t i = 0; i < f.tensors().size(); ++i) {
    const TensorInfo& a = f.tensors()[i];
    const TensorInfo& b = g->tensors()[i];
    FUZZ_CHECK(a.name == b.name && a.type == b.type && a.ne == b.ne && a.n_bytes == b.n_bytes);
    FUZZ_CHECK(std::memcmp(a.data, b.data, a.n_bytes) == 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  smol::Result<File> f = File::from_bytes(std::vector<uint8_t>(data, data + size));
  if (!f.ok()) {
    FUZZ_CHECK(f.error().rfind("gguf: ", 0) == 0);
    FUZZ_CHECK(f.error().find('\n') == std::string::npos);
    return 0;
  }
  uint64_t h = 0;
  for (const KeyValue& kv : f->metadata()) {
    h += touch_value(*f, kv.value);
    FUZZ_CHECK(f->find(kv.key) == &kv.value);
  }
  // Typed accessors on whatever keys exist (a wrong type must be an error, never a crash).
  for (const KeyValue& kv : f->metadata()) {
    h += f->get_u32(kv.key).ok() + f->get_int(kv.key).ok() + f->get_float(kv.key).ok() +
         f->get_string_array(kv.key).ok() + f->get_int_array(kv.key).ok() +
         f->get_f32_array(kv.key).ok() + f->get_string(kv.key).ok();
  }
  FUZZ_CHECK(f->data_offset() % f->alignment() == 0);
  for (const TensorInfo& t : f->tensors()) {
    FUZZ_CHECK(t.n_dims >= 1 && t.n_dims <= smol::gguf::kMaxDims);
    FUZZ_CHECK(t.offset % f->alignment() == 0);
    FUZZ_CHECK(inside(*f, t.data, t.n_bytes));
    FUZZ_CHECK(f->find_tensor(t.name) == &t);
    h += t.data[0] + t.data[t.n_bytes - 1];
  }
  round_trip(*f);
  volatile uint64_t sink = h;
  (void)sink;
  return 0;
}
