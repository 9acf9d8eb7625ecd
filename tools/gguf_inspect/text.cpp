// Human-readable report: header, metadata, tensor table, per-type totals, architecture summary.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>

#include "summary.h"

namespace smol::inspect {
namespace {

using gguf::Value;
using gguf::ValueType;

constexpr size_t kMaxStringShown = 60;  // characters of a string value before "..."
constexpr uint64_t kArrayHead = 8;      // elements shown of a long array

// A string for one line of a terminal: control bytes escaped, long values cut.
std::string printable(std::string_view s, size_t max_chars, bool quote = true) {
  std::string out = quote ? "\"" : "";
  size_t n = std::min(s.size(), max_chars);
  while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) {
    --n;  // never cut inside a UTF-8 sequence
  }
  size_t i = 0;
  for (; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (quote) out += "\"";
  if (i < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
  return out;
}

// f32 values with the digits an f32 carries (1e-06, not 9.99999997e-07).
std::string number(double v, bool is_f32 = false) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), is_f32 ? "%.7g" : "%.17g", v);
  return buf;
}

std::string scalar(const Value& v) {
  switch (v.type()) {
    case ValueType::BOOL:
      return *v.as_bool() ? "true" : "false";
    case ValueType::STRING:
      return printable(*v.as_string(), kMaxStringShown);
    case ValueType::F32:
      return number(*v.as_float(), true);
    case ValueType::F64:
      return number(*v.as_float());
    case ValueType::U64:
      return std::to_string(*v.as_uint());
    default:
      return std::to_string(*v.as_int());
  }
}

std::string element(const Value& v, uint64_t i) {
  switch (v.elem_type()) {
    case ValueType::STRING:
      return printable(v.strings()[i], 24);
    case ValueType::BOOL:
      return v.raw()[i] ? "true" : "false";
    case ValueType::F32:
      return number(v.float_at(i), true);
    case ValueType::F64:
      return number(v.float_at(i));
    default:
      return std::to_string(v.int_at(i));
  }
}

std::string array(const Value& v) {
  std::string out = "[";
  uint64_t shown = v.count() <= 2 * kArrayHead ? v.count() : kArrayHead;
  for (uint64_t i = 0; i < shown; ++i) {
    if (i) out += ", ";
    out += element(v, i);
  }
  if (shown < v.count())
    out.append(", ... ").append(std::to_string(v.count() - shown)).append(" more");
  return out.append("]");
}

std::string type_label(const Value& v) {
  if (!v.is_array()) return std::string(gguf::value_type_name(v.type()));
  std::string out = "[";
  out.append(gguf::value_type_name(v.elem_type())).append(" x ");
  return out.append(std::to_string(v.count())).append("]");
}

std::string shape(const gguf::TensorInfo& t) {
  std::string out;
  for (uint32_t d = 0; d < t.n_dims; ++d) {
    if (d) out += " x ";
    out += std::to_string(t.ne[d]);
  }
  return out;
}

template <typename T>
std::string opt(const std::optional<T>& v) {
  if (!v) return "?";
  if constexpr (std::is_floating_point_v<T>) {
    return number(*v, true);
  } else {
    return std::to_string(*v);
  }
}

void print_arch(const ArchSummary& a) {
  std::printf("\n== %s summary\n", a.architecture.c_str());
  std::printf("  layers %s, hidden %s, ffn %s, heads %s, kv heads %s, head dim %s\n",
              opt(a.n_layer).c_str(), opt(a.n_embd).c_str(), opt(a.n_ff).c_str(),
              opt(a.n_head).c_str(), opt(a.n_head_kv).c_str(), opt(a.head_dim).c_str());
  std::printf("  vocab %s (tokens array; vocab_size key %s), context %s\n", opt(a.n_vocab).c_str(),
              opt(a.n_vocab_key).c_str(), opt(a.n_ctx).c_str());
  std::printf("  rope base %s, rms eps %s\n", opt(a.rope_freq_base).c_str(),
              opt(a.rms_eps).c_str());
  if (a.architecture == "smollm3") {
    std::string nope;
    for (int64_t il : a.nope_layers)
      nope.append(nope.empty() ? "" : ",").append(std::to_string(il));
    std::printf("  NoPE layers (no RoPE, (il+1) %% 4 == 0): %s (%zu)\n",
                nope.empty() ? "none" : nope.c_str(), a.nope_layers.size());
  }
  std::printf("  tied embeddings: %s\n",
              a.tied_embeddings ? "yes (no output.weight; logits use token_embd.weight)" : "no");
  std::printf("  bos %s, eos %s, pad %s\n", opt(a.bos_id).c_str(), opt(a.eos_id).c_str(),
              opt(a.pad_id).c_str());
  std::string specials;
  for (const SpecialToken& t : a.special_tokens) {
    specials.append(specials.empty() ? "" : ", ").append(t.text).append(" ").append(opt(t.id));
  }
  std::printf("  special tokens: %s\n", specials.c_str());
}

}  // namespace

int print_text(const gguf::File& file, const std::string& path) {
  std::printf("file         %s\n", path.c_str());
  std::printf("version      %u\n", file.version());
  std::printf("file bytes   %" PRIu64 "\n", file.file_size());
  std::printf("alignment    %u\n", file.alignment());
  std::printf("data offset  %" PRIu64 "\n", file.data_offset());
  std::printf("metadata     %zu keys\n", file.metadata().size());
  std::printf("tensors      %zu\n", file.tensors().size());

  std::printf("\n== metadata\n");
  for (const gguf::KeyValue& kv : file.metadata()) {
    std::string value = kv.value.is_array() ? array(kv.value) : scalar(kv.value);
    std::printf("  %-44s %-16s %s\n", printable(kv.key, 80, false).c_str(),
                type_label(kv.value).c_str(), value.c_str());
  }

  std::printf("\n== tensors\n");
  std::printf("  %5s  %-32s %-7s %-20s %12s %12s\n", "#", "name", "type", "shape (ne0 first)",
              "bytes", "offset");
  for (size_t i = 0; i < file.tensors().size(); ++i) {
    const gguf::TensorInfo& t = file.tensors()[i];
    std::printf("  %5zu  %-32s %-7s %-20s %12" PRIu64 " %12" PRIu64 "\n", i,
                std::string(t.name).c_str(), std::string(gguf::type_name(t.type)).c_str(),
                shape(t).c_str(), t.n_bytes, t.offset);
  }

  Totals totals = compute_totals(file);
  std::printf("\n== tensor types\n");
  for (const auto& [id, row] : totals.by_type) {
    std::printf("  %-7s %5" PRIu64 " tensors %14" PRIu64 " params %14" PRIu64 " bytes\n",
                std::string(gguf::type_name(static_cast<gguf::TensorType>(id))).c_str(),
                row.n_tensors, row.n_params, row.n_bytes);
  }
  double bits = totals.n_params ? 8.0 * static_cast<double>(totals.n_bytes) /
                                      static_cast<double>(totals.n_params)
                                : 0.0;
  std::printf("  total   %5zu tensors %14" PRIu64 " params %14" PRIu64 " bytes (%.2f bits/param)\n",
              file.tensors().size(), totals.n_params, totals.n_bytes, bits);

  ArchSummary arch = compute_arch(file);
  if (!arch.architecture.empty()) print_arch(arch);
  return 0;
}

}  // namespace smol::inspect
