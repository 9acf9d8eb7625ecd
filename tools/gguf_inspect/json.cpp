// --json: one JSON object (ordered as in the file) for scripts and tests.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <nlohmann/json.hpp>

#include "summary.h"

namespace smol::inspect {
namespace {

using gguf::Value;
using gguf::ValueType;
using Json = nlohmann::ordered_json;

constexpr uint64_t kFullArrayMax = 64;  // arrays up to this length are printed whole
constexpr uint64_t kArrayHead = 16;     // elements kept of a longer array

// An f32 as the shortest decimal that reads back to the same f32 (1e-06, not
// 9.999999974752427e-07), so JSON shows what the file's writer meant.
double f32_shortest(double v) {
  float f = static_cast<float>(v);
  for (int digits = 1; digits <= 9; ++digits) {
    char buf[40];
    std::snprintf(buf, sizeof(buf), "%.*g", digits, static_cast<double>(f));
    double back = std::strtod(buf, nullptr);
    if (static_cast<float>(back) == f) return back;
  }
  return v;
}

Json scalar(const Value& v) {
  switch (v.type()) {
    case ValueType::BOOL:
      return *v.as_bool();
    case ValueType::STRING:
      return std::string(*v.as_string());
    case ValueType::F32:
      return f32_shortest(*v.as_float());
    case ValueType::F64:
      return *v.as_float();
    case ValueType::U64:
      return *v.as_uint();
    default:
      return *v.as_int();
  }
}

Json element(const Value& v, uint64_t i) {
  switch (v.elem_type()) {
    case ValueType::STRING:
      return std::string(v.strings()[i]);
    case ValueType::BOOL:
      return v.raw()[i] != 0;
    case ValueType::F32:
      return f32_shortest(v.float_at(i));
    case ValueType::F64:
      return v.float_at(i);
    case ValueType::U64: {
      uint64_t u = 0;
      std::memcpy(&u, v.raw().data() + i * 8, 8);
      return u;
    }
    default:
      return v.int_at(i);
  }
}

Json value(const Value& v) {
  if (!v.is_array()) return scalar(v);
  Json items = Json::array();
  uint64_t shown = v.count() <= kFullArrayMax ? v.count() : kArrayHead;
  for (uint64_t i = 0; i < shown; ++i) items.push_back(element(v, i));
  if (shown == v.count()) return items;
  return Json{{"type", "array"},
              {"elem_type", gguf::value_type_name(v.elem_type())},
              {"count", v.count()},
              {"head", items}};
}

template <typename T>
Json opt(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

// A float hyper-parameter, shortened when the file stores it as f32.
Json float_param(const gguf::File& file, const std::string& key, const std::optional<double>& v) {
  if (!v) return nullptr;
  const Value* stored = file.find(key);
  return stored && stored->type() == ValueType::F32 ? f32_shortest(*v) : *v;
}

Json arch_json(const gguf::File& file, const ArchSummary& a) {
  const std::string p = a.architecture + ".";
  Json special = Json::object();
  for (const SpecialToken& t : a.special_tokens) special[t.text] = opt(t.id);
  return Json{{"architecture", a.architecture},
              {"n_layer", opt(a.n_layer)},
              {"n_embd", opt(a.n_embd)},
              {"n_ff", opt(a.n_ff)},
              {"n_head", opt(a.n_head)},
              {"n_head_kv", opt(a.n_head_kv)},
              {"head_dim", opt(a.head_dim)},
              {"vocab_size", opt(a.n_vocab)},
              {"vocab_size_key", opt(a.n_vocab_key)},
              {"context_length", opt(a.n_ctx)},
              {"rope_freq_base", float_param(file, p + "rope.freq_base", a.rope_freq_base)},
              {"rms_eps", float_param(file, p + "attention.layer_norm_rms_epsilon", a.rms_eps)},
              {"nope_layers", a.nope_layers},
              {"tied_embeddings", a.tied_embeddings},
              {"bos_token_id", opt(a.bos_id)},
              {"eos_token_id", opt(a.eos_id)},
              {"padding_token_id", opt(a.pad_id)},
              {"special_tokens", special}};
}

}  // namespace

int print_json(const gguf::File& file) {
  Json metadata = Json::object();
  for (const gguf::KeyValue& kv : file.metadata()) metadata[std::string(kv.key)] = value(kv.value);

  Json tensors = Json::array();
  for (const gguf::TensorInfo& t : file.tensors()) {
    tensors.push_back(
        Json{{"name", std::string(t.name)},
             {"type", gguf::type_name(t.type)},
             {"shape", Json(std::vector<int64_t>(t.ne.begin(), t.ne.begin() + t.n_dims))},
             {"offset", t.offset},
             {"bytes", t.n_bytes}});
  }
  Totals totals = compute_totals(file);
  Json type_counts = Json::object();
  for (const auto& [id, row] : totals.by_type) {
    type_counts[std::string(gguf::type_name(static_cast<gguf::TensorType>(id)))] = row.n_tensors;
  }
  ArchSummary arch = compute_arch(file);

  Json out{{"version", file.version()},
           {"architecture", arch.architecture.empty() ? Json(nullptr) : Json(arch.architecture)},
           {"file_bytes", file.file_size()},
           {"alignment", file.alignment()},
           {"data_offset", file.data_offset()},
           {"n_tensors", file.tensors().size()},
           {"n_kv", file.metadata().size()},
           {"n_params", totals.n_params},
           {"tensor_bytes", totals.n_bytes},
           {"type_counts", type_counts},
           {"arch", arch_json(file, arch)},
           {"metadata", metadata},
           {"tensors", tensors}};
  // Strings in a GGUF need not be valid UTF-8; replace bad bytes rather than throw.
  std::string text = out.dump(1, ' ', false, Json::error_handler_t::replace);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
  return 0;
}

}  // namespace smol::inspect
